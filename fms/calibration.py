"""Calibrating the scoring thresholds to a coach's scores.

Generic: the caller supplies ``rescore(document, thresholds) -> score``,
the score a result document would get with other threshold values of its
test, and the grid of values to try for each threshold.  Nothing here
depends on how the analysis measures or scores.

Fit (:func:`fit_thresholds`), per test: coordinate ascent over the test's
thresholds, each set in turn to the grid value that maximises the quadratic
weighted kappa between the rescored and the coach's scores, sweeping until
nothing changes.  Among values with the same kappa the one nearest the
default (distance relative to the grid's range) wins, so a threshold never
moves without evidence.  Tests with fewer than :data:`MIN_TRIALS_TO_FIT`
trials keep their defaults.

Validation (:func:`calibrate`): grouped k-fold cross-validation by subject
(a subject's trials are never split between the fitting and the held-out
part).  Three figures are reported, overall and per test: the defaults on
all trials (*before*), the thresholds fitted on all trials on those same
trials (*in-sample*, optimistic), and the pooled held-out predictions of
the fold fits (*cross-validated*, what to expect on new subjects).

Judgement: the calibration *generalises* when the cross-validated kappa
over all trials is higher than the kappa of the defaults by more than
:data:`GENERALISE_MARGIN`; the in-sample kappa is no evidence, having been
fitted to those very trials.

:mod:`fms.calibration_output` prints the result and writes the thresholds
file and the calibration's figures.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np

from fms import FmsError
from fms.agreement import OVERALL
from fms.protocol import SCORES, TESTS, Key, trial_name
from fms.statistics import exact_agreement, weighted_kappa

#: threshold key -> value, for one test.
Thresholds = Dict[str, float]
#: ``rescore(trial, thresholds of its test) -> score 0-3``: a trial is
#: whatever the caller keeps of it (the analyzer: the result documents of
#: its views and retests, :func:`fms.fusion.rescore_trial`).
Rescore = Callable[[object, Thresholds], int]

#: Tests with fewer matched trials than this keep their default thresholds.
MIN_TRIALS_TO_FIT = 5
#: Cross-validation needs subjects to hold out and others to fit on.
MIN_SUBJECTS = 2
MIN_FOLDS = 2
#: Coordinate-ascent sweeps at most (it stops earlier when nothing changes).
MAX_SWEEPS = 10
#: Kappas closer than this count as equal (the tie goes to the default).
KAPPA_TIE = 1e-9
#: Kappa used by the fit when kappa is undefined because rescored and coach
#: scores are one and the same category on every trial (full agreement).
UNDEFINED_KAPPA_OBJECTIVE = 1.0
#: The cross-validated kappa must beat the defaults' by more than this.
GENERALISE_MARGIN = 0.0


@dataclasses.dataclass
class Figures:
    """Agreement with the coach over ``n`` trials: exact agreement and
    quadratic weighted kappa (NaN when undefined)."""
    n: int
    exact: float
    kappa: float


@dataclasses.dataclass
class FoldResult:
    """One cross-validation fold: who was held out, what was fitted."""
    index: int
    held_out_subjects: List[str]
    train_subjects: List[str]
    n_train: int
    n_held_out: int
    thresholds: Dict[str, Thresholds]


@dataclasses.dataclass
class CalibrationResult:
    """What :func:`calibrate` found.

    Attributes:
        thresholds: test -> key -> value fitted on all trials (defaults for
            the tests not fitted); every test of ``defaults``.
        defaults: the thresholds it started from.
        fitted: test -> number of trials it was fitted on (all trials).
        searched: test -> threshold keys searched (fitted tests only).
        kept_defaults: test -> why it kept its defaults.
        n_trials, subjects: the trials (documents with a coach score) and
            their subjects.
        left_out: trials with a coach score the caller left out (the
            analyzer: provisional trials, a criterion observed in no
            view).
        before, in_sample, cross_validated: ``'overall'`` and each test with
            trials -> :class:`Figures`.
        folds: the cross-validation folds.
        generalises: the judgement (module docstring), ``judgement`` its
            one-line explanation.
    """
    thresholds: Dict[str, Thresholds]
    defaults: Dict[str, Thresholds]
    fitted: Dict[str, int]
    searched: Dict[str, List[str]]
    kept_defaults: Dict[str, str]
    n_trials: int
    subjects: List[str]
    before: Dict[str, Figures]
    in_sample: Dict[str, Figures]
    cross_validated: Dict[str, Figures]
    folds: List[FoldResult]
    generalises: bool
    judgement: str
    left_out: int = 0


# ---------------------------------------------------------------------------
# Fitting
# ---------------------------------------------------------------------------

def _objective(predicted: Sequence[int], truth: Sequence[int]) -> float:
    """Quadratic weighted kappa; an undefined kappa (one shared category,
    every trial agreeing) counts as UNDEFINED_KAPPA_OBJECTIVE."""
    kappa = weighted_kappa(predicted, truth)
    return UNDEFINED_KAPPA_OBJECTIVE if math.isnan(kappa) else kappa


def _rescored(documents: Sequence[object], rescore: Rescore,
              thresholds: Thresholds) -> List[int]:
    scores = [rescore(document, dict(thresholds)) for document in documents]
    bad = [s for s in scores if isinstance(s, bool) or s not in SCORES]
    if bad:
        raise FmsError(f'rescore returned {bad[0]!r}, not a score 0-3')
    return [int(s) for s in scores]


def _best_value(documents: Sequence[object], truth: Sequence[int],
                rescore: Rescore, current: Thresholds, name: str,
                grid: Sequence[float], default: float) -> float:
    """The value of threshold ``name`` (others as in ``current``) with the
    highest kappa; among equal kappas, the one nearest ``default``."""
    candidates = np.unique(np.asarray(list(grid) + [default], np.float64))
    span = float(candidates[-1] - candidates[0]) or 1.0
    objectives = np.array([
        _objective(_rescored(documents, rescore, {**current, name: value}),
                   truth) for value in candidates])
    distance = np.abs(candidates - default) / span
    tied = objectives >= objectives.max() - KAPPA_TIE
    order = np.lexsort((candidates, distance, ~tied))   # tied, near, small
    return float(candidates[order[0]])


def fit_thresholds(documents: Sequence[object], truth: Sequence[int],
                   rescore: Rescore, grid: Dict[str, Sequence[float]],
                   defaults: Thresholds) -> Thresholds:
    """Thresholds of one test fitted to the coach's scores.

    Args:
        documents: (N,) result documents of the test's trials.
        truth: (N,) the coach's scores of the same trials.
        rescore: see :data:`Rescore`.
        grid: threshold key -> values to try.
        defaults: threshold key -> default value (the starting point and
            the tie-breaker); keys not in ``grid`` stay as they are.

    Returns:
        threshold key -> fitted value (every key of ``defaults``).
    """
    current = dict(defaults)
    for _ in range(MAX_SWEEPS):
        changed = False
        for name in sorted(grid):
            best = _best_value(documents, truth, rescore, current, name,
                               grid[name], defaults[name])
            if best != current[name]:
                current[name], changed = best, True
        if not changed:
            break
    return current


def _fit_all(keys: Sequence[Key], documents: Dict[Key, object],
             coach: Dict[Key, int], rescore: Rescore,
             search_space: Dict[str, Dict[str, List[float]]],
             defaults: Dict[str, Thresholds]
             ) -> Tuple[Dict[str, Thresholds], Dict[str, int],
                        Dict[str, str]]:
    """Fit every test on the trials ``keys``.

    Returns:
        ``(thresholds, fitted, kept)``: test -> thresholds (all tests of
        ``defaults``), test -> trials fitted on, test -> why not fitted.
    """
    thresholds = {test: dict(values) for test, values in defaults.items()}
    fitted, kept = {}, {}
    for test in _tests_of(defaults, keys):
        trials = [key for key in keys if key[1] == test]
        if not trials:
            kept[test] = 'no trials scored by the coach'
        elif not search_space.get(test):
            kept[test] = 'no thresholds to search'
        elif len(trials) < MIN_TRIALS_TO_FIT:
            kept[test] = (f'{len(trials)} trials, fewer than the '
                          f'{MIN_TRIALS_TO_FIT} needed to fit')
        else:
            thresholds[test] = fit_thresholds(
                [documents[key] for key in trials],
                [coach[key] for key in trials], rescore, search_space[test],
                defaults[test])
            fitted[test] = len(trials)
    return thresholds, fitted, kept


def _tests_of(defaults: Dict[str, Thresholds],
              keys: Sequence[Key]) -> List[str]:
    """Tests with defaults or trials, in screen order."""
    present = set(defaults) | {key[1] for key in keys}
    return [test for test in TESTS if test in present]


# ---------------------------------------------------------------------------
# Cross-validation
# ---------------------------------------------------------------------------

def subject_folds(subjects: Sequence[str], folds: int,
                  seed: int = 0) -> List[List[str]]:
    """``min(folds, len(subjects))`` disjoint groups of subjects covering
    them all, assigned in a random order drawn from ``seed``; each group
    sorted.

    Raises:
        FmsError: fewer than two subjects or folds.
    """
    subjects = sorted(set(subjects))
    if len(subjects) < MIN_SUBJECTS:
        raise FmsError(f'cross-validation needs at least {MIN_SUBJECTS} '
                       f'subjects, found {len(subjects)}: score trials of '
                       f'more subjects')
    if folds < MIN_FOLDS:
        raise FmsError(f'folds is {folds}: use at least {MIN_FOLDS}')
    k = min(folds, len(subjects))
    order = np.random.default_rng(seed).permutation(len(subjects))
    groups: List[List[str]] = [[] for _ in range(k)]
    for position, index in enumerate(order):
        groups[position % k].append(subjects[index])
    return [sorted(group) for group in groups]


def _predict(keys: Sequence[Key], documents: Dict[Key, object],
             rescore: Rescore,
             thresholds: Dict[str, Thresholds]) -> Dict[Key, int]:
    """Rescored trials ``{key: score}`` with the thresholds of each test."""
    predicted = {}
    for key in keys:
        try:
            predicted[key] = _rescored([documents[key]], rescore,
                                       thresholds.get(key[1], {}))[0]
        except FmsError as e:
            raise FmsError(f'{trial_name(key)}: {e}') from None
    return predicted


def _cross_validate(keys: Sequence[Key], documents: Dict[Key, object],
                    coach: Dict[Key, int], rescore: Rescore,
                    search_space: Dict[str, Dict[str, List[float]]],
                    defaults: Dict[str, Thresholds], folds: int, seed: int
                    ) -> Tuple[List[FoldResult], Dict[Key, int]]:
    """Per-fold fits and the pooled held-out predictions ``{key: score}``."""
    subjects = sorted({key[0] for key in keys})
    results, held_out = [], {}
    for index, group in enumerate(subject_folds(subjects, folds, seed)):
        chosen = set(group)
        train = [key for key in keys if key[0] not in chosen]
        test = [key for key in keys if key[0] in chosen]
        thresholds, _, _ = _fit_all(train, documents, coach, rescore,
                                    search_space, defaults)
        held_out.update(_predict(test, documents, rescore, thresholds))
        results.append(FoldResult(
            index=index, held_out_subjects=list(group),
            train_subjects=[s for s in subjects if s not in chosen],
            n_train=len(train), n_held_out=len(test), thresholds=thresholds))
    return results, held_out


# ---------------------------------------------------------------------------
# Calibration
# ---------------------------------------------------------------------------

def _figures(keys: Sequence[Key], predicted: Dict[Key, int],
             coach: Dict[Key, int]) -> Dict[str, Figures]:
    """``'overall'`` and each test with trials -> :class:`Figures`."""
    groups = {OVERALL: list(keys)}
    for test in TESTS:
        trials = [key for key in keys if key[1] == test]
        if trials:
            groups[test] = trials
    figures = {}
    for name, trials in groups.items():
        a = [predicted[key] for key in trials]
        b = [coach[key] for key in trials]
        figures[name] = Figures(len(trials), exact_agreement(a, b),
                                weighted_kappa(a, b))
    return figures


def _check_inputs(search_space: Dict[str, Dict[str, List[float]]],
                  defaults: Dict[str, Thresholds]) -> None:
    """FmsError for a search space that names unknown tests or thresholds
    without a default, or has empty or non-finite grids."""
    for test, grid in search_space.items():
        if test not in TESTS:
            raise FmsError(f'search space names unknown test {test!r}: use '
                           f'one of {", ".join(TESTS)}')
        for name, values in grid.items():
            if name not in defaults.get(test, {}):
                raise FmsError(f'{test} threshold {name!r} has no default '
                               f'value: add it to the defaults')
            array = np.asarray(values, dtype=np.float64)
            if array.ndim != 1 or array.size == 0 \
                    or not np.isfinite(array).all():
                raise FmsError(f'{test} threshold {name!r}: the grid must '
                               f'be a non-empty list of finite numbers')


def _judge(before: Figures, cross: Figures) -> Tuple[bool, str]:
    if math.isnan(before.kappa) or math.isnan(cross.kappa):
        return False, ('cannot judge: the kappa before or after '
                       'cross-validation is undefined (one score only)')
    if cross.kappa > before.kappa + GENERALISE_MARGIN:
        return True, (f'the calibration generalises: cross-validated kappa '
                      f'{cross.kappa:.2f} > {before.kappa:.2f} with the '
                      f'defaults')
    return False, (f'the calibration does not generalise: cross-validated '
                   f'kappa {cross.kappa:.2f} is not above {before.kappa:.2f} '
                   f'with the defaults: keep the defaults or score more '
                   f'subjects')


def calibrate(documents: Dict[Key, object], coach: Dict[Key, int],
              rescore: Rescore,
              search_space: Dict[str, Dict[str, List[float]]],
              defaults: Dict[str, Thresholds], folds: int = 5,
              seed: int = 0, left_out: int = 0) -> CalibrationResult:
    """Fit thresholds to the coach's scores and cross-validate the fit.

    Args:
        documents: result documents by trial key (only those the coach
            scored are used).
        coach: the coach's scores by trial key.
        rescore: ``rescore(document, thresholds of its test) -> score``.
        search_space: test -> threshold key -> grid values to try.
        defaults: test -> threshold key -> default value.
        folds: cross-validation folds (at most one per subject).
        seed: order in which subjects are dealt to the folds.
        left_out: trials the caller left out, reported with the result.

    Raises:
        FmsError: no trial scored by the coach, fewer than two subjects,
            a bad search space.
    """
    keys = sorted(set(documents) & set(coach),
                  key=lambda key: (key[0], key[1], key[2] or ''))
    if not keys:
        raise FmsError('no result document has a coach score: check that '
                       'subject names, tests and sides match')
    _check_inputs(search_space, defaults)
    subjects = sorted({key[0] for key in keys})
    fold_results, held_out = _cross_validate(keys, documents, coach, rescore,
                                             search_space, defaults, folds,
                                             seed)
    thresholds, fitted, kept = _fit_all(keys, documents, coach, rescore,
                                        search_space, defaults)
    before = _figures(keys, _predict(keys, documents, rescore, defaults),
                      coach)
    cross = _figures(keys, held_out, coach)
    generalises, judgement = _judge(before[OVERALL], cross[OVERALL])
    return CalibrationResult(
        thresholds=thresholds,
        defaults={test: dict(values) for test, values in defaults.items()},
        fitted=fitted,
        searched={test: sorted(search_space[test]) for test in fitted},
        kept_defaults=kept, n_trials=len(keys), subjects=subjects,
        before=before,
        in_sample=_figures(keys, _predict(keys, documents, rescore,
                                          thresholds), coach),
        cross_validated=cross, folds=fold_results, generalises=generalises,
        judgement=judgement, left_out=left_out)
