"""The session document per athlete (fms/screening.py): totals and their
range, the risk flag, asymmetries, clearing tests, the coach's scores and
agreement, and the summary lines; from hand-made analysed views of
synthetic athletes (tests/fixtures/fms_session.py)."""
import pytest

from fms.analysis import analyze_track
from fms.manifest import ClearingRow, Manifest, TrialRow
from fms.protocol import CLEARING_TESTS, TESTS, trial_sides
from fms.results import result_document
from fms.screening import ViewResult, session_document, session_lines
from tests.fixtures import fms_session as fs
from tests.fixtures.fms_session import AthletePlan, TrialPlan as T

#: A male athlete whose seven counted scores total 15: deep squat,
#: hurdle step and lunge 3, shoulder mobility and ASLR 2, push-up
#: (clavicle, male) 1, rotary stability 1.
BASE_TRIALS = (
    T('deep_squat', None, 'correct'),
    T('hurdle_step', 'left', 'correct'),
    T('hurdle_step', 'right', 'correct'),
    T('inline_lunge', 'left', 'correct'),
    T('inline_lunge', 'right', 'correct'),
    T('shoulder_mobility', 'left', 'within_one_and_half'),
    T('shoulder_mobility', 'right', 'within_one_and_half'),
    T('aslr', 'left', 'past_knee'),
    T('aslr', 'right', 'past_knee'),
    T('trunk_stability_pushup', None, 'clavicle'),
    T('rotary_stability', 'left', 'arm_dropped'),
    T('rotary_stability', 'right', 'arm_dropped'),
)


def plan(name, replace=(), **kwargs):
    """The base athlete (total 15) with the trials of ``replace`` instead
    of the base's of the same (test, side)."""
    swapped = {(t.test, t.side): t for t in replace}
    trials = tuple(swapped.get((t.test, t.side), t) for t in BASE_TRIALS)
    kwargs.setdefault('clearing_pain', {c: False for c in CLEARING_TESTS})
    return AthletePlan(name, 'male', trials, **kwargs)


def build(athletes, skip=(), skip_clearing=()):
    """``(manifest, views)`` of ``athletes`` as the session would analyse
    them; ``skip``: (athlete, test, side, view) not filmed (view None: no
    view of that trial); ``skip_clearing``: (athlete, clearing) not
    recorded."""
    trials, clearing, views = [], [], []
    row = 1
    for athlete in athletes:
        for trial in athlete.trials:
            for view in fs.filmed_views(trial.test, ('side', 'front')):
                if ((athlete.name, trial.test, trial.side, view) in skip
                        or (athlete.name, trial.test, trial.side, None)
                        in skip):
                    continue
                row += 1
                inputs = fs.trial_inputs(athlete, trial)
                file = f'{athlete.name}_{trial.test}_{trial.side}_' \
                       f'{trial.variant}_{view}.jsonl'
                manifest_row = TrialRow(row, athlete.name, trial.test,
                                        trial.side, view, file,
                                        dict(inputs))
                analysis = analyze_track(fs.trial_track(trial, view),
                                         trial.test, trial.side, view,
                                         dict(inputs))
                document = result_document(analysis, athlete.name)
                document['source'] = file
                trials.append(manifest_row)
                views.append(ViewResult(manifest_row, document,
                                        f'trials/{file}.json', 'p.png',
                                        'k.png', file))
        for name in CLEARING_TESTS:
            if (athlete.name, name) in skip_clearing:
                continue
            row += 1
            clearing.append(ClearingRow(row, athlete.name, name,
                                        athlete.clearing_pain.get(name,
                                                                  False)))
    return Manifest('session.csv', tuple(trials), tuple(clearing)), views


def coach_of(athletes, changes=None):
    """The coach's scores: the truth, with ``changes`` {key: score}."""
    scores = {}
    for athlete in athletes:
        scores.update(fs.true_scores(athlete))
    scores.update(changes or {})
    return scores


def athlete_of(document, name):
    return next(a for a in document['athletes'] if a['athlete'] == name)


def entry_of(athlete, test):
    return next(t for t in athlete['tests'] if t['test'] == test)


FIFTEEN = plan('fifteen')
FOURTEEN = plan('fourteen', [T('shoulder_mobility', 'right', 'beyond')])


