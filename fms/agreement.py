"""Agreement of the automatic FMS scores with a coach's scores.

Inputs:

* the coach's scores, a CSV file read by :func:`load_coach_csv`: a header
  line naming the columns ``subject``, ``test``, ``side`` and ``score`` (any
  order, other columns ignored), then one line per trial; ``side`` is empty
  for unilateral tests and ``left``/``right`` for bilateral ones;
* the analyzer's result documents (:func:`fms.results.result_document`),
  one ``.json`` file per trial in a folder, read by
  :func:`load_auto_results`.

A *trial key* is ``(subject, test, side)`` with side ``None`` for the
unilateral tests.  Scores are dicts ``{trial key: score 0-3}``.

Statistics (pure functions):

* :func:`confusion_matrix`: rows are the first rater (the automatic score),
  columns the second (the coach), in the order of ``categories``.
* :func:`weighted_kappa`: Cohen's kappa, unweighted or with linear or
  quadratic disagreement weights.  It is NaN when undefined: no trials, or
  no disagreement expected by chance (both raters gave one and the same
  category to every trial, so agreement cannot be told from chance).  The
  reports print ``n/a`` and say why.

:func:`agreement_report` compares two score dicts; :func:`format_report`,
:func:`report_document` and :func:`write_agreement` present it.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import json
import logging
import math
import os
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from fms import FmsError
from fms.protocol import BILATERAL_TESTS, RISK_TOTAL, SCORES, SIDES, TESTS
from fms.results import RESULT_FORMAT, RESULT_VERSION
from pose.images import write_atomic

logger = logging.getLogger(__name__)

#: ``(subject, test, side)``; side is None for unilateral tests.
Key = Tuple[str, str, Optional[str]]

#: Columns the coach's CSV must have.
COACH_COLUMNS: Tuple[str, ...] = ('subject', 'test', 'side', 'score')

#: Disagreement weights understood by :func:`weighted_kappa`.
WEIGHTS: Tuple[Optional[str], ...] = ('quadratic', 'linear', None)

#: Below this, the expected disagreement counts as zero (kappa undefined).
ZERO_DISAGREEMENT = 1e-12

#: What the reports print for an undefined kappa, and why it is undefined.
NOT_AVAILABLE = 'n/a'
KAPPA_UNDEFINED_REASON = ('kappa is undefined when both raters gave one and '
                          'the same score to every trial (no disagreement '
                          'is expected by chance)')

#: Name of the pooled figures beside the per-test ones.
OVERALL = 'overall'

#: Risk-flag categories, in the order of the 2x2 table's rows and columns.
RISK_CATEGORIES: Tuple[bool, ...] = (True, False)
RISK_LABELS: Tuple[str, ...] = ('at risk', 'not at risk')

#: Space between confusion matrices set side by side in the text report.
BLOCK_GAP = ' ' * 4

#: Names listed at most in one message before '... and N more'.
MAX_LISTED = 8

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


# ---------------------------------------------------------------------------
# Reading the coach's CSV
# ---------------------------------------------------------------------------

def load_coach_csv(path: str) -> Dict[Key, int]:
    """The coach's scores from a CSV file: ``{(subject, test, side): score}``.

    UTF-8 (a byte-order mark is allowed); cells are stripped of surrounding
    whitespace, test and side names are case-insensitive, blank lines are
    skipped.

    Raises:
        FmsError: missing or unreadable file, empty file, missing column,
            unknown test, bad side, score not an integer 0-3, a trial scored
            twice; the message names the file, line and column.
    """
    rows = _read_csv_rows(path)
    if not rows:
        raise FmsError(f'{path} is empty: write a header line '
                       f'"{",".join(COACH_COLUMNS)}" and one line per trial')
    header_line, header = rows[0]
    columns = _coach_columns(path, header_line, header)
    scores: Dict[Key, int] = {}
    lines: Dict[Key, int] = {}
    for line, row in rows[1:]:
        key, score = _coach_row(path, line, row, columns)
        if key in scores:
            raise FmsError(f'{path}, line {line}: {trial_name(key)} is scored '
                           f'twice (also on line {lines[key]}): keep one '
                           f'line per trial')
        scores[key], lines[key] = score, line
    if not scores:
        raise FmsError(f'{path} has a header but no scores: add one line per '
                       f'trial')
    return scores


def _read_csv_rows(path: str) -> List[Tuple[int, List[str]]]:
    """The non-blank rows of a CSV file with their (last) line numbers."""
    try:
        with open(path, encoding='utf-8-sig', newline='') as f:
            reader = csv.reader(f)
            rows = []
            for row in reader:
                if any(cell.strip() for cell in row):
                    rows.append((reader.line_num, row))
            return rows
    except FileNotFoundError:
        raise FmsError(f'{path}: no such file: check the path of the coach '
                       f'scores') from None
    except IsADirectoryError:
        raise FmsError(f'{path} is a folder: give the coach scores CSV '
                       f'file') from None
    except UnicodeDecodeError as e:
        raise FmsError(f'{path} is not UTF-8 text (byte {e.start}): save the '
                       f'CSV as UTF-8') from None
    except csv.Error as e:
        raise FmsError(f'{path}, line {reader.line_num}: bad CSV ({e}): fix '
                       f'the line') from None


def _coach_columns(path: str, line: int, header: List[str]) -> Dict[str, int]:
    """Column name -> index of the required columns of the header row."""
    names = [cell.strip().lower() for cell in header]
    missing = [name for name in COACH_COLUMNS if name not in names]
    if missing:
        raise FmsError(
            f'{path}, line {line}: missing column'
            f'{"s" if len(missing) > 1 else ""} {", ".join(missing)} (found: '
            f'{", ".join(cell.strip() for cell in header)}): the header needs '
            f'{", ".join(COACH_COLUMNS)}')
    repeated = [name for name in COACH_COLUMNS if names.count(name) > 1]
    if repeated:
        raise FmsError(f'{path}, line {line}: column {repeated[0]} appears '
                       f'twice in the header: keep one')
    return {name: names.index(name) for name in COACH_COLUMNS}


def _coach_row(path: str, line: int, row: List[str],
               columns: Dict[str, int]) -> Tuple[Key, int]:
    """The trial key and score of one data row of the coach's CSV."""
    def cell(name: str) -> str:
        index = columns[name]
        return row[index].strip() if index < len(row) else ''

    def fail(column: str, problem: str) -> FmsError:
        return FmsError(f'{path}, line {line}, column {column}: {problem}')

    subject, test, side = cell('subject'), cell('test'), cell('side')
    if not subject:
        raise fail('subject', 'the subject is empty: name the subject')
    if test.lower() not in TESTS:
        raise fail('test', f'unknown test {test!r}: use one of '
                           f'{", ".join(TESTS)}')
    test, side = test.lower(), side.lower()
    if test in BILATERAL_TESTS and side not in SIDES:
        got = f'got {side!r}' if side else 'it is empty'
        raise fail('side', f'{test} is scored per side: give left or right '
                           f'({got})')
    if test not in BILATERAL_TESTS and side:
        raise fail('side', f'{test} is not scored per side: leave the side '
                           f'empty (got {side!r})')
    score = cell('score')
    if not (score.isascii() and score.isdigit()) or int(score) not in SCORES:
        raise fail('score', f'score {score!r} is not an integer 0-3: give 0, '
                            f'1, 2 or 3')
    return (subject, test, side or None), int(score)


