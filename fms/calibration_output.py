"""The calibration's outputs: the printed table, the thresholds file and
the figures file.

:func:`write_calibration` writes the calibrated thresholds (in the format
of ``fms/thresholds.json``, for ``analyze --thresholds``) and, beside them,
``<stem>_calibration.json`` (:func:`calibration_document`: the agreement
before, in-sample and cross-validated, the folds and the judgement).
"""
from __future__ import annotations

import dataclasses
import os
from typing import Dict, List, Optional, Sequence

from common.numbers import finite_or_none
from fms import FmsError
from fms.agreement import OVERALL
from fms.calibration import (MIN_TRIALS_TO_FIT, CalibrationResult, Figures)
from fms.outputs import check_outputs, json_bytes, write_outputs
from fms.protocol import TESTS
from fms.tables import (NOT_AVAILABLE, aligned_table, fraction_text,
                        kappa_text)

#: ``source`` of a calibrated entry of the thresholds file.
CALIBRATED_SOURCE = 'calibrated to coach scores on {n} trials'
#: ``format`` and ``version`` of the calibration's figures file, and the
#: end of its name after the thresholds file's stem.
CALIBRATION_FORMAT = 'fms-calibration'
CALIBRATION_VERSION = 1
CALIBRATION_SUFFIX = '_calibration.json'


def _figure_cells(figures: Optional[Figures]) -> List[str]:
    if figures is None:
        return [NOT_AVAILABLE, NOT_AVAILABLE]
    return [kappa_text(figures.kappa, figures.n),
            fraction_text(figures.exact)]


def _figures_table(result: CalibrationResult) -> List[List[str]]:
    rows = [['test', 'n', 'kappa before', 'exact before', 'kappa in-sample',
             'exact in-sample', 'kappa cross-val', 'exact cross-val']]
    names = [t for t in TESTS if t in result.before] + [OVERALL]
    for name in names:
        row = [name, str(result.before[name].n)]
        for figures in (result.before, result.in_sample,
                        result.cross_validated):
            row += _figure_cells(figures.get(name))
        rows.append(row)
    return rows


def _threshold_lines(result: CalibrationResult) -> List[str]:
    lines = []
    for test, n in result.fitted.items():
        for name in result.searched[test]:
            old = result.defaults[test][name]
            new = result.thresholds[test][name]
            change = 'unchanged' if old == new else f'{old:g} -> {new:g}'
            lines.append(f'{test}.{name}: {change} (fitted on {n} trials)')
    lines += [f'{test}: kept the defaults ({why})'
              for test, why in result.kept_defaults.items()]
    return lines


def format_calibration(result: CalibrationResult) -> str:
    """The calibration as plain text with an aligned table."""
    lines = [f'Calibration to the coach scores: {result.n_trials} trials, '
             f'{len(result.subjects)} subjects, {len(result.folds)}-fold '
             f'cross-validation by subject'
             + (f'; {result.left_out} provisional trials left out (a '
                f'criterion observed in no view)' if result.left_out
                else ''), '']
    lines += aligned_table(_figures_table(result), [False] + [True] * 7)
    lines += ['', 'Thresholds'] + _threshold_lines(result) + ['', 'Folds']
    lines += [f'fold {f.index + 1}: held out {", ".join(f.held_out_subjects)}'
              f' ({f.n_held_out} trials), fitted on {f.n_train} trials'
              for f in result.folds]
    lines += ['', result.judgement,
              'in-sample figures are fitted to the same trials and are '
              'optimistic; judge by the cross-validated ones']
    return '\n'.join(lines) + '\n'


def _figures_document(figures: Dict[str, Figures]) -> dict:
    return {name: {'n': f.n, 'exact': finite_or_none(f.exact),
                   'kappa': finite_or_none(f.kappa)}
            for name, f in figures.items()}


def calibration_document(result: CalibrationResult) -> dict:
    """The calibration as a JSON-ready dict (NaN figures become null)."""
    return {
        'format': CALIBRATION_FORMAT, 'version': CALIBRATION_VERSION,
        'kappa_weights': 'quadratic', 'n_trials': result.n_trials,
        'provisional_left_out': result.left_out,
        'subjects': list(result.subjects),
        'thresholds': result.thresholds, 'defaults': result.defaults,
        'fitted': dict(result.fitted), 'searched': dict(result.searched),
        'kept_defaults': dict(result.kept_defaults),
        'before': _figures_document(result.before),
        'in_sample': _figures_document(result.in_sample),
        'cross_validated': _figures_document(result.cross_validated),
        'folds': [dataclasses.asdict(f) for f in result.folds],
        'generalises': result.generalises, 'judgement': result.judgement,
        'min_trials_to_fit': MIN_TRIALS_TO_FIT,
    }


def calibrated_entries(result: CalibrationResult,
                       details: Dict[str, Dict[str, dict]]
                       ) -> Dict[str, Dict[str, dict]]:
    """A copy of ``details`` (test -> key -> ``{"value", "unit", "range",
    "step", "description", "source"}``) with the fitted thresholds' value and
    source replaced; the other entries are unchanged."""
    entries = {test: {key: dict(entry) for key, entry in keys.items()}
               for test, keys in details.items()}
    for test, n in result.fitted.items():
        for key in result.searched[test]:
            if key not in entries.get(test, {}):
                raise FmsError(f'{test} threshold {key!r} is not in the '
                               f'packaged thresholds: calibrate with the '
                               f'packaged threshold names')
            entries[test][key]['value'] = float(result.thresholds[test][key])
            entries[test][key]['source'] = CALIBRATED_SOURCE.format(n=n)
    return entries


def calibration_path(thresholds_path: str) -> str:
    """Where the calibration's figures go: ``<stem>_calibration.json``
    beside the thresholds file ``<stem>.json``."""
    stem, _ = os.path.splitext(thresholds_path)
    return stem + CALIBRATION_SUFFIX


def check_calibration_outputs(path: str, inputs: Sequence[str] = ()) -> None:
    """FmsError unless the thresholds file ``path`` and its
    :func:`calibration_path` can be written without overwriting an input
    (checked before any work; see :func:`fms.outputs.check_outputs`)."""
    check_outputs([path, calibration_path(path)], inputs)


def write_calibration(result: CalibrationResult, path: str,
                      details: Dict[str, Dict[str, dict]],
                      inputs: Sequence[str] = ()) -> List[str]:
    """Write the calibrated thresholds to ``path`` in the format of the
    packaged defaults (test -> key -> entry, :func:`calibrated_entries`)
    and the figures (:func:`calibration_document`) to
    :func:`calibration_path`, each atomically.

    Args:
        details: the packaged entries, test -> key -> entry.
        inputs: paths of the input files (coach CSV, result files, the
            packaged thresholds); no output may be one of them.

    Returns:
        The two paths written.

    Raises:
        FmsError: an output is an input or cannot be written, or a fitted
            threshold is not in ``details``.
    """
    check_calibration_outputs(path, inputs)
    entries = calibrated_entries(result, details)
    return write_outputs({
        path: json_bytes(entries),
        calibration_path(path): json_bytes(calibration_document(result))})