@pytest.fixture(scope='module')
def boundary():
    """Totals 15 and 14 around the risk line, all tests definite."""
    athletes = (FIFTEEN, FOURTEEN)
    manifest, views = build(athletes)
    return athletes, session_document(manifest, views, coach_of(athletes))


def test_totals_and_risk_at_the_boundary(boundary):
    _, document = boundary
    fifteen, fourteen = (athlete_of(document, n) for n in ('fifteen',
                                                           'fourteen'))
    assert fifteen['total'] == 15 and fifteen['total_range'] == [15, 15]
    assert fifteen['risk'] is False
    assert fourteen['total'] == 14 and fourteen['total_range'] == [14, 14]
    assert fourteen['risk'] is True
    for athlete in (fifteen, fourteen):
        assert athlete['provisional_tests'] == 0
        assert athlete['missing_tests'] == []
        assert [t['test'] for t in athlete['tests']] == list(TESTS)
        assert athlete['page'] == athlete['athlete'] + '.html'
    assert document['risk_total'] == 14 and document['max_total'] == 21
    assert document['manifest'] == 'session.csv'
    scores = {t['test']: t['score'] for t in fifteen['tests']}
    assert scores == {'deep_squat': 3, 'hurdle_step': 3, 'inline_lunge': 3,
                      'shoulder_mobility': 2, 'aslr': 2,
                      'trunk_stability_pushup': 1, 'rotary_stability': 1}
    # The counted score of a bilateral test is the lower side's.
    shoulder = entry_of(fourteen, 'shoulder_mobility')
    assert shoulder['score'] == 1
    assert {s['side']: s['score'] for s in shoulder['sides']} == {
        'left': 2, 'right': 1}


def test_asymmetries_of_definite_differing_sides(boundary):
    _, document = boundary
    assert athlete_of(document, 'fifteen')['asymmetries'] == []
    assert athlete_of(document, 'fourteen')['asymmetries'] == [
        {'test': 'shoulder_mobility', 'left': 2, 'right': 1}]


def test_a_provisional_side_is_no_asymmetry():
    # Hurdle step right filmed from the side only: a foot that does not
    # clear the hurdle is a definite 1 (an asymmetry with the left's 3);
    # a correct step is provisional (the front criteria): no asymmetry.
    low = plan('low', [T('hurdle_step', 'right', 'low_step')])
    open_ = plan('open')
    skip = {(name, 'hurdle_step', 'right', 'front')
            for name in ('low', 'open')}
    manifest, views = build((low, open_), skip=skip)
    document = session_document(manifest, views)
    low_doc, open_doc = (athlete_of(document, n) for n in ('low', 'open'))
    assert low_doc['asymmetries'] == [
        {'test': 'hurdle_step', 'left': 3, 'right': 1}]
    sides = {s['side']: s for s in entry_of(open_doc, 'hurdle_step')['sides']}
    assert sides['left']['score'] == 3
    assert sides['right']['score'] is None
    assert open_doc['asymmetries'] == []


@pytest.fixture(scope='module')
def open_session():
    """``provisional``: the deep squat filmed from the side only;
    ``missing``: no rotary stability filmed; ``both``: both, and only two
    clearing tests recorded."""
    athletes = (plan('provisional'), plan('missing'), plan('both'))
    skip = {('provisional', 'deep_squat', None, 'front'),
            ('missing', 'rotary_stability', 'left', None),
            ('missing', 'rotary_stability', 'right', None),
            ('both', 'deep_squat', None, 'front'),
            ('both', 'rotary_stability', 'left', None),
            ('both', 'rotary_stability', 'right', None)}
    manifest, views = build(athletes, skip=skip,
                            skip_clearing={('both', 'spinal_flexion')})
    coach = coach_of(athletes, {('provisional', 'aslr', 'left'): 3})
    return manifest, views, coach, session_document(manifest, views, coach)