def trial_name(key: Key) -> str:
    """``'S1 hurdle_step (left)'`` or ``'S1 deep_squat'``."""
    subject, test, side = key
    return f'{subject} {test}' + (f' ({side})' if side else '')


# ---------------------------------------------------------------------------
# Reading the automatic results
# ---------------------------------------------------------------------------

def load_auto_results(directory: str, skipped: Optional[List[str]] = None
                      ) -> Tuple[Dict[Key, int], Dict[Key, dict]]:
    """The result documents in ``directory`` (not its sub-folders).

    Every ``*.json`` file whose ``format`` is ``'fms-result'`` is a result.
    Other files (valid JSON that is not a result, or unparsable JSON that
    does not mention ``'fms-result'``) are skipped: their paths are appended
    to ``skipped`` when a list is given, so that a caller can say "skipped N
    files that are not results".

    Returns:
        ``(scores, documents)``: ``{trial key: score}`` and ``{trial key:
        result document}``.

    Raises:
        FmsError: missing folder, a broken result file (named), two results
            for the same trial (both named), no result at all.
    """
    scores: Dict[Key, int] = {}
    documents: Dict[Key, dict] = {}
    origins: Dict[Key, str] = {}
    passed_over = []
    for path in _json_files(directory):
        document = _read_result_json(path)
        if not (isinstance(document, dict)
                and document.get('format') == RESULT_FORMAT):
            passed_over.append(path)
            logger.info('skipped %s: not an FMS result', path)
            continue
        key, score = _result_entry(path, document)
        if key in scores:
            raise FmsError(f'{origins[key]} and {path} are both results of '
                           f'{trial_name(key)}: keep one of them')
        scores[key], documents[key], origins[key] = score, document, path
    if skipped is not None:
        skipped.extend(passed_over)
    if not scores:
        raise FmsError(f'{directory} holds no FMS result files (skipped '
                       f'{len(passed_over)} files that are not results): '
                       f'give the folder the analyzer wrote its .json '
                       f'results to')
    return scores, documents


