"""The agreement report as plain text with aligned tables (what the
``agreement`` command prints)."""
from __future__ import annotations

import math
from typing import List, Sequence

from fms.agreement import (OVERALL, RISK_LABELS, Agreement, AgreementReport)
from fms.protocol import RISK_TOTAL, SCORES
from fms.statistics import KAPPA_UNDEFINED_REASON
from fms.tables import (NOT_AVAILABLE, aligned_table, fraction_text,
                        kappa_text, side_by_side)

#: Confusion matrices set side by side per row of the text report.
BLOCKS_PER_ROW = 4


def _agreement_rows(report: AgreementReport) -> List[List[str]]:
    rows = [['test', 'n', 'exact', 'kappa (quadratic)']]
    for name, a in list(report.per_test.items()) + [(OVERALL,
                                                      report.overall)]:
        rows.append([name, str(a.n), fraction_text(a.exact),
                     kappa_text(a.kappa, a.n)])
    return rows


def _confusion_lines(name: str, a: Agreement, labels: Sequence) -> List[str]:
    rows = [['auto \\ coach'] + [str(label) for label in labels]]
    rows += [[str(label)] + [str(c) for c in counts]
             for label, counts in zip(labels, a.confusion)]
    right = [False] + [True] * len(labels)
    return [f'{name} (n={a.n})'] + aligned_table(rows, right)


def _totals_lines(report: AgreementReport) -> List[str]:
    lines = [f'Totals (out of 21; at risk: total <= {RISK_TOTAL})']
    if report.totals:
        rows = [['subject', 'automatic', 'coach', 'difference',
                 'automatic flag', 'coach flag']]
        rows += [[t.subject, str(t.automatic), str(t.coach),
                  f'{t.difference:+d}',
                  RISK_LABELS[not t.automatic_at_risk],
                  RISK_LABELS[not t.coach_at_risk]] for t in report.totals]
        lines += aligned_table(rows, [False, True, True, True, False, False])
        ta = report.totals_agreement
        lines += [f'subjects compared: {ta.n}; exact agreement of totals: '
                  f'{fraction_text(ta.exact)}; mean absolute difference: '
                  f'{ta.mean_absolute_difference:.2f}',
                  f'risk flag agreement: {fraction_text(ta.risk_agreement)}; '
                  f'kappa (unweighted): {kappa_text(ta.risk_kappa, ta.n)}']
        lines += _confusion_lines('risk flag', Agreement(
            ta.n, ta.risk_agreement, ta.risk_kappa, ta.risk_table),
            RISK_LABELS)
    else:
        lines.append('no subject has all seven tests in both')
    lines += [f'{subject}: total not compared: {why}'
              for subject, why in report.incomplete_subjects.items()]
    return lines


def _disagreement_lines(report: AgreementReport) -> List[str]:
    if not report.disagreements:
        return ['Disagreements: none']
    rows = [['subject', 'test', 'side', 'automatic', 'coach', 'difference']]
    rows += [[t.subject, t.test, t.side or '', str(t.automatic), str(t.coach),
              f'{t.difference:+d}'] for t in report.disagreements]
    return ([f'Disagreements ({len(report.disagreements)}, largest first)']
            + aligned_table(rows, [False, False, False, True, True, True]))


def _kappa_undefined(report: AgreementReport) -> bool:
    figures = list(report.per_test.values()) + [report.overall]
    kappas = [a.kappa for a in figures if a.n]
    if report.totals_agreement.n:
        kappas.append(report.totals_agreement.risk_kappa)
    return any(math.isnan(k) for k in kappas)


def format_report(report: AgreementReport) -> str:
    """The report as plain text with aligned tables (what the CLI prints)."""
    lines = ['Agreement of automatic scores with the coach scores',
             f'matched trials: {len(report.matched)} (automatic: '
             f'{report.n_automatic}, coach: {report.n_coach}, provisional: '
             f'{len(report.provisional)})', '']
    lines += report.notes + ([''] if report.notes else [])
    lines += ['Per test (matched trials, sides pooled)']
    lines += aligned_table(_agreement_rows(report), [False, True, True, True])
    lines += ['', 'Confusion matrices (rows: automatic, columns: coach)']
    blocks = [_confusion_lines(name, a, SCORES) for name, a
              in list(report.per_test.items()) + [(OVERALL, report.overall)]]
    for start in range(0, len(blocks), BLOCKS_PER_ROW):
        lines += side_by_side(blocks[start:start + BLOCKS_PER_ROW]) + ['']
    lines += _totals_lines(report) + ['']
    lines += _disagreement_lines(report)
    if _kappa_undefined(report):
        lines += ['', f'{NOT_AVAILABLE}: {KAPPA_UNDEFINED_REASON}']
    return '\n'.join(lines) + '\n'
