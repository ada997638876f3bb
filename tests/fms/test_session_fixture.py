"""The synthetic screening session (tests/fixtures/fms_session.py) is true:
every trial view, analysed alone, finds each criterion it observes as
planned (and the planned score where it observes every criterion), and the
manifest, coach's CSV and totals say what the plan says."""
import csv
import os

import pytest

from fms.analysis import analyze_track
from fms.coach_scores import load_coach_csv
from fms.criteria import criteria_of
from fms.protocol import CLEARING_TESTS, TESTS, VIEWS, trial_sides
from fms.sequence import read_keypoint_file, select_subject
from tests.fixtures import fms_session
from tests.fixtures.fms_session import (DEFAULT_ATHLETES, FORMS, AthletePlan,
                                        TrialPlan)


@pytest.fixture(scope='module')
def session(tmp_path_factory):
    return fms_session.write_session(str(tmp_path_factory.mktemp('session')))


def _observes_all(test, view):
    return all(view in row.views for row in criteria_of(test))


def _analyze(track, test, side, view, inputs):
    return analyze_track(track, test, side, view, dict(inputs))


def _found(analysis):
    return {c.name: c.passed for c in analysis.criteria if c.observable}


def test_every_written_view_finds_the_plan(session):
    assert session.views
    for view in session.views:
        track = select_subject(read_keypoint_file(view.path))
        analysis = _analyze(track, view.test, view.side, view.view,
                            view.inputs)
        what = f'{view.athlete} {view.test} {view.side} {view.variant} ' \
               f'{view.view}'
        assert _found(analysis) == dict(view.passes), what
        if _observes_all(view.test, view.view):
            assert analysis.score == view.score, what


def test_every_form_is_true_in_every_view():
    """Every form of the table, also those the default athletes do not use,
    on both sides and in every view observing one of its criteria."""
    for test, forms in FORMS.items():
        names = {row.name for row in criteria_of(test)}
        views = [v for v in VIEWS
                 if any(v in row.views for row in criteria_of(test))]
        for name, form in forms.items():
            assert set(form.passes) == names, (test, name)
            for side in trial_sides(test):
                for view in views:
                    trial = TrialPlan(test, side, name)
                    for sex in ('male', 'female'):
                        athlete = AthletePlan('x', sex, (trial,))
                        analysis = _analyze(
                            fms_session.trial_track(trial, view, 0.5, 7),
                            test, side, view,
                            fms_session.trial_inputs(athlete, trial))
                        observed = {n: p for n, p in form.passes.items()
                                    if view in next(r.views for r in
                                                    criteria_of(test)
                                                    if r.name == n)}
                        assert _found(analysis) == observed, \
                            (test, name, side, view)
                        if _observes_all(test, view):
                            assert analysis.score == form.score_of(sex), \
                                (test, name, side, view, sex)
                        if test != 'trunk_stability_pushup':
                            break


def test_truth_of_the_default_athletes(session):
    scores = session.scores
    assert scores[('anna', 'deep_squat', None)] == 2    # heels-raised retest
    assert scores[('anna', 'aslr', 'left')] == 3
    assert scores[('anna', 'aslr', 'right')] == 2       # the asymmetry
    assert scores[('ben', 'shoulder_mobility', 'left')] == 0   # clearing
    assert scores[('ben', 'shoulder_mobility', 'right')] == 0
    assert scores[('ben', 'rotary_stability', 'left')] == 2    # diagonal
    assert scores[('ben', 'rotary_stability', 'right')] == 2
    assert session.totals == {'anna': 18, 'ben': 10}
    assert session.risk == {'anna': False, 'ben': True}
    assert len(scores) == 2 * sum(len(trial_sides(t)) for t in TESTS)


def test_manifest_rows(session):
    folder = os.path.dirname(session.manifest)
    with open(session.manifest, encoding='utf-8', newline='') as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == list(fms_session.MANIFEST_COLUMNS)
    trials = [r for r in rows if r['test'] in TESTS]
    clearing = [r for r in rows if r['test'] in CLEARING_TESTS]
    assert len(trials) + len(clearing) == len(rows)
    assert len(trials) == len(session.views)
    for row in trials:
        assert os.path.isfile(os.path.join(folder, row['file']))
        assert not os.path.isabs(row['file'])
        assert row['view'] in VIEWS
        assert (row['heels_raised'] != '') == (row['test'] == 'deep_squat')
        assert (row['pattern'] != '') == (row['test'] == 'rotary_stability')
        assert (row['hand_length_cm'] != '') == \
            (row['test'] == 'shoulder_mobility')
    identities = [(r['athlete'], r['test'], r['side'], r['heels_raised'],
                   r['pattern'], r['view']) for r in trials]
    assert len(set(identities)) == len(identities)
    pain = {(r['athlete'], r['test']): r['pain'] for r in clearing}
    assert len(pain) == len(clearing) == 3 * len(DEFAULT_ATHLETES)
    assert pain[('ben', 'shoulder_clearing')] == 'yes'
    assert sum(p == 'yes' for p in pain.values()) == 1
    assert all(not (r['view'] or r['file'] or r['side']) for r in clearing)
    # trials needing both views have both
    for test in ('deep_squat', 'hurdle_step', 'inline_lunge'):
        views = {}
        for r in trials:
            if r['test'] == test:
                views.setdefault(r['file'].rsplit('_', 1)[0], set()).add(
                    r['view'])
        assert views and all(v == {'side', 'front'}
                             for v in views.values()), test


def test_coach_agrees_except_the_planned_disagreements(session):
    coach = load_coach_csv(session.coach_csv)
    assert set(coach) == set(session.scores)
    differ = {k: v for k, v in coach.items() if v != session.scores[k]}
    assert differ == {('anna', 'aslr', 'right'): 3,
                      ('ben', 'trunk_stability_pushup', None): 3}


def test_a_plan_missing_a_test_side_is_refused(tmp_path):
    anna = DEFAULT_ATHLETES[0]
    short = AthletePlan('x', 'male', anna.trials[:-1])
    with pytest.raises(ValueError, match='rotary_stability right'):
        fms_session.write_session(str(tmp_path), [short])