def _json_files(directory: str) -> List[str]:
    """Paths of the ``*.json`` files directly in ``directory``, sorted."""
    try:
        with os.scandir(directory) as entries:
            return sorted(entry.path for entry in entries
                          if entry.name.lower().endswith('.json')
                          and entry.is_file())
    except FileNotFoundError:
        raise FmsError(f'{directory}: no such folder: check the path of the '
                       f'automatic results') from None
    except NotADirectoryError:
        raise FmsError(f'{directory} is not a folder: give the folder of the '
                       f'automatic results') from None


def _read_result_json(path: str) -> object:
    """The parsed JSON of ``path``; None for a file that is not JSON and does
    not look like a result (it is skipped); FmsError for a broken result."""
    try:
        with open(path, 'rb') as f:
            raw = f.read()
    except OSError as e:
        raise FmsError(f'{path}: cannot read the file ({e.strerror}): check '
                       f'its permissions') from None
    try:
        return json.loads(raw.decode('utf-8-sig'))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        if RESULT_FORMAT.encode() not in raw:
            return None
        where = (f', line {e.lineno}, column {e.colno}'
                 if isinstance(e, json.JSONDecodeError) else '')
        raise FmsError(f'{path}{where}: broken result file ({e}): run the '
                       f'analysis of this trial again or remove the '
                       f'file') from None


def _result_entry(path: str, document: dict) -> Tuple[Key, int]:
    """The trial key and score of a result document, checked."""
    def fail(problem: str) -> FmsError:
        return FmsError(f'{path}: broken result file: {problem}: run the '
                        f'analysis of this trial again or remove the file')

    version = document.get('version')
    if not isinstance(version, int) or isinstance(version, bool):
        raise fail(f'version {version!r} is not an integer')
    if version > RESULT_VERSION:
        raise FmsError(f'{path}: result version {version} is newer than this '
                       f'program reads ({RESULT_VERSION}): update the program')
    subject, test = document.get('subject'), document.get('test')
    side, score = document.get('side'), document.get('score')
    if not isinstance(subject, str) or not subject.strip():
        raise fail(f'subject {subject!r} is not a name')
    if test not in TESTS:
        raise fail(f'unknown test {test!r}')
    if test in BILATERAL_TESTS and side not in SIDES:
        raise fail(f'{test} needs side left or right, not {side!r}')
    if test not in BILATERAL_TESTS and side not in (None, ''):
        raise fail(f'{test} is not scored per side, but side is {side!r}')
    if isinstance(score, bool) or score not in SCORES:
        raise fail(f'score {score!r} is not an integer 0-3')
    return (subject.strip(), test, side or None), int(score)


# ---------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------

def _category_indices(values: Sequence, categories: Sequence,
                      name: str) -> np.ndarray:
    """(N,) int64 index into ``categories`` of each of ``values`` (N,)."""
    values = np.asarray(values)
    if values.ndim != 1:
        raise FmsError(f'{name} must be a flat sequence of scores')
    hits = values[:, None] == np.asarray(categories)[None, :]    # (N, K)
    unknown = ~hits.any(axis=1)
    if unknown.any():
        raise FmsError(f'{name} has value {values[unknown][0]!r} outside '
                       f'the categories {tuple(categories)}')
    return hits.argmax(axis=1).astype(np.int64)


