"""Agreement of the automatic FMS scores with a coach's scores.

:func:`agreement_report` compares two score dicts ``{trial key: score}``
(:data:`fms.protocol.Key`; read by :mod:`fms.coach_scores` and
:mod:`fms.result_files`): per test and overall exact agreement, quadratic
weighted kappa and confusion matrices (:mod:`fms.statistics`), the totals
of the subjects scored on all seven tests by both and their "total <= 14"
risk flag, the disagreements to review, and notes on what did not match.
:mod:`fms.agreement_text` and :mod:`fms.agreement_files` present it.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from fms import FmsError
from fms.protocol import (RISK_TOTAL, TESTS, Key, counted_score, is_bilateral,
                          trial_name, trial_order, trial_sides)
from fms.statistics import confusion_matrix, exact_agreement, weighted_kappa

#: Name of the pooled figures beside the per-test ones.
OVERALL = 'overall'

#: Risk-flag categories, in the order of the 2x2 table's rows and columns.
RISK_CATEGORIES: Tuple[bool, ...] = (True, False)
RISK_LABELS: Tuple[str, ...] = ('at risk', 'not at risk')

#: Names listed at most in one message before '... and N more'.
MAX_LISTED = 8


def test_scores(scores: Dict[Key, int]) -> Dict[Tuple[str, str], int]:
    """``{(subject, test): score}``: the score that counts for each test
    (:func:`fms.protocol.counted_score`: the lower side's for bilateral
    tests).  A bilateral test scored on one side only is incomplete and
    left out (see :func:`incomplete_tests`)."""
    by_side: Dict[Tuple[str, str], Dict[Optional[str], int]] = {}
    for (subject, test, side), score in scores.items():
        by_side.setdefault((subject, test), {})[side] = score
    counted = {}
    for (subject, test), sides in by_side.items():
        score = counted_score(test, sides)
        if score is not None:
            counted[subject, test] = score
    return counted


test_scores.__test__ = False     # a library function, not a pytest test


def incomplete_tests(scores: Dict[Key, int]) -> List[Tuple[str, str, str]]:
    """``[(subject, test, missing side)]``: bilateral tests scored on one
    side only, sorted."""
    present: Dict[Tuple[str, str], set] = {}
    for subject, test, side in scores:
        if is_bilateral(test):
            present.setdefault((subject, test), set()).add(side)
    return sorted((subject, test, side)
                  for (subject, test), sides in present.items()
                  for side in trial_sides(test) if side not in sides)


# ---------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------

@dataclasses.dataclass
class TrialComparison:
    """One matched trial; ``difference`` = automatic - coach."""
    subject: str
    test: str
    side: Optional[str]
    automatic: int
    coach: int
    difference: int


@dataclasses.dataclass
class Agreement:
    """Agreement over ``n`` trials: exact agreement (fraction), quadratic
    weighted kappa (NaN if undefined) and the (4, 4) int64 confusion matrix
    (rows automatic 0-3, columns coach 0-3)."""
    n: int
    exact: float
    kappa: float
    confusion: np.ndarray


@dataclasses.dataclass
class SubjectTotal:
    """Totals (out of 21) of a subject with all seven tests in both."""
    subject: str
    automatic: int
    coach: int

    @property
    def difference(self) -> int:
        return self.automatic - self.coach

    @property
    def automatic_at_risk(self) -> bool:
        return self.automatic <= RISK_TOTAL

    @property
    def coach_at_risk(self) -> bool:
        return self.coach <= RISK_TOTAL


@dataclasses.dataclass
class TotalsAgreement:
    """Agreement of the totals of ``n`` subjects.

    ``risk_table`` is (2, 2) int64: rows automatic, columns coach, in the
    order at risk (total <= RISK_TOTAL), not at risk.  ``risk_kappa`` is the
    unweighted kappa of the flag.  Figures are NaN when n = 0."""
    n: int
    exact: float
    mean_absolute_difference: float
    risk_table: np.ndarray
    risk_agreement: float
    risk_kappa: float


@dataclasses.dataclass
class AgreementReport:
    """Comparison of automatic scores with a coach's.

    Attributes:
        n_automatic, n_coach: trials scored by each (provisional ones
            included).
        matched: trials scored by both, in subject and screen order.
        provisional: trials whose automatic score is provisional (a
            criterion observed in no view could change it), in screen
            order: not compared, counted apart.
        only_automatic, only_coach: trial keys scored by one only.
        subjects_only_automatic, subjects_only_coach: subjects with no
            trial at all on the other side.
        per_test: test -> agreement over its matched trials (sides pooled);
            tests without matched trials are absent.
        overall: agreement over all matched trials.
        totals: subjects with all seven tests complete in both.
        incomplete_subjects: subject -> which tests are missing where.
        totals_agreement: agreement of the totals and of the risk flag.
        disagreements: matched trials scored differently, largest
            |difference| first.
        notes: messages on what did not match and what to check.
    """
    n_automatic: int
    n_coach: int
    matched: List[TrialComparison]
    provisional: List[Key]
    only_automatic: List[Key]
    only_coach: List[Key]
    subjects_only_automatic: List[str]
    subjects_only_coach: List[str]
    per_test: Dict[str, Agreement]
    overall: Agreement
    totals: List[SubjectTotal]
    incomplete_subjects: Dict[str, str]
    totals_agreement: TotalsAgreement
    disagreements: List[TrialComparison]
    notes: List[str]


def agreement_report(scores: Dict[Key, Optional[int]],
                     coach: Dict[Key, int]) -> AgreementReport:
    """Compare automatic scores with the coach's (both ``{key: score}``;
    an automatic score None is provisional: counted apart, not compared).

    Raises:
        FmsError: no trial is scored by both (the message lists the
            subjects of each, which usually shows a naming difference).
    """
    provisional = sorted((k for k, v in scores.items() if v is None),
                         key=trial_order)
    auto = {k: v for k, v in scores.items() if v is not None}
    coach_compared = {k: v for k, v in coach.items() if k not in scores
                      or scores[k] is not None}
    matched_keys = sorted(set(auto) & set(coach), key=trial_order)
    if not matched_keys:
        raise FmsError(_no_match_message(auto, coach, len(provisional)))
    matched = [TrialComparison(*key, auto[key], coach[key],
                               auto[key] - coach[key]) for key in matched_keys]
    auto_subjects = {key[0] for key in auto}
    coach_subjects = {key[0] for key in coach}
    totals, incomplete = _subject_totals(auto, coach,
                                         auto_subjects & coach_subjects)
    report = AgreementReport(
        n_automatic=len(scores), n_coach=len(coach), matched=matched,
        provisional=provisional,
        only_automatic=sorted(set(auto) - set(coach), key=trial_order),
        only_coach=sorted(set(coach_compared) - set(auto), key=trial_order),
        subjects_only_automatic=sorted(auto_subjects - coach_subjects),
        subjects_only_coach=sorted(coach_subjects - auto_subjects),
        per_test=_per_test_agreement(matched), overall=_agreement(matched),
        totals=totals, incomplete_subjects=incomplete,
        totals_agreement=_totals_agreement(totals),
        disagreements=sorted((t for t in matched if t.difference),
                             key=lambda t: (-abs(t.difference),
                                            trial_order((t.subject, t.test,
                                                          t.side)))),
        notes=[])
    report.notes = _mismatch_notes(report)
    return report


def _listed(names: Sequence[str]) -> str:
    """Up to MAX_LISTED names joined, then '... and N more'."""
    shown = ', '.join(names[:MAX_LISTED])
    rest = len(names) - MAX_LISTED
    return shown + (f' ... and {rest} more' if rest > 0 else '')


def _no_match_message(auto: Dict[Key, int], coach: Dict[Key, int],
                      provisional: int) -> str:
    auto_subjects = sorted({key[0] for key in auto})
    coach_subjects = sorted({key[0] for key in coach})
    if provisional and not auto:
        return (f'every automatic score is provisional ({provisional} '
                f'trials): a criterion observed in no view could change '
                f'it; film the views their results name, then compare')
    return (f'no trial matches between the automatic results ({len(auto)} '
            f'trials; subjects {_listed(auto_subjects)}) and the coach '
            f'scores ({len(coach)} trials; subjects {_listed(coach_subjects)})'
            f': check that subject names, tests and sides are written the '
            f'same way in both')


def _agreement(trials: Sequence[TrialComparison]) -> Agreement:
    automatic = [t.automatic for t in trials]
    coach = [t.coach for t in trials]
    return Agreement(n=len(trials), exact=exact_agreement(automatic, coach),
                     kappa=weighted_kappa(automatic, coach),
                     confusion=confusion_matrix(automatic, coach))


def _per_test_agreement(matched: Sequence[TrialComparison]
                        ) -> Dict[str, Agreement]:
    return {test: _agreement([t for t in matched if t.test == test])
            for test in TESTS if any(t.test == test for t in matched)}


def _missing_tests(scores: Dict[Key, int], subject: str) -> List[str]:
    """Tests of ``subject`` without a counted score, one side named where
    only that side is missing."""
    counted = test_scores({k: v for k, v in scores.items()
                           if k[0] == subject})
    one_side = {test: side for s, test, side in incomplete_tests(scores)
                if s == subject}
    return [test + (f' ({one_side[test]} side)' if test in one_side else '')
            for test in TESTS if (subject, test) not in counted]


def _subject_totals(auto: Dict[Key, int], coach: Dict[Key, int],
                    subjects: set) -> Tuple[List[SubjectTotal],
                                            Dict[str, str]]:
    """Totals of the subjects complete in both; why the others are not."""
    totals, incomplete = [], {}
    auto_tests, coach_tests = test_scores(auto), test_scores(coach)
    for subject in sorted(subjects):
        missing_auto = _missing_tests(auto, subject)
        missing_coach = _missing_tests(coach, subject)
        if not missing_auto and not missing_coach:
            totals.append(SubjectTotal(
                subject, sum(auto_tests[subject, t] for t in TESTS),
                sum(coach_tests[subject, t] for t in TESTS)))
            continue
        parts = []
        if missing_auto:
            parts.append(f'missing in the automatic results: '
                         f'{", ".join(missing_auto)}')
        if missing_coach:
            parts.append(f'missing in the coach scores: '
                         f'{", ".join(missing_coach)}')
        incomplete[subject] = '; '.join(parts)
    return totals, incomplete


def _totals_agreement(totals: Sequence[SubjectTotal]) -> TotalsAgreement:
    automatic = np.array([t.automatic for t in totals], dtype=np.int64)
    coach = np.array([t.coach for t in totals], dtype=np.int64)
    auto_risk = [t.automatic_at_risk for t in totals]
    coach_risk = [t.coach_at_risk for t in totals]
    n = len(totals)
    return TotalsAgreement(
        n=n, exact=exact_agreement(automatic, coach),
        mean_absolute_difference=(float(np.mean(np.abs(automatic - coach)))
                                  if n else math.nan),
        risk_table=confusion_matrix(auto_risk, coach_risk, RISK_CATEGORIES),
        risk_agreement=exact_agreement(auto_risk, coach_risk),
        risk_kappa=weighted_kappa(auto_risk, coach_risk, RISK_CATEGORIES,
                                  weights=None))


def _mismatch_notes(report: AgreementReport) -> List[str]:
    """Messages on provisional trials, subjects and trials scored on one
    side only."""
    notes = []
    if report.provisional:
        names = [trial_name(key) for key in report.provisional]
        notes.append(f'{len(names)} provisional trial'
                     f'{"s" if len(names) > 1 else ""} not compared (a '
                     f'criterion observed in no view could change the '
                     f'score; their results say what to film): '
                     f'{_listed(names)}')
    notes += [f'coach has subject {s!r} with no automatic results: check the '
             f'subject names' for s in report.subjects_only_coach]
    notes += [f'automatic results have subject {s!r} with no coach scores: '
              f'check the subject names'
              for s in report.subjects_only_automatic]
    lonely = set(report.subjects_only_coach + report.subjects_only_automatic)
    for keys, what in (
            (report.only_coach, lambda plural: 'scored by the coach '
             f'{"have" if plural else "has"} no automatic result'),
            (report.only_automatic, lambda plural: 'with an automatic '
             f'result {"have" if plural else "has"} no coach score')):
        names = [trial_name(key) for key in keys if key[0] not in lonely]
        if names:
            notes.append(f'{len(names)} trial{"s" if len(names) > 1 else ""} '
                         f'{what(len(names) > 1)}: {_listed(names)}')
    return notes
