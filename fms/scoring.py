"""Judging a trial's criteria and suggesting its score, by the table's roles.

:func:`evaluate` is pure: measurements and thresholds in, a
:class:`Verdict` (score, criteria, reasons) out, so :func:`rescore` can judge a saved result again with
other thresholds.  The rules read only the roles of
:data:`fms.criteria.CRITERIA` and the data of
:data:`fms.criteria.SCORE_RULES`, in this order:

1. pain reported, in the test or in its clearing test
   (:data:`fms.criteria.CLEARED_BY`): 0;
2. a ``pattern`` or ``required`` criterion not met: 1;
3. a ladder test (``grade3`` / ``grade2`` rows): the best grade met, else 1
   (when a grade row was not judged, the reasons say the score could be
   higher); any other test starts from 3;
4. a ``compensation`` not met: at most 2;
5. the test's :class:`fms.criteria.TopLimit` (heels raised, the diagonal
   rotary pattern): at most its score.

A criterion that was not judged (not observable in the view, or its
joints not seen) is never a failure; its reason line says what it could
change (``could lower the score to 1``, ``could raise the score to 3``).
No score is reported that such a criterion could change: the score is
then provisional (None), with every score still possible (each criterion
not judged tried both ways) and what to film to decide it.
"""
from __future__ import annotations

import dataclasses
import itertools
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from fms import FmsError
from fms.criteria import (CLEARED_BY, COMPENSATION, GRADES, PATTERN,
                          REQUIRED, SCORE_RULES, Criterion, ScoreRule,
                          check_clearing, criteria_of, derived_input, judge,
                          role_of)
from fms.labels import scores_in_words
from fms.measurements import Measurement
from fms.protocol import MAX_SCORE, SCORES, VIEWS, check_test, check_view
from fms.results import CriterionResult, repetition_measurements

#: Score when the subject reports pain (FMS: pain gives 0).
PAIN_SCORE = 0
#: Score when the pattern is not performed (a pattern or required
#: criterion not met, or no grade of a ladder test met).
NOT_PERFORMED_SCORE = 1
#: The most a compensation leaves.
COMPENSATED_SCORE = 2


def _descriptions(results: Sequence[CriterionResult],
                  roles: Mapping[str, str], role: str) -> List[str]:
    """What the criteria of ``role`` that were not met look for."""
    return [r.description for r in results
            if roles[r.name] == role and r.passed is False]


def _ladder(results: Sequence[CriterionResult],
            rows: Mapping[str, Criterion], roles: Mapping[str, str],
            inputs: Mapping) -> Tuple[int, List[str]]:
    """The best grade met by the ladder rows, else 1, with its reason."""
    ladder = [r for r in results if roles[r.name] in GRADES]
    unjudged = [r for r in ladder if r.passed is None]
    for grade in sorted(set(GRADES.values()), reverse=True):
        met = [r for r in ladder if GRADES[roles[r.name]] == grade
               and r.passed]
        if met:
            return grade, [f'{_named(met[0], rows, inputs)}: {grade}']
    if unjudged:
        names = ' and '.join(_named(r, rows, inputs) for r in unjudged)
        best = max(GRADES[roles[r.name]] for r in unjudged)
        return NOT_PERFORMED_SCORE, [
            f'uncertain: {names} not judged: {NOT_PERFORMED_SCORE} until '
            f'judged, could be up to {best}']
    names = ' nor '.join(_named(r, rows, inputs) for r in ladder)
    return NOT_PERFORMED_SCORE, [f'neither {names}: {NOT_PERFORMED_SCORE}']


def _could_change(role: str, score: int) -> str:
    """What a criterion of ``role`` that was not judged could do to
    ``score`` ('' when nothing)."""
    if role in (PATTERN, REQUIRED) and score > NOT_PERFORMED_SCORE:
        return f': could lower the score to {NOT_PERFORMED_SCORE}'
    if role == COMPENSATION and score > COMPENSATED_SCORE:
        return f': could lower the score to {COMPENSATED_SCORE}'
    if role in GRADES and GRADES[role] > score:
        return f': could raise the score to {GRADES[role]}'
    return ''


def _named(result: CriterionResult, rows: Mapping[str, Criterion],
           inputs: Mapping) -> str:
    """What a criterion looks for, with the inputs that chose its role:
    ``thumbs at chin level (female)``."""
    chosen = sorted({name for name, _, _ in rows[result.name].role_by})
    given = ', '.join(str(inputs[name]) for name in chosen)
    return result.description + (f' ({given})' if given else '')