def _check_pair(a: Sequence, b: Sequence) -> None:
    if len(a) != len(b):
        raise FmsError(f'the two raters have {len(a)} and {len(b)} scores: '
                       f'give one score of each per trial')


def confusion_matrix(a: Sequence, b: Sequence,
                     categories: Sequence = SCORES) -> np.ndarray:
    """(K, K) int64 counts: ``[i, j]`` = trials rated ``categories[i]`` by
    ``a`` (rows: the automatic score) and ``categories[j]`` by ``b``
    (columns: the coach).  K = len(categories), 4 for the FMS scores.

    Args:
        a, b: (N,) scores of the same N trials by each rater.
    """
    _check_pair(a, b)
    k = len(categories)
    rows = _category_indices(a, categories, 'first rater')
    cols = _category_indices(b, categories, 'second rater')
    counts = np.bincount(rows * k + cols, minlength=k * k)
    return counts.reshape(k, k).astype(np.int64)


def exact_agreement(a: Sequence, b: Sequence) -> float:
    """Fraction of trials (N,) given the same score by both; NaN if N = 0."""
    _check_pair(a, b)
    if len(a) == 0:
        return math.nan
    return float(np.mean(np.asarray(a) == np.asarray(b)))


def disagreement_weights(k: int, weights: Optional[str] = 'quadratic'
                         ) -> np.ndarray:
    """(k, k) float64 weights of a disagreement between categories i and j:
    ``((i - j) / (k - 1)) ** 2`` (quadratic), ``|i - j| / (k - 1)``
    (linear) or ``1`` for any disagreement (None: unweighted)."""
    if weights not in WEIGHTS:
        raise FmsError(f'unknown kappa weights {weights!r}: use quadratic, '
                       f'linear or None')
    if k < 2:
        raise FmsError('kappa needs at least two categories')
    index = np.arange(k)
    distance = np.abs(index[:, None] - index[None, :]) / (k - 1)
    if weights == 'quadratic':
        return distance ** 2
    if weights == 'linear':
        return distance
    return (distance > 0).astype(np.float64)


def weighted_kappa(a: Sequence, b: Sequence, categories: Sequence = SCORES,
                   weights: Optional[str] = 'quadratic') -> float:
    """Cohen's kappa of two raters' scores (N,) of the same trials.

    ``kappa = 1 - sum(w * O) / sum(w * E)``, with O the confusion matrix as
    proportions, E the outer product of its row and column sums (the table
    expected by chance) and w :func:`disagreement_weights`.  With
    ``weights=None`` it is the unweighted kappa ``(po - pe) / (1 - pe)``.

    Returns:
        float in [-1, 1]; NaN when there are no trials or the expected
        disagreement ``sum(w * E)`` is 0 (both raters gave one and the same
        category to every trial).
    """
    observed = confusion_matrix(a, b, categories).astype(np.float64)
    n = observed.sum()
    w = disagreement_weights(len(categories), weights)
    if n == 0:
        return math.nan
    observed /= n
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0))
    expected_disagreement = float((w * expected).sum())
    if expected_disagreement <= ZERO_DISAGREEMENT:
        return math.nan
    return float(1.0 - (w * observed).sum() / expected_disagreement)


def kappa_text(kappa: float, n: int) -> str:
    """``'0.71'``, or ``'n/a'`` for an undefined kappa (no trials, or one
    shared category; the report's notes explain it)."""
    if n == 0 or math.isnan(kappa):
        return NOT_AVAILABLE
    return f'{kappa:.2f}'


# ---------------------------------------------------------------------------
# Test scores and totals
# ---------------------------------------------------------------------------

def test_scores(scores: Dict[Key, int]) -> Dict[Tuple[str, str], int]:
    """``{(subject, test): score}``: the score that counts for each test,
    the lower side's for bilateral tests.  A bilateral test scored on one
    side only is incomplete and left out (see :func:`incomplete_tests`)."""
    by_side: Dict[Tuple[str, str], Dict[Optional[str], int]] = {}
    for (subject, test, side), score in scores.items():
        by_side.setdefault((subject, test), {})[side] = score
    counted = {}
    for (subject, test), sides in by_side.items():
        if test in BILATERAL_TESTS:
            if all(side in sides for side in SIDES):
                counted[subject, test] = min(sides[side] for side in SIDES)
        elif None in sides:
            counted[subject, test] = sides[None]
    return counted


