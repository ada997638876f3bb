"""Several views of one trial judged together, and a trial's retests.

The FMS films some tests from two cameras: a deep squat's depth is judged
from the side, its knees over the feet from the front.  :func:`fuse` judges
the result documents of one trial's views (:func:`fms.results.
result_document`) together: each criterion is taken from a view that
observes it (a view without a caveat for it first, e.g. the shoulder
mobility's fists from the front), and the score is the one the criteria
judged anywhere support.  A criterion observed in no view that could still
change the score leaves it provisional: None, with the scores still
possible and what to film (:class:`fms.scoring.Verdict`).

Repetitions: when every view found the same number of repetitions, the
views film the same ones, so repetition *i* of every view is fused with
repetition *i* of the others and the best fused repetition is scored; else
each view's best repetition is fused (a reason line says so).

Retests: a deep squat with the heels on a board and the rotary stability's
diagonal pattern are trials of their own (:func:`variant`); the FMS scores
the best, so :func:`score_trial` scores each variant's views together and
takes the best of the variants.

Everything here is pure: documents and thresholds in, scores out, so the
agreement and calibration judge saved results again the same way.
"""
from __future__ import annotations

import dataclasses
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from fms import FmsError
from fms.criteria import SCORE_RULES, Criterion, criteria_of, judge
from fms.measurements import Measurements
from fms.protocol import check_side, check_test
from fms.results import CriterionResult, repetition_measurements
from fms.scoring import (best_possible, best_repetition, definite, evaluate,
                         score_judged, score_repetitions)

#: Inputs that are true for the trial when any view's row reports them.
ANY_VIEW_INPUTS = ('pain', 'clearing_pain')


@dataclasses.dataclass
class FusedTrial:
    """The views of one trial (one variant) judged together.

    Attributes:
        test, side: the trial's (side None for unilateral tests).
        variant: the retest it is (:func:`variant`), or None.
        views: the views fused, in the documents' order.
        score: the suggested score, None when provisional.
        possible: the scores still possible, ascending.
        to_film: what to film to decide a provisional score.
        reasons: why, one line each (the chosen repetition's).
        criteria: every criterion of the test at the chosen repetition,
            ``view`` naming the view it was judged from.
        repetitions: view -> the repetition fused from it, numbered from 1.
        documents: the result documents fused.
        complete: whether every criterion of every fused repetition was
            judged (then no thresholds can make the score provisional).
    """
    test: str
    side: Optional[str]
    variant: Optional[str]
    views: Tuple[str, ...]
    score: Optional[int]
    possible: Tuple[int, ...]
    to_film: List[str]
    reasons: List[str]
    criteria: List[CriterionResult]
    repetitions: Dict[str, int]
    documents: Tuple[dict, ...]
    complete: bool


def variant(test: str, inputs: Mapping) -> Optional[str]:
    """The retest a trial of ``test`` with ``inputs`` is: when the input of
    its test's top limit (:data:`fms.criteria.SCORE_RULES`) has the
    limiting value, that value in words, ``'heels raised'`` or
    ``'diagonal'``; None for the first trial and the other tests."""
    limit = SCORE_RULES[test].limit if test in SCORE_RULES else None
    if limit is None or inputs.get(limit.input) != limit.value:
        return None
    return (limit.input.replace('_', ' ') if limit.value is True
            else str(limit.value))


def _preference(row: Criterion, view: str) -> int:
    """0: the view observes the row without a caveat, 1: with one (e.g. the
    fists' sideways offset from the side), 2: it cannot observe it."""
    if view not in row.views:
        return 2
    return 1 if dict(row.view_notes).get(view) else 0


def _judged_anywhere(row: Criterion, measured: Sequence[Tuple[str,
                     Measurements, Mapping[str, float]]]) -> CriterionResult:
    """``row`` judged from the best view that could judge it (view
    preference, then document order); the best view's unjudged result
    (with its note) when none could."""
    results = [(_preference(row, view), i,
                judge(row, view, measurements, thresholds))
               for i, (view, measurements, thresholds)
               in enumerate(measured)]
    judged = [r for r in results if r[2].passed is not None]
    return min(judged or results, key=lambda r: r[:2])[2]


def _merged_measurements(measured) -> Measurements:
    """One measurement set for the inputs read from measurements (the
    rotary pattern): each name from the first view that measured it, the
    side view first."""
    merged: Measurements = {}
    for view, measurements, _ in sorted(
            measured, key=lambda m: m[0] != 'side'):
        for name, value in measurements.items():
            if name not in merged and value is not None \
                    and value.value is not None:
                merged[name] = value
    return merged


def _inputs(documents: Sequence[dict]) -> Dict[str, object]:
    """The trial's inputs: the first document's, with pain (and clearing
    pain) true when any view's document reports it."""
    inputs = dict(documents[0].get('inputs') or {})
    for name in ANY_VIEW_INPUTS:
        if any((d.get('inputs') or {}).get(name) for d in documents):
            inputs[name] = True
    return inputs