def suggest_score(test: str, results: Sequence[CriterionResult],
                  measurements: Mapping[str, Measurement],
                  inputs: Mapping) -> Tuple[int, List[str]]:
    """The score the judged criteria support (steps 2-5 of the module
    docstring) and why, one line each.

    Raises:
        FmsError: an input a row's role or the top score needs is missing.
    """
    rows = {row.name: row for row in criteria_of(test)}
    roles = {r.name: role_of(rows[r.name], inputs) for r in results}
    rule = SCORE_RULES.get(test, ScoreRule())
    limit = rule.limit
    failed = (_descriptions(results, roles, PATTERN)
              + _descriptions(results, roles, REQUIRED))
    if failed:
        reasons = [f'not met: {"; ".join(failed)}: {NOT_PERFORMED_SCORE}']
        if limit and limit.retest_note and derived_input(
                limit, measurements, inputs) != limit.value:
            reasons.append(limit.retest_note)
        return NOT_PERFORMED_SCORE, reasons + list(rule.notes)
    if any(role in GRADES for role in roles.values()):
        score, reasons = _ladder(results, rows, roles, inputs)
    else:
        score, reasons = MAX_SCORE, [f'all observed criteria met: '
                                     f'{MAX_SCORE}']
    compensations = _descriptions(results, roles, COMPENSATION)
    if compensations and score > COMPENSATED_SCORE:
        score, reasons = COMPENSATED_SCORE, [
            f'compensation, not met: {"; ".join(compensations)}: '
            f'{COMPENSATED_SCORE}']
    if limit and score > limit.score:
        value = derived_input(limit, measurements, inputs)
        if value is None and limit.needed:
            raise FmsError(f'{test}: the {limit.input} is unknown: '
                           f'{limit.help}')
        if value == limit.value:
            score, reasons = limit.score, [limit.reason]
    return score, reasons + list(rule.notes)


def _not_judgeable(test: str, view: str) -> None:
    other = [v for v in VIEWS if v != view]
    raise FmsError(f'no criterion of {test} can be judged in the {view} '
                   f'view: film it from the {other[0]} view with the '
                   f'whole body in frame')


def check_observable(test: str, view: str) -> None:
    """FmsError (as :func:`evaluate`'s) when no criterion of ``test`` is
    observable in ``view``: checked before measuring anything."""
    if not any(view in row.views for row in criteria_of(test)):
        _not_judgeable(test, view)