test_scores.__test__ = False     # a library function, not a pytest test


def incomplete_tests(scores: Dict[Key, int]) -> List[Tuple[str, str, str]]:
    """``[(subject, test, missing side)]``: bilateral tests scored on one
    side only, sorted."""
    present: Dict[Tuple[str, str], set] = {}
    for subject, test, side in scores:
        if test in BILATERAL_TESTS:
            present.setdefault((subject, test), set()).add(side)
    return sorted((subject, test, side)
                  for (subject, test), sides in present.items()
                  for side in SIDES if side not in sides)


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
        n_automatic, n_coach: trials scored by each.
        matched: trials scored by both, in subject and screen order.
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


def _trial_order(key: Key) -> tuple:
    subject, test, side = key
    order = TESTS.index(test) if test in TESTS else len(TESTS)
    return subject, order, side or ''


def agreement_report(auto: Dict[Key, int],
                     coach: Dict[Key, int]) -> AgreementReport:
    """Compare automatic scores with the coach's (both ``{key: score}``).

    Raises:
        FmsError: no trial is scored by both (the message lists the
            subjects of each, which usually shows a naming difference).
    """
    matched_keys = sorted(set(auto) & set(coach), key=_trial_order)
    if not matched_keys:
        raise FmsError(_no_match_message(auto, coach))
    matched = [TrialComparison(*key, auto[key], coach[key],
                               auto[key] - coach[key]) for key in matched_keys]
    auto_subjects = {key[0] for key in auto}
    coach_subjects = {key[0] for key in coach}
    totals, incomplete = _subject_totals(auto, coach,
                                         auto_subjects & coach_subjects)
    report = AgreementReport(
        n_automatic=len(auto), n_coach=len(coach), matched=matched,
        only_automatic=sorted(set(auto) - set(coach), key=_trial_order),
        only_coach=sorted(set(coach) - set(auto), key=_trial_order),
        subjects_only_automatic=sorted(auto_subjects - coach_subjects),
        subjects_only_coach=sorted(coach_subjects - auto_subjects),
        per_test=_per_test_agreement(matched), overall=_agreement(matched),
        totals=totals, incomplete_subjects=incomplete,
        totals_agreement=_totals_agreement(totals),
        disagreements=sorted((t for t in matched if t.difference),
                             key=lambda t: (-abs(t.difference),
                                            _trial_order((t.subject, t.test,
                                                          t.side)))),
        notes=[])
    report.notes = _mismatch_notes(report)
    return report


def _listed(names: Sequence[str]) -> str:
    """Up to MAX_LISTED names joined, then '... and N more'."""
    shown = ', '.join(names[:MAX_LISTED])
    rest = len(names) - MAX_LISTED
    return shown + (f' ... and {rest} more' if rest > 0 else '')