def test_total_range_with_a_provisional_test(open_session):
    document = open_session[-1]
    athlete = athlete_of(document, 'provisional')
    squat = entry_of(athlete, 'deep_squat')
    assert squat['score'] is None and squat['possible'] == [1, 3]
    assert not squat['missing']
    assert squat['sides'][0]['to_film'] and all(
        'front view' in line for line in squat['sides'][0]['to_film'])
    assert athlete['total'] is None
    assert athlete['total_range'] == [13, 15]
    assert athlete['risk'] is None
    assert athlete['provisional_tests'] == 1
    assert athlete['missing_tests'] == []


def test_total_range_with_a_missing_test(open_session):
    document = open_session[-1]
    missing = athlete_of(document, 'missing')
    rotary = entry_of(missing, 'rotary_stability')
    assert rotary['missing'] and rotary['sides'] == []
    assert rotary['score'] is None and rotary['possible'] == []
    assert missing['total'] is None
    assert missing['total_range'] == [14, 17]     # 14 + 0 to 14 + 3
    assert missing['risk'] is None
    assert missing['missing_tests'] == ['rotary_stability']
    assert missing['provisional_tests'] == 0
    both = athlete_of(document, 'both')
    assert both['total_range'] == [12, 17]
    assert both['provisional_tests'] == 1
    assert both['missing_tests'] == ['rotary_stability']


def test_risk_is_decided_by_a_range_entirely_on_one_side():
    # A provisional deep squat (1 or 3) on 8 (shoulder 1, lunge 2, hurdle
    # 1, ASLR 2, push-up 1, rotary 1): 9-11, raised risk whatever it is;
    # on 16 (rotary 3, push-up 3): 17-19, no raised risk either way.
    low = plan('low', [T('shoulder_mobility', 'right', 'beyond'),
                       T('inline_lunge', 'left', 'knee_high'),
                       T('hurdle_step', 'left', 'low_step')])
    manifest, views = build((low,), skip={('low', 'deep_squat', None,
                                           'front')})
    athlete = athlete_of(session_document(manifest, views), 'low')
    assert athlete['total_range'] == [9, 11]
    assert athlete['total'] is None
    assert athlete['risk'] is True
    high = plan('high', [T('rotary_stability', 'left', 'correct'),
                         T('rotary_stability', 'right', 'correct'),
                         T('trunk_stability_pushup', None, 'forehead')])
    manifest, views = build((high,), skip={('high', 'deep_squat', None,
                                            'front')})
    athlete = athlete_of(session_document(manifest, views), 'high')
    assert athlete['total_range'] == [17, 19]
    assert athlete['risk'] is False


def test_clearing_entries_and_not_recorded_note(open_session):
    document = open_session[-1]
    recorded = athlete_of(document, 'provisional')
    assert [(e['clearing'], e['test'], e['pain'])
            for e in recorded['clearing']] == [
        (name, test, False) for name, test in CLEARING_TESTS.items()]
    assert recorded['notes'] == []
    both = athlete_of(document, 'both')
    pains = {e['clearing']: e['pain'] for e in both['clearing']}
    assert pains == {'shoulder_clearing': False, 'spinal_extension': False,
                     'spinal_flexion': None}
    assert both['notes'] == ['spinal flexion (rock-back) clearing test not '
                             'recorded: assumed no pain']


def test_clearing_pain_scores_its_test_zero():
    hurt = plan('hurt', clearing_pain={'shoulder_clearing': True,
                                       'spinal_extension': False,
                                       'spinal_flexion': False})
    manifest, views = build((hurt,))
    athlete = athlete_of(session_document(manifest, views), 'hurt')
    pains = {e['clearing']: e['pain'] for e in athlete['clearing']}
    assert pains['shoulder_clearing'] is True
    assert entry_of(athlete, 'shoulder_mobility')['score'] == 0
    assert athlete['total'] == 13


