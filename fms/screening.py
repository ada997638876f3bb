"""A screening session's scores per athlete: the session document.

:func:`session_document` turns the manifest (:mod:`fms.manifest`) and the
result document of each filmed trial view into the session's JSON
document (``DIR/session.json``; the HTML reports, :mod:`fms.html_report`,
show it).  Per athlete: each test side scored from its views and retests
together (:func:`fms.fusion.score_trial`), the seven counted scores (the
lower side of a bilateral test), the total out of 21, the asymmetries, the
raised-risk flag (total <= 14) and how many tests are provisional; with
the coach's scores, both side by side and their agreement.

A provisional score (None) leaves the total a range: a provisional test
counts its lowest to its highest possible score, a test not filmed 0 to 3.
The risk flag is true when even the highest total is at most 14, false
when even the lowest is above, and None (undecided) otherwise.
"""
from __future__ import annotations

import dataclasses
from typing import List, Mapping, Optional, Sequence, Tuple

from common.numbers import finite_or_none
from fms.fusion import ScoredTrial, score_trial
from fms.labels import words
from fms.manifest import Manifest, TrialRow
from fms.protocol import (BILATERAL_TESTS, CLEARING_DESCRIPTIONS,
                          CLEARING_TESTS, MAX_SCORE, RISK_TOTAL, SCORES,
                          TEST_TITLES, TESTS, Key, counted_score,
                          trial_sides)
from fms.results import CriterionResult
from fms.scoring import definite
from fms.statistics import exact_agreement, weighted_kappa

#: ``format`` and ``version`` of the session document.
SESSION_FORMAT = 'fms-session'
SESSION_VERSION = 1


@dataclasses.dataclass(frozen=True)
class ViewResult:
    """One analysed trial view: its manifest row, its result document and
    its report files (paths relative to the session folder)."""
    row: TrialRow
    document: dict
    result: str
    plot: str
    key_frame: str
    source: str


def _view_name(row: TrialRow) -> str:
    """``hurdle_step left, side view``."""
    return ' '.join(p for p in (row.test, row.side, row.variant) if p) \
        + f', {row.view} view'


def page_name(athlete: str) -> str:
    """The athlete's report page: ``anna.html`` (spaces as ``_``)."""
    return athlete.replace(' ', '_') + '.html'


def _criterion(result: CriterionResult) -> dict:
    return {'name': result.name, 'description': result.description,
            'view': result.view, 'value': result.value, 'unit': result.unit,
            'comparison': result.comparison, 'threshold': result.threshold,
            'passed': result.passed, 'note': result.note}


def _view(view: ViewResult) -> dict:
    document = view.document
    return {'view': view.row.view, 'row': view.row.row,
            'source': view.source, 'result': view.result, 'plot': view.plot,
            'key_frame': view.key_frame, 'score': document.get('score'),
            'possible': list(document.get('possible') or []),
            'repetition': document.get('repetition'),
            'repetitions': [{k: r.get(k) for k in (
                'index', 'first_frame', 'last_frame', 'key_frame', 'score')}
                for r in document.get('repetitions') or []]}


def _side(side: Optional[str], scored: ScoredTrial,
          views: Sequence[ViewResult], coach: Optional[int]) -> dict:
    """One side of a test: its score from the views of the counted trial."""
    counted = scored.counted
    by_document = {id(v.document): v for v in views}
    return {'side': side, 'score': scored.score,
            'possible': list(scored.possible), 'coach': coach,
            'reasons': list(counted.reasons),
            'to_film': list(counted.to_film), 'variant': counted.variant,
            'criteria': [_criterion(c) for c in counted.criteria],
            'views': [_view(by_document[id(d)])
                      for d in counted.documents]}


def _counted_possible(test: str, sides: Sequence[dict]
                      ) -> Tuple[int, ...]:
    """The scores still possible for the test: the lower side's."""
    if len(sides) < len(trial_sides(test)):
        return ()
    lows = sides[0]['possible']
    for side in sides[1:]:
        lows = [min(a, b) for a in lows for b in side['possible']]
    return tuple(sorted(set(lows)))


def _test(test: str, views: Sequence[ViewResult],
          coach: Mapping[Key, int], athlete: str) -> dict:
    """One test of an athlete: every side filmed, the counted score."""
    sides = []
    for side in trial_sides(test):
        filmed = [v for v in views if v.row.side == side]
        if filmed:
            sides.append(_side(side, score_trial([v.document
                                                  for v in filmed]),
                               filmed, coach.get((athlete, test, side))))
    possible = _counted_possible(test, sides)
    coach_sides = {s: coach[athlete, test, s] for s in trial_sides(test)
                   if (athlete, test, s) in coach}
    return {'test': test, 'title': TEST_TITLES[test],
            'score': definite(possible),
            'possible': list(possible), 'missing': not sides,
            'coach': counted_score(test, coach_sides), 'sides': sides}


def _totals(tests: Sequence[dict]) -> dict:
    """Total, its range, the risk flag and the counts of an athlete."""
    low = sum(min(t['possible']) if t['possible'] else 0 for t in tests)
    high = sum(max(t['possible']) if t['possible'] else MAX_SCORE
               for t in tests)
    risk = True if high <= RISK_TOTAL else False if low > RISK_TOTAL else None
    return {'total': low if low == high else None,
            'total_range': [low, high], 'risk': risk,
            'provisional_tests': sum(1 for t in tests if t['possible']
                                     and t['score'] is None),
            'missing_tests': [t['test'] for t in tests if t['missing']]}