#: The reason line of a measurement set where no criterion was judged.
NOTHING_JUDGED = 'nothing judged: the joints of every criterion were not found'


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The criteria of one repetition judged, and the score they support.

    Attributes:
        score: the suggested score 0-3; None when it is provisional (a
            criterion that was not judged could change it) or when nothing
            was judged (``judged`` False).
        possible: every score still possible, ascending: ``(score,)`` when
            the score is definite, e.g. ``(1, 3)`` for a front-view deep
            squat whose knees stay over the feet.
        criteria: every criterion of the test, judged or not.
        reasons: one line each: why that score, and what was not judged.
        to_film: for a provisional score, what to film so that the
            criteria that decide it can be judged (one line per view).
        judged: whether any criterion was judged.
    """
    score: Optional[int]
    possible: Tuple[int, ...]
    criteria: List[CriterionResult]
    reasons: List[str]
    to_film: List[str] = dataclasses.field(default_factory=list)
    judged: bool = True

    @property
    def provisional(self) -> bool:
        """Whether criteria not judged could change the score."""
        return len(self.possible) > 1


def check_judged(test: str, view: str, verdicts: Sequence[Verdict]) -> None:
    """FmsError when no criterion of any of ``verdicts`` (one per
    repetition) was judged: the message names the measurements of the
    criteria observable in ``view`` (their joints were never seen there)."""
    if any(verdict.judged for verdict in verdicts):
        return
    names = [row.measurement for row in criteria_of(test)
             if view in row.views]
    names = list(dict.fromkeys(names))
    raise FmsError(f'{test} ({view} view): no criterion could be judged: '
                   f'the joints needed ({", ".join(names)}) were not seen at '
                   f'any repetition\'s key frame ({len(verdicts)} '
                   f'repetition(s)): film the whole body, feet included, '
                   f'from the {view}')


def _outcomes(test: str, results: Sequence[CriterionResult],
              measurements: Mapping[str, Measurement], inputs: Mapping
              ) -> Dict[Tuple[bool, ...], int]:
    """The score of every way the criteria not judged could turn out:
    ``{(passed of each open criterion, in table order): score}``."""
    open_ = [i for i, r in enumerate(results) if r.passed is None]
    scores = {}
    for outcome in itertools.product((True, False), repeat=len(open_)):
        settled = list(results)
        for i, passed in zip(open_, outcome):
            settled[i] = dataclasses.replace(results[i], passed=passed)
        scores[outcome] = suggest_score(test, settled, measurements,
                                        inputs)[0]
    return scores


def deciding(results: Sequence[CriterionResult],
             outcomes: Mapping[Tuple[bool, ...], int]
             ) -> List[CriterionResult]:
    """The criteria not judged whose outcome can change the score: flipping
    one of them alone changes it for some outcome of the others."""
    open_ = [r for r in results if r.passed is None]
    found = []
    for i, result in enumerate(open_):
        if any(outcomes[outcome] != outcomes[
                outcome[:i] + (not outcome[i],) + outcome[i + 1:]]
               for outcome in outcomes):
            found.append(result)
    return found


def film_advice(test: str, undecided: Sequence[CriterionResult],
                filmed: Sequence[str]) -> List[str]:
    """What to film to judge the ``undecided`` criteria, one line per view:
    a view not filmed that observes them (``film the side view for: femur
    below horizontal``), else the filmed view again with the joints in
    frame."""
    rows = {row.name: row for row in criteria_of(test)}
    wanted: Dict[str, List[str]] = {}
    for result in undecided:
        views = rows[result.name].views
        new = [v for v in views if v not in filmed]
        view = new[0] if new else views[0]
        wanted.setdefault(view, []).append(result.description)
    return [(f'film the {view} view for: ' if view not in filmed else
             f'film the {view} view again with the whole body in frame '
             f'for: ') + ', '.join(descriptions)
            for view, descriptions in wanted.items()]


def score_judged(test: str, results: List[CriterionResult],
                 measurements: Mapping[str, Measurement], inputs: Mapping,
                 filmed: Sequence[str]) -> Verdict:
    """The :class:`Verdict` of criteria already judged (``results``, in
    table order, from one view or fused from several), by the rules of the
    module docstring; ``filmed`` are the views they were judged from (for
    the advice on what to film)."""
    rows = {row.name: row for row in criteria_of(test)}
    not_judged = [f'not judged: {r.description} ({r.note})'
                  for r in results if r.passed is None]
    pain = ('pain reported' if inputs.get('pain') else
            f'pain in the {CLEARED_BY[test]}' if inputs.get('clearing_pain')
            else None)
    if pain:
        return Verdict(PAIN_SCORE, (PAIN_SCORE,), results,
                       [f'{pain}: 0 whatever the movement'] + not_judged)
    if all(r.passed is None for r in results):
        return Verdict(None, SCORES[1:], results,
                       [NOTHING_JUDGED] + not_judged, judged=False)
    score, reasons = suggest_score(test, results, measurements, inputs)
    outcomes = _outcomes(test, results, measurements, inputs)
    possible = tuple(sorted(set(outcomes.values())))
    not_judged = [f'not judged: {r.description} ({r.note})'
                  f'{_could_change(role_of(rows[r.name], inputs), score)}'
                  for r in results if r.passed is None]
    if len(possible) == 1:
        return Verdict(score, possible, results, reasons + not_judged)
    return Verdict(None, possible, results, reasons + not_judged,
                   film_advice(test, deciding(results, outcomes), filmed))


def evaluate(test: str, view: str, measurements: Mapping[str, Measurement],
             thresholds: Mapping[str, float], inputs: Mapping) -> Verdict:
    """Judge every criterion of ``test`` in ``view`` and suggest a score.

    Args:
        test, view: one of :data:`fms.protocol.TESTS` / ``VIEWS``.
        measurements: measurement name -> :class:`Measurement` (value None:
            not measured).
        thresholds: the test's threshold key -> value.
        inputs: what the camera cannot see: ``pain`` (True gives 0),
            ``clearing_pain`` (pain in the test's clearing test: 0),
            ``heels_raised``, ``sex``, ``pattern``.

    Returns:
        The :class:`Verdict`: the score the observed criteria support, or
        None with the scores still possible when a criterion that was not
        judged (not observable in the view, or its joints not seen) could
        change it; None with ``judged`` False when nothing was judged (e.g.
        at one repetition's key frame: the caller skips it,
        :func:`check_judged` when nothing at all was judged).

    Raises:
        FmsError: no criterion of the test is observable in this view
            (:func:`check_observable`), a threshold is missing, a needed
            input is missing, or clearing pain given for a test without a
            clearing test.
    """
    check_test(test)
    check_view(view)
    check_observable(test, view)
    check_clearing(test, inputs)
    results = [judge(row, view, measurements, thresholds)
               for row in criteria_of(test)]
    return score_judged(test, results, measurements, inputs, (view,))


def best_repetition(verdicts: Sequence[Verdict]) -> int:
    """Index of the repetition FMS scores, the best: the highest score
    still possible, then the highest lowest one (ties: the first); those
    where nothing was judged only when nothing was judged anywhere."""
    def rank(i: int) -> tuple:
        verdict = verdicts[i]
        return (verdict.judged, max(verdict.possible),
                min(verdict.possible), -i)
    return max(range(len(verdicts)), key=rank)


def best_possible(possibles: Sequence[Sequence[int]]) -> Tuple[int, ...]:
    """The scores still possible for the best of several attempts (the
    repetitions of a trial, or a trial and its retest) whose open criteria
    turn out independently: the lowest is the highest of their lowest, and
    every score an attempt can still get from there up is possible."""
    floor = max(min(p) for p in possibles)
    return tuple(sorted({s for p in possibles for s in p if s >= floor}))


def trial_possible(verdicts: Sequence[Verdict]) -> Tuple[int, ...]:
    """The scores still possible for a trial scored by its best repetition
    (:func:`best_possible` of the repetitions where anything was judged)."""
    judged = [v for v in verdicts if v.judged] or list(verdicts)
    return best_possible([v.possible for v in judged])


def provisional_line(possible: Sequence[int], to_film: Sequence[str]) -> str:
    """The reason line of a provisional score: ``provisional: 1 or 3 until
    the criteria not judged are: film the side view for: ...``."""
    advice = '; '.join(to_film) or 'film the trial again'
    return (f'provisional: {scores_in_words(possible)} until the criteria '
            f'not judged are: {advice}')


def definite(possible: Sequence[int]) -> Optional[int]:
    """The score when only one is still possible, else None."""
    return possible[0] if len(possible) == 1 else None


@dataclasses.dataclass(frozen=True)
class TrialScore:
    """A trial scored by its best repetition (:func:`score_repetitions`).

    Attributes:
        chosen: index of the best repetition (:func:`best_repetition`).
        score: the score, None when provisional.
        possible: the scores still possible (:func:`trial_possible`).
        to_film: for a provisional score, the chosen repetition's advice.
        reasons: the provisional line (when provisional), then the chosen
            repetition's reasons.
    """
    chosen: int
    score: Optional[int]
    possible: Tuple[int, ...]
    to_film: List[str]
    reasons: List[str]


def score_repetitions(test: str, view: str,
                      verdicts: Sequence[Verdict]) -> TrialScore:
    """The trial's score from its repetitions' verdicts (FMS scores the
    best); FmsError (:func:`check_judged`) when nothing was judged in any
    (``view`` names the views for that message)."""
    check_judged(test, view, verdicts)
    chosen = best_repetition(verdicts)
    possible = trial_possible(verdicts)
    score = definite(possible)
    to_film = [] if score is not None else list(verdicts[chosen].to_film)
    lead = [] if score is not None else [provisional_line(possible, to_film)]
    return TrialScore(chosen, score, possible, to_film,
                      lead + list(verdicts[chosen].reasons))


def rescore(document: dict, thresholds: Mapping[str, float]
            ) -> Optional[int]:
    """The score of a saved result document (:func:`fms.results.
    result_document`, any version read) judged again with ``thresholds``
    (a subset of the test's keys; the document's own values fill the
    rest); None when the score is provisional.

    Every repetition of the document is judged again and the best is
    scored (FMS scores the best repetition), so other thresholds can
    choose another repetition than the analysis did; FmsError
    (:func:`check_judged`) when no repetition can be judged; a document
    without repetition measurements is judged on its ``measurements``
    (:func:`fms.results.repetition_measurements`).  Several views of one
    trial: :func:`fms.fusion.fuse`."""
    merged = dict(document.get('thresholds') or {})
    merged.update(thresholds)
    inputs = document.get('inputs') or {}
    test, view = document['test'], document['view']
    verdicts = [evaluate(test, view, measurements, merged, inputs)
                for measurements in repetition_measurements(document)]
    return score_repetitions(test, view, verdicts).score