def test_coach_totals_and_agreement(open_session):
    manifest, views, coach, document = open_session
    provisional = athlete_of(document, 'provisional')
    # The coach's total is the truth's (15) with the ASLR left raised to 3:
    # the counted ASLR is still the right side's 2.
    assert provisional['coach_total'] == 15
    assert provisional['coach_risk'] is False
    aslr = entry_of(provisional, 'aslr')
    assert {s['side']: s['coach'] for s in aslr['sides']} == {
        'left': 3, 'right': 2}
    assert aslr['coach'] == 2
    # 12 sides scored by the coach: the squat is provisional, 11 definite,
    # one of which (ASLR left) disagrees.
    assert provisional['agreement'] == {'trials': 11, 'exact': 10 / 11,
                                        'provisional': 1}
    missing = athlete_of(document, 'missing')
    # Not filmed: the coach's rotary stability has no automatic side.
    assert missing['coach_total'] == 15
    assert missing['agreement'] == {'trials': 10, 'exact': 1.0,
                                    'provisional': 0}
    both = athlete_of(document, 'both')
    assert both['agreement'] == {'trials': 9, 'exact': 1.0,
                                 'provisional': 1}
    overall = document['agreement']
    assert overall['trials'] == 30 and overall['provisional'] == 2
    assert overall['exact'] == pytest.approx(29 / 30)
    assert -1.0 <= overall['kappa'] <= 1.0


def test_coach_total_needs_every_test():
    athletes = (FIFTEEN,)
    manifest, views = build(athletes)
    coach = coach_of(athletes)
    del coach[('fifteen', 'aslr', 'left')]
    athlete = athlete_of(session_document(manifest, views, coach), 'fifteen')
    assert athlete['coach_total'] is None
    assert athlete['coach_risk'] is None
    assert entry_of(athlete, 'aslr')['coach'] is None
    assert athlete['agreement']['trials'] == 11


def test_without_coach_no_agreement(boundary):
    athletes, _ = boundary
    manifest, views = build(athletes)
    document = session_document(manifest, views)
    assert document['agreement'] is None
    for athlete in document['athletes']:
        assert athlete['coach_total'] is None
        assert athlete['agreement'] is None
        assert all(s['coach'] is None for t in athlete['tests']
                   for s in t['sides'])


def test_failed_rows_are_noted(boundary):
    athletes, _ = boundary
    manifest, views = build(athletes)
    failed_row = next(r for r in manifest.trials
                      if (r.athlete, r.test, r.side, r.view)
                      == ('fourteen', 'hurdle_step', 'left', 'front'))
    kept = [v for v in views if v.row is not failed_row]
    document = session_document(manifest, kept,
                                failed={failed_row.row: 'no movement'})
    athlete = athlete_of(document, 'fourteen')
    assert athlete['notes'] == [
        f'row {failed_row.row} (hurdle_step left, front view) not scored: '
        f'no movement']
    assert athlete_of(document, 'fifteen')['notes'] == []
    assert entry_of(athlete, 'hurdle_step')['score'] is None


def test_every_side_lists_its_views(boundary):
    _, document = boundary
    squat = entry_of(athlete_of(document, 'fifteen'), 'deep_squat')
    side, = squat['sides']
    assert [v['view'] for v in side['views']] == ['side', 'front']
    assert {c['name']: c['view'] for c in side['criteria']} == {
        'torso_parallel_tibia': 'side', 'femur_below_horizontal': 'side',
        'dowel_over_feet': 'side', 'knees_over_feet': 'front'}
    assert all(v['result'].startswith('trials/') for v in side['views'])
    hurdle = entry_of(athlete_of(document, 'fifteen'), 'hurdle_step')
    assert [s['side'] for s in hurdle['sides']] == list(
        trial_sides('hurdle_step'))


def test_session_lines(boundary, open_session):
    _, document = boundary
    assert session_lines(document) == [
        'fifteen: total 15/21, no raised risk',
        'fourteen: total 14/21, raised risk; asymmetries: shoulder mobility']
    lines = session_lines(open_session[-1])
    assert lines == [
        'provisional: total 13-15/21 (provisional), risk undecided; '
        '1 provisional',
        'missing: total 14-17/21 (provisional), risk undecided; '
        'not filmed: rotary stability',
        'both: total 12-17/21 (provisional), risk undecided; 1 provisional; '
        'not filmed: rotary stability']


def test_plans_are_valid():
    # The base athlete's plan is complete, so its truth is 15.
    for athlete in (FIFTEEN, FOURTEEN):
        fs.check_plan(athlete)
    scores = fs.true_scores(FIFTEEN)
    assert fs.total('fifteen', scores) == 15
    assert fs.total('fourteen', fs.true_scores(FOURTEEN)) == 14