def _check_group(documents: Sequence[dict]) -> Tuple[str, Optional[str]]:
    """The documents' shared test and side; FmsError (naming the files)
    when they are not views of one trial."""
    if not documents:
        raise FmsError('no result to fuse: give the results of the views '
                       'of one trial')
    first = documents[0]
    test, side = check_test(first.get('test')), first.get('side') or None
    check_side(test, side)
    seen: Dict[str, str] = {}
    for document in documents:
        source = document.get('source') or '?'
        if (document.get('test'), document.get('side') or None) != (test,
                                                                     side):
            raise FmsError(f'{source} is not a view of the same trial as '
                           f'{first.get("source") or "?"}: fuse the views of '
                           f'one test and side')
        view = document.get('view')
        if view in seen:
            raise FmsError(f'{seen[view]} and {source} are both the {view} '
                           f'view of one trial: keep one of them')
        seen[view] = source
    return test, side


def fuse(documents: Sequence[dict],
         thresholds: Optional[Mapping[str, float]] = None) -> FusedTrial:
    """Judge the views of one trial together (module docstring).

    Args:
        documents: the result documents of the trial's views, one per view.
        thresholds: threshold overrides (a subset of the test's keys); each
            document's own values fill the rest.

    Raises:
        FmsError: documents of different trials, a view twice, no criterion
            judged in any view, an input the score needs missing.
    """
    test, side = _check_group(documents)
    inputs = _inputs(documents)
    views = tuple(d['view'] for d in documents)
    per_view = []
    for document in documents:
        merged = dict(document.get('thresholds') or {})
        merged.update(thresholds or {})
        per_view.append((document['view'], repetition_measurements(document),
                         merged))
    counts = {len(measured) for _, measured, _ in per_view}
    notes = []
    if len(counts) == 1:
        pairs = [[(view, measured[i], limits)
                  for view, measured, limits in per_view]
                 for i in range(counts.pop())]
        numbers = [{view: i + 1 for view in views} for i in range(len(pairs))]
    else:
        best = [best_repetition([evaluate(test, view, m, limits, inputs)
                                 for m in measured])
                for view, measured, limits in per_view]
        pairs = [[(view, measured[b], limits) for (view, measured, limits), b
                  in zip(per_view, best)]]
        numbers = [{view: b + 1 for view, b in zip(views, best)}]
        found = ' and '.join(str(len(m)) for _, m, _ in per_view)
        notes.append(f'the views found {found} repetitions: each view\'s '
                     f'best repetition was fused')
    verdicts = []
    for measured in pairs:
        results = [_judged_anywhere(row, measured)
                   for row in criteria_of(test)]
        verdicts.append(score_judged(test, results,
                                     _merged_measurements(measured), inputs,
                                     views))
    trial = score_repetitions(test, ' and '.join(views), verdicts)
    chosen = trial.chosen
    if len(pairs) > 1:
        notes.append(f'repetition {chosen + 1} of {len(pairs)}, the best')
    return FusedTrial(
        test=test, side=side, variant=variant(test, inputs), views=views,
        score=trial.score, possible=trial.possible, to_film=trial.to_film,
        reasons=trial.reasons + notes,
        criteria=verdicts[chosen].criteria, repetitions=numbers[chosen],
        documents=tuple(documents),
        complete=all(c.passed is not None for v in verdicts
                     for c in v.criteria))


@dataclasses.dataclass
class ScoredTrial:
    """A trial side scored from all its documents: the best variant.

    Attributes:
        score: the score that counts (None: provisional).
        possible: the scores still possible.
        counted: the variant whose score counts (the best; ties: the first
            trial, not a retest).
        variants: every variant's :class:`FusedTrial`, first trial first.
    """
    score: Optional[int]
    possible: Tuple[int, ...]
    counted: FusedTrial
    variants: List[FusedTrial]


def group_variants(documents: Sequence[dict]) -> List[List[dict]]:
    """The documents of one trial side grouped by :func:`variant` (the
    first trial first, then the retests in order of appearance)."""
    groups: Dict[Optional[str], List[dict]] = {}
    for document in documents:
        name = variant(document.get('test'), document.get('inputs') or {})
        groups.setdefault(name, []).append(document)
    order = sorted(groups, key=lambda name: name is not None)
    return [groups[name] for name in order]


def score_trial(documents: Sequence[dict],
                thresholds: Optional[Mapping[str, float]] = None
                ) -> ScoredTrial:
    """Score one trial side from the documents of all its views and
    retests: each variant fused (:func:`fuse`), the best counts (FMS scores
    the best trial, a retest's own limit included: a heels-raised pass is
    2)."""
    fused = [fuse(group, thresholds) for group in group_variants(documents)]
    possible = best_possible([f.possible for f in fused])
    best = max(range(len(fused)), key=lambda i: (
        max(fused[i].possible), min(fused[i].possible), -i))
    return ScoredTrial(definite(possible), possible, fused[best], fused)


def rescore_trial(documents: Sequence[dict],
                  thresholds: Mapping[str, float]) -> Optional[int]:
    """:func:`score_trial`'s score with ``thresholds``: the ``rescore`` of
    :func:`fms.calibration.calibrate` for trials of several documents."""
    return score_trial(documents, thresholds).score


def is_complete(documents: Sequence[dict]) -> bool:
    """Whether every criterion of every fused repetition of every variant
    was judged: such a trial is never provisional, whatever the thresholds
    (the trials calibration can fit on)."""
    return all(f.complete for f in score_trial(documents).variants)