def _asymmetries(tests: Sequence[dict]) -> List[dict]:
    """Bilateral tests whose two definite side scores differ."""
    found = []
    for test in tests:
        scores = {s['side']: s['score'] for s in test['sides']}
        if (test['test'] in BILATERAL_TESTS and len(scores) == 2
                and None not in scores.values()
                and scores['left'] != scores['right']):
            found.append({'test': test['test'], 'left': scores['left'],
                          'right': scores['right']})
    return found


def _clearing(manifest: Manifest, athlete: str
              ) -> Tuple[List[dict], List[str]]:
    """The three clearing tests of an athlete, and a note for each one not
    recorded (assumed painless)."""
    pain = {row.clearing: row.pain for row in manifest.clearing
            if row.athlete == athlete}
    entries = [{'clearing': name, 'description': CLEARING_DESCRIPTIONS[name],
                'test': test, 'pain': pain.get(name)}
               for name, test in CLEARING_TESTS.items()]
    notes = [f'{e["description"]} not recorded: assumed no pain'
             for e in entries if e['pain'] is None]
    return entries, notes


def _pairs(tests: Sequence[dict]) -> Tuple[List[Tuple[int, int]], int]:
    """``([(automatic, coach)] of the definite sides the coach scored,
    number of provisional sides the coach scored)``."""
    pairs, provisional = [], 0
    for test in tests:
        for side in test['sides']:
            if side['coach'] is None:
                continue
            if side['score'] is None:
                provisional += 1
            else:
                pairs.append((side['score'], side['coach']))
    return pairs, provisional


def _agreement(pairs: Sequence[Tuple[int, int]], provisional: int,
               kappa: bool = False) -> dict:
    automatic, coach = [a for a, _ in pairs], [c for _, c in pairs]
    figures = {'trials': len(pairs), 'exact': (
        exact_agreement(automatic, coach) if pairs else None),
        'provisional': provisional}
    if kappa:
        figures['kappa'] = finite_or_none(
            weighted_kappa(automatic, coach) if pairs else None)
    return figures


def _athlete(manifest: Manifest, athlete: str,
             views: Sequence[ViewResult],
             coach: Optional[Mapping[Key, int]]) -> dict:
    tests = [_test(test, [v for v in views if v.row.test == test],
                   coach or {}, athlete) for test in TESTS]
    clearing, notes = _clearing(manifest, athlete)
    coach_scores = [t['coach'] for t in tests]
    coach_total = (sum(coach_scores) if coach is not None
                   and None not in coach_scores else None)
    document = {'athlete': athlete, 'page': page_name(athlete)}
    document.update(_totals(tests))
    document.update({
        'asymmetries': _asymmetries(tests), 'clearing': clearing,
        'coach_total': coach_total,
        'coach_risk': (None if coach_total is None
                       else coach_total <= RISK_TOTAL),
        'agreement': (_agreement(*_pairs(tests)) if coach is not None
                      else None),
        'notes': notes, 'tests': tests})
    return document


def session_document(manifest: Manifest, views: Sequence[ViewResult],
                     coach: Optional[Mapping[Key, int]] = None,
                     failed: Optional[Mapping[int, str]] = None) -> dict:
    """The session document (module docstring) of every athlete of the
    manifest, from the analysed views; ``coach``: the coach's scores by
    ``(athlete, test, side)`` (:func:`fms.coach_scores.load_coach_csv`),
    or None; ``failed``: manifest row -> why its view could not be
    analysed (a note of its athlete's)."""
    athletes = [_athlete(manifest, name,
                         [v for v in views if v.row.athlete == name], coach)
                for name in manifest.athletes()]
    for athlete in athletes:
        athlete['notes'] += [
            f'row {row.row} ({_view_name(row)}) not scored: {failed[row.row]}'
            for row in manifest.trials
            if row.athlete == athlete['athlete'] and row.row in (failed or {})]
    agreement = None
    if coach is not None:
        pairs, provisional = [], 0
        for athlete in athletes:
            found, open_ = _pairs(athlete['tests'])
            pairs += found
            provisional += open_
        agreement = _agreement(pairs, provisional, kappa=True)
    return {'format': SESSION_FORMAT, 'version': SESSION_VERSION,
            'manifest': manifest.path, 'risk_total': RISK_TOTAL,
            'max_total': MAX_SCORE * len(TESTS), 'scores': list(SCORES),
            'athletes': athletes, 'agreement': agreement}


def session_lines(session: Mapping) -> List[str]:
    """The session in a few lines, one per athlete: total (or its range),
    the risk flag, asymmetries and provisional tests."""
    lines = []
    for athlete in session['athletes']:
        low, high = athlete['total_range']
        total = (f'{athlete["total"]}/{session["max_total"]}'
                 if athlete['total'] is not None
                 else f'{low}-{high}/{session["max_total"]} (provisional)')
        risk = {True: 'raised risk', False: 'no raised risk',
                None: 'risk undecided'}[athlete['risk']]
        parts = [f'{athlete["athlete"]}: total {total}, {risk}']
        if athlete['asymmetries']:
            parts.append('asymmetries: ' + ', '.join(
                words(a['test']) for a in athlete['asymmetries']))
        if athlete['provisional_tests']:
            parts.append(f'{athlete["provisional_tests"]} provisional')
        if athlete['missing_tests']:
            parts.append('not filmed: ' + ', '.join(
                words(t) for t in athlete['missing_tests']))
        lines.append('; '.join(parts))
    return lines

