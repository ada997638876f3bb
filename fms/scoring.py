"""Judging a trial's criteria and suggesting its score, by the table's roles.

:func:`evaluate` is pure: measurements and thresholds in, score, criteria
and reasons out, so :func:`rescore` can judge a saved result again with
other thresholds.  The rules read only the roles of
:data:`fms.criteria.CRITERIA` and the data of
:data:`fms.criteria.SCORE_RULES`, in this order:

1. pain reported, in the test or in its clearing test
   (:data:`fms.criteria.CLEARING_TESTS`): 0;
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
"""
from __future__ import annotations

from typing import List, Mapping, Optional, Sequence, Tuple

from fms import FmsError
from fms.criteria import (CLEARING_TESTS, COMPENSATION, GRADES, PATTERN,
                          REQUIRED, SCORE_RULES, Criterion, ScoreRule,
                          check_clearing, criteria_of, derived_input, judge,
                          role_of)
from fms.measurements import Measurement
from fms.protocol import MAX_SCORE, VIEWS, check_test, check_view
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


def check_judged(test: str, view: str, scores: Sequence[Optional[int]],
                 measurements: Sequence[Mapping[str, Measurement]]) -> None:
    """FmsError when every one of ``scores`` (one per repetition, from
    :func:`evaluate`) is None: no criterion could be judged at any
    repetition's key frame; the message names the measurements of the
    criteria observable in ``view`` (their joints were never seen there)."""
    if any(score is not None for score in scores):
        return
    names = [row.measurement for row in criteria_of(test)
             if view in row.views]
    names = list(dict.fromkeys(names))
    raise FmsError(f'{test} ({view} view): no criterion could be judged: '
                   f'the joints needed ({", ".join(names)}) were not seen at '
                   f'any repetition\'s key frame ({len(measurements)} '
                   f'repetition(s)): film the whole body, feet included, '
                   f'from the {view}')


def evaluate(test: str, view: str, measurements: Mapping[str, Measurement],
             thresholds: Mapping[str, float], inputs: Mapping
             ) -> Tuple[Optional[int], List[CriterionResult], List[str]]:
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
        ``(score, criteria, reasons)``: the score is the one the observed
        criteria support; reasons say why and list the criteria not judged
        and the view that would judge them.  The score is None when no
        criterion was judged (their joints not found in ``measurements``,
        e.g. at one repetition's key frame): the caller skips it
        (:func:`check_judged` when nothing at all was judged).

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
    not_judged = [f'not judged: {r.description} ({r.note})'
                  for r in results if r.passed is None]
    if inputs.get('pain'):
        return PAIN_SCORE, results, ['pain reported: 0 whatever the '
                                     'movement'] + not_judged
    if inputs.get('clearing_pain'):
        return PAIN_SCORE, results, [
            f'pain in the {CLEARING_TESTS[test]}: 0 whatever the '
            f'movement'] + not_judged
    if all(r.passed is None for r in results):
        return None, results, [NOTHING_JUDGED] + not_judged
    score, reasons = suggest_score(test, results, measurements, inputs)
    rows = {row.name: row for row in criteria_of(test)}
    not_judged = [f'not judged: {r.description} ({r.note})'
                  f'{_could_change(role_of(rows[r.name], inputs), score)}'
                  for r in results if r.passed is None]
    return score, results, reasons + not_judged


def rescore(document: dict, thresholds: Mapping[str, float]) -> int:
    """The score of a saved result document (:func:`fms.results.
    result_document`, any version read) judged again with ``thresholds``
    (a subset of the test's keys; the document's own values fill the
    rest).

    Every repetition of the document is judged again and the best score
    is returned (FMS scores the best repetition), so other thresholds can
    choose another repetition than the analysis did; a repetition where
    no criterion can be judged is skipped (FmsError, :func:`check_judged`,
    when none can); a document without repetition measurements is judged
    on its ``measurements`` (:func:`fms.results.repetition_measurements`)."""
    merged = dict(document.get('thresholds') or {})
    merged.update(thresholds)
    inputs = document.get('inputs') or {}
    test, view = document['test'], document['view']
    measured = repetition_measurements(document)
    scores = [evaluate(test, view, measurements, merged, inputs)[0]
              for measurements in measured]
    check_judged(test, view, scores, measured)
    return max(score for score in scores if score is not None)
