"""The agreement report's files: JSON, disagreements CSV, confusion PNG.

:func:`write_agreement` writes them into a folder; :func:`report_document`
is the JSON (NaN figures become null).  The figure uses a
:class:`matplotlib.figure.Figure` with the Agg canvas, never pyplot.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import os
from typing import List, Optional, Sequence

import numpy as np

from common.numbers import finite_or_none
from fms.agreement import (OVERALL, RISK_LABELS, Agreement, AgreementReport)
from fms.outputs import check_outputs, json_bytes, write_outputs
from fms.protocol import RISK_TOTAL, SCORES, TESTS, Key
from fms.statistics import KAPPA_UNDEFINED_REASON
from fms.tables import kappa_text

#: Files written by :func:`write_agreement`, and the report's format tag.
AGREEMENT_JSON = 'agreement.json'
DISAGREEMENTS_CSV = 'disagreements.csv'
CONFUSION_PNG = 'confusion_matrices.png'
REPORT_FORMAT = 'fms-agreement'
REPORT_VERSION = 1

#: Confusion-matrix figure: panels per row, inches per panel, resolution,
#: and the fraction of the largest count above which a cell's text is white.
PANEL_COLUMNS = 4
PANEL_INCHES = 3.2
FIGURE_DPI = 100
LIGHT_TEXT_FRACTION = 0.5


def _agreement_document(a: Agreement) -> dict:
    return {'n': a.n, 'exact': finite_or_none(a.exact),
            'kappa': finite_or_none(a.kappa),
            'confusion': a.confusion.tolist()}


def _trial_document(key: Key) -> dict:
    return {'subject': key[0], 'test': key[1], 'side': key[2]}


def report_document(report: AgreementReport) -> dict:
    """The report as a JSON-ready dict (NaN figures become null)."""
    ta = report.totals_agreement
    return {
        'format': REPORT_FORMAT, 'version': REPORT_VERSION,
        'confusion_orientation': 'rows: automatic score, columns: coach '
                                 'score, in the order 0, 1, 2, 3',
        'kappa_weights': 'quadratic', 'kappa_null': KAPPA_UNDEFINED_REASON,
        'counts': {'automatic': report.n_automatic, 'coach': report.n_coach,
                   'matched': len(report.matched),
                   'provisional': len(report.provisional)},
        'per_test': {test: _agreement_document(a)
                     for test, a in report.per_test.items()},
        OVERALL: _agreement_document(report.overall),
        'totals': {
            'risk_total': RISK_TOTAL,
            'subjects': [{'subject': t.subject, 'automatic': t.automatic,
                          'coach': t.coach} for t in report.totals],
            'incomplete': dict(report.incomplete_subjects),
            'n': ta.n, 'exact': finite_or_none(ta.exact),
            'mean_absolute_difference': finite_or_none(
                ta.mean_absolute_difference),
            'risk_table': ta.risk_table.tolist(),
            'risk_table_order': list(RISK_LABELS),
            'risk_agreement': finite_or_none(ta.risk_agreement),
            'risk_kappa': finite_or_none(ta.risk_kappa)},
        'disagreements': [dataclasses.asdict(t)
                          for t in report.disagreements],
        'only_automatic': [_trial_document(k) for k in report.only_automatic],
        'only_coach': [_trial_document(k) for k in report.only_coach],
        'provisional': [_trial_document(k) for k in report.provisional],
        'subjects_only_automatic': list(report.subjects_only_automatic),
        'subjects_only_coach': list(report.subjects_only_coach),
        'notes': list(report.notes),
    }


def _disagreements_csv(report: AgreementReport) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator='\n')
    writer.writerow(['subject', 'test', 'side', 'automatic', 'coach',
                     'difference'])
    for t in report.disagreements:
        writer.writerow([t.subject, t.test, t.side or '', t.automatic,
                         t.coach, t.difference])
    return text.getvalue().encode('utf-8')


def _confusion_png(report: AgreementReport) -> bytes:
    """PNG bytes: one confusion-matrix panel per test, then 'overall'."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    panels = [(test, report.per_test.get(test)) for test in TESTS]
    panels.append((OVERALL, report.overall))
    rows = -(-len(panels) // PANEL_COLUMNS)
    figure = Figure(figsize=(PANEL_INCHES * PANEL_COLUMNS,
                             PANEL_INCHES * rows))
    FigureCanvasAgg(figure)
    for index, (name, a) in enumerate(panels):
        axes = figure.add_subplot(rows, PANEL_COLUMNS, index + 1)
        _draw_confusion(axes, name, a)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format='png', dpi=FIGURE_DPI)
    return buffer.getvalue()


def _draw_confusion(axes, name: str, a: Optional[Agreement]) -> None:
    """One annotated confusion-matrix panel (rows automatic, cols coach)."""
    k = len(SCORES)
    counts = a.confusion if a is not None else np.zeros((k, k), np.int64)
    axes.imshow(counts, cmap='Blues', vmin=0, vmax=max(1, counts.max()))
    light = LIGHT_TEXT_FRACTION * max(1, counts.max())
    for (row, col), count in np.ndenumerate(counts):
        axes.text(col, row, str(count), ha='center', va='center',
                  color='white' if count > light else 'black')
    axes.set_xticks(range(k), [str(s) for s in SCORES])
    axes.set_yticks(range(k), [str(s) for s in SCORES])
    axes.set_xlabel('coach')
    axes.set_ylabel('automatic')
    if a is None:
        axes.set_title(f'{name}\nno matched trials')
    else:
        axes.set_title(f'{name}\nn={a.n}, kappa={kappa_text(a.kappa, a.n)}')


def agreement_paths(out_dir: str) -> List[str]:
    """The files :func:`write_agreement` writes into ``out_dir``."""
    return [os.path.join(out_dir, name)
            for name in (AGREEMENT_JSON, DISAGREEMENTS_CSV, CONFUSION_PNG)]


def check_agreement_outputs(out_dir: str, inputs: Sequence[str] = ()
                            ) -> None:
    """FmsError unless the files of :func:`agreement_paths` can be written
    (checked before any work; see :func:`fms.outputs.check_outputs`)."""
    check_outputs(agreement_paths(out_dir), inputs)


def write_agreement(report: AgreementReport, out_dir: str) -> List[str]:
    """Write ``agreement.json`` (:func:`report_document`),
    ``disagreements.csv`` (subject, test, side, automatic, coach,
    difference; largest |difference| first) and ``confusion_matrices.png``
    into ``out_dir`` (created), each atomically.

    Returns:
        The paths written.

    Raises:
        FmsError: a path cannot be written (the message names it).
    """
    paths = agreement_paths(out_dir)
    check_outputs(paths)
    contents = (json_bytes(report_document(report)),
                _disagreements_csv(report), _confusion_png(report))
    return write_outputs(dict(zip(paths, contents)))