def _no_match_message(auto: Dict[Key, int], coach: Dict[Key, int]) -> str:
    auto_subjects = sorted({key[0] for key in auto})
    coach_subjects = sorted({key[0] for key in coach})
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
    """Messages on subjects and trials scored on one side only."""
    notes = [f'coach has subject {s!r} with no automatic results: check the '
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


# ---------------------------------------------------------------------------
# Presenting the report
# ---------------------------------------------------------------------------

def aligned_table(rows: Sequence[Sequence[str]],
                  right: Sequence[bool]) -> List[str]:
    """Lines of an aligned table; a rule under the first (header) row."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ['  '.join(cell.rjust(width) if r else cell.ljust(width)
                       for cell, width, r in zip(row, widths, right)).rstrip()
             for row in rows]
    lines.insert(1, '  '.join('-' * width for width in widths))
    return lines


def _fraction(value: float) -> str:
    return NOT_AVAILABLE if math.isnan(value) else f'{value:.2f}'


def _agreement_rows(report: AgreementReport) -> List[List[str]]:
    rows = [['test', 'n', 'exact', 'kappa (quadratic)']]
    for name, a in list(report.per_test.items()) + [(OVERALL,
                                                      report.overall)]:
        rows.append([name, str(a.n), _fraction(a.exact),
                     kappa_text(a.kappa, a.n)])
    return rows


def _confusion_lines(name: str, a: Agreement, labels: Sequence) -> List[str]:
    rows = [['auto \\ coach'] + [str(label) for label in labels]]
    rows += [[str(label)] + [str(c) for c in counts]
             for label, counts in zip(labels, a.confusion)]
    right = [False] + [True] * len(labels)
    return [f'{name} (n={a.n})'] + aligned_table(rows, right)


def _side_by_side(blocks: Sequence[List[str]]) -> List[str]:
    """Blocks of lines set next to each other, each padded to its width."""
    height = max(len(block) for block in blocks)
    widths = [max(len(line) for line in block) for block in blocks]
    padded = [block + [''] * (height - len(block)) for block in blocks]
    return [BLOCK_GAP.join(block[row].ljust(width)
                           for block, width in zip(padded, widths)).rstrip()
            for row in range(height)]


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
                  f'{_fraction(ta.exact)}; mean absolute difference: '
                  f'{ta.mean_absolute_difference:.2f}',
                  f'risk flag agreement: {_fraction(ta.risk_agreement)}; '
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
             f'{report.n_automatic}, coach: {report.n_coach})', '']
    lines += report.notes + ([''] if report.notes else [])
    lines += ['Per test (matched trials, sides pooled)']
    lines += aligned_table(_agreement_rows(report), [False, True, True, True])
    lines += ['', 'Confusion matrices (rows: automatic, columns: coach)']
    blocks = [_confusion_lines(name, a, SCORES) for name, a
              in list(report.per_test.items()) + [(OVERALL, report.overall)]]
    for start in range(0, len(blocks), PANEL_COLUMNS):
        lines += _side_by_side(blocks[start:start + PANEL_COLUMNS]) + ['']
    lines += _totals_lines(report) + ['']
    lines += _disagreement_lines(report)
    if _kappa_undefined(report):
        lines += ['', f'{NOT_AVAILABLE}: {KAPPA_UNDEFINED_REASON}']
    return '\n'.join(lines) + '\n'


def _number(value: float) -> Optional[float]:
    """JSON-ready float: NaN becomes None."""
    return None if math.isnan(value) else float(value)


def _agreement_document(a: Agreement) -> dict:
    return {'n': a.n, 'exact': _number(a.exact), 'kappa': _number(a.kappa),
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
                   'matched': len(report.matched)},
        'per_test': {test: _agreement_document(a)
                     for test, a in report.per_test.items()},
        OVERALL: _agreement_document(report.overall),
        'totals': {
            'risk_total': RISK_TOTAL,
            'subjects': [{'subject': t.subject, 'automatic': t.automatic,
                          'coach': t.coach} for t in report.totals],
            'incomplete': dict(report.incomplete_subjects),
            'n': ta.n, 'exact': _number(ta.exact),
            'mean_absolute_difference': _number(ta.mean_absolute_difference),
            'risk_table': ta.risk_table.tolist(),
            'risk_table_order': list(RISK_LABELS),
            'risk_agreement': _number(ta.risk_agreement),
            'risk_kappa': _number(ta.risk_kappa)},
        'disagreements': [dataclasses.asdict(t)
                          for t in report.disagreements],
        'only_automatic': [_trial_document(k) for k in report.only_automatic],
        'only_coach': [_trial_document(k) for k in report.only_coach],
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


def write_agreement(report: AgreementReport, out_dir: str) -> List[str]:
    """Write ``agreement.json`` (:func:`report_document`),
    ``disagreements.csv`` (subject, test, side, automatic, coach,
    difference; largest |difference| first) and ``confusion_matrices.png``
    into ``out_dir`` (created), each atomically.

    Returns:
        The paths written.
    """
    try:
        os.makedirs(out_dir, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise FmsError(f'{out_dir} is a file: give a folder for the '
                       f'agreement outputs') from None
    contents = [
        (AGREEMENT_JSON, (json.dumps(report_document(report), indent=2,
                                     allow_nan=False) + '\n').encode()),
        (DISAGREEMENTS_CSV, _disagreements_csv(report)),
        (CONFUSION_PNG, _confusion_png(report)),
    ]
    paths = []
    for name, data in contents:
        path = os.path.join(out_dir, name)
        write_atomic(path, data)
        paths.append(path)
    return paths
