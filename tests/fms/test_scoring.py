"""Tests of fms.scoring: scores from the criteria table's roles."""
import dataclasses

import pytest

from fms import FmsError, criteria, scoring
from fms.measurements import Measurement
from fms.protocol import VIEWS
from fms.thresholds import load_thresholds


def measured(**values):
    """Measurement records of plain values (units do not matter here)."""
    return {name: Measurement(value, '') for name, value in values.items()}


def squat_side(femur=5.0, lean=0.0, dowel=0.1):
    return measured(femur_angle=femur, torso_tibia_difference=lean,
                    dowel_offset=dowel)


#: What the front view of a deep squat measures: the knees over the feet.
SQUAT_FRONT = measured(knee_medial_offset=0.05)
KNEES_FRONT = 'film the front view for: knees aligned over the feet'
SQUAT_SIDE_ADVICE = ('film the side view for: torso parallel with the tibia '
                     'or toward vertical, femur below horizontal, dowel '
                     '(wrists) aligned over the feet')


def thresholds(test):
    return load_thresholds()[test]


def evaluate(test, values, inputs=None, view='side'):
    return scoring.evaluate(test, view, values, thresholds(test),
                            inputs or {})


def evaluate_both(test, values, inputs=None, limits=None):
    """The verdict of both views filmed: each criterion judged in a view
    that observes it (as fused views would be)."""
    limits = limits or thresholds(test)
    results = [criteria.judge(row, row.views[0], values, limits)
               for row in criteria.criteria_of(test)]
    return scoring.score_judged(test, results, values, inputs or {}, VIEWS)


def verdict(score, possible, judged=True):
    """A hand-made verdict (its criteria and reasons do not matter)."""
    return scoring.Verdict(score, possible, [], [], judged=judged)


def test_deep_squat_scores():
    # the side view alone cannot see the knees: never 3 from it
    side = evaluate('deep_squat', squat_side())
    assert side.score is None and side.possible == (1, 3)
    assert side.reasons[0] == 'all observed criteria met: 3'
    assert side.to_film == [KNEES_FRONT]
    both = evaluate_both('deep_squat', {**squat_side(), **SQUAT_FRONT})
    assert both.score == 3 and both.possible == (3,) and not both.to_film
    assert both.reasons == ['all observed criteria met: 3']
    heels = evaluate('deep_squat', squat_side(), {'heels_raised': True})
    assert heels.score is None and heels.possible == (1, 2)
    heels = evaluate_both('deep_squat', {**squat_side(), **SQUAT_FRONT},
                          {'heels_raised': True})
    assert heels.score == 2 and heels.reasons[0] == (
        'all observed criteria met, with heels raised: 2')
    low = evaluate('deep_squat', squat_side(femur=-10.0))
    assert low.score == 1 and low.possible == (1,) and not low.to_film
    assert low.reasons[0] == 'not met: femur below horizontal: 1'
    assert any('heels raised' in r for r in low.reasons)
    femur = next(r for r in low.criteria
                 if r.name == 'femur_below_horizontal')
    assert femur.passed is False and femur.value == -10.0
    # a required failure gives 1 even with heels raised, without the note
    low = evaluate('deep_squat', squat_side(femur=-10.0),
                   {'heels_raised': True})
    assert low.score == 1 and not any('retest' in r for r in low.reasons)


def test_front_view_never_judges_depth():
    front = evaluate('deep_squat', {**squat_side(femur=-30.0),
                                    **SQUAT_FRONT}, view='front')
    femur = next(r for r in front.criteria
                 if r.name == 'femur_below_horizontal')
    assert femur.observable is False and femur.passed is None
    assert femur.value is None and 'foreshortened' in femur.note
    # the femur far above horizontal is not a failure, nor a 3
    assert front.score is None and front.possible == (1, 3)
    assert any(r.startswith('not judged: femur below horizontal')
               for r in front.reasons)


def test_a_front_view_quarter_squat_is_not_scored_3():
    # knees over the feet from the front, depth never seen: 1 or 3, and
    # the advice is to film the side view, not a 3
    front = evaluate('deep_squat', SQUAT_FRONT, view='front')
    assert front.score is None and front.provisional
    assert front.possible == (1, 3)
    assert front.to_film == [SQUAT_SIDE_ADVICE]
    assert front.reasons[0] == 'all observed criteria met: 3'
    assert [r for r in front.reasons if r.startswith('not judged')] == [
        f'not judged: {description} (not observable in the front view: '
        f'{criteria._SAGITTAL_HIDDEN}): could lower the score to 1'
        for description in ('torso parallel with the tibia or toward '
                            'vertical', 'femur below horizontal',
                            'dowel (wrists) aligned over the feet')]
    assert scoring.provisional_line(front.possible, front.to_film) == (
        f'provisional: 1 or 3 until the criteria not judged are: '
        f'{SQUAT_SIDE_ADVICE}')


def test_a_failed_required_criterion_is_a_definite_1():
    # the criteria not judged cannot raise a failed required one
    side = evaluate('deep_squat', squat_side(dowel=0.9))
    assert side.score == 1 and side.possible == (1,) and not side.to_film
    knees = next(r for r in side.reasons if 'knees aligned' in r)
    assert knees.startswith('not judged') and 'could' not in knees
    front = evaluate('deep_squat', measured(knee_medial_offset=0.3),
                     view='front')
    assert front.score == 1 and front.possible == (1,)
    assert front.reasons[0] == 'not met: knees aligned over the feet: 1'


def test_pain_gives_zero():
    side = evaluate('deep_squat', squat_side(), {'pain': True})
    assert side.score == 0 and side.possible == (0,) and not side.to_film
    assert 'pain' in side.reasons[0]


def test_pain_is_a_definite_0_whatever_was_not_judged():
    front = evaluate('deep_squat', SQUAT_FRONT, {'pain': True},
                     view='front')
    assert front.score == 0 and front.possible == (0,)
    assert front.reasons[0] == 'pain reported: 0 whatever the movement'
    nothing = evaluate('deep_squat', {}, {'pain': True})
    assert nothing.score == 0 and nothing.possible == (0,) and nothing.judged


def test_no_observable_criterion_is_an_error():
    with pytest.raises(FmsError, match='film it from the side'):
        evaluate('aslr', measured(ankle_position=0.7), view='front')


def test_nothing_judged_is_no_score_not_an_error():
    # the joints of every criterion missing (one repetition's key frame):
    # no score, and no advice to change a view that can judge the test
    nothing = evaluate('deep_squat', squat_side(
        femur=None, lean=None, dowel=None))
    assert nothing.score is None and not nothing.judged
    assert all(r.passed is None for r in nothing.criteria)
    assert nothing.possible == (1, 2, 3)
    assert nothing.reasons[0] == scoring.NOTHING_JUDGED
    with pytest.raises(FmsError, match="not seen at any repetition"):
        scoring.check_judged('deep_squat', 'side', [nothing, nothing])
    some = evaluate('deep_squat', squat_side(femur=-10.0))
    scoring.check_judged('deep_squat', 'side', [nothing, some])


@pytest.mark.parametrize('position, score', [(0.7, 3), (0.2, 2), (-0.3, 1)])
def test_aslr_ladder(position, score):
    judged = evaluate('aslr', measured(ankle_position=position))
    assert judged.score == score and judged.possible == (score,)


def test_ladder_reasons():
    assert evaluate('shoulder_mobility',
                    measured(fist_distance=1.2)).reasons[0] \
        == 'fists within one and a half hand lengths: 2'
    assert evaluate('aslr', measured(ankle_position=-0.3)).reasons[0] == (
        'neither raised ankle passes mid-thigh nor raised ankle passes the '
        'knee joint line: 1')


@pytest.mark.parametrize('sex, hand, score', [
    ('male', 1.0, 3), ('male', 0.15, 2), ('female', 0.15, 3),
    ('female', -0.35, 2), ('male', -0.35, 1), ('female', -0.8, 1)])
def test_pushup_hand_positions_by_sex(sex, hand, score):
    values = measured(hip_deviation=3.0, hand_position=hand)
    judged = evaluate('trunk_stability_pushup', values, {'sex': sex})
    assert judged.score == score and judged.possible == (score,)


def test_pushup_reasons_name_the_sex_and_the_pattern_comes_first():
    values = measured(hip_deviation=3.0, hand_position=0.15)
    assert evaluate('trunk_stability_pushup', values,
                    {'sex': 'female'}).reasons[0] == \
        'thumbs at chin level (female): 3'
    sagging = measured(hip_deviation=30.0, hand_position=1.0)
    judged = evaluate('trunk_stability_pushup', sagging, {'sex': 'male'})
    assert judged.score == 1 and 'lifts as one unit' in judged.reasons[0]


def test_pushup_needs_sex():
    with pytest.raises(FmsError, match='--sex'):
        evaluate('trunk_stability_pushup',
                 measured(hip_deviation=3.0, hand_position=1.0))


def test_hurdle_clearance_is_the_pattern_and_lean_a_compensation():
    low = evaluate('hurdle_step', measured(clearance=0.6,
                                           trunk_forward_lean=2.0))
    assert low.score == 1 and low.possible == (1,)
    # a compensation seen from the side: 2, whatever the front would show
    leaning = evaluate('hurdle_step', measured(clearance=1.2,
                                               trunk_forward_lean=20.0))
    assert leaning.score == 2 and leaning.possible == (2,)
    assert leaning.reasons[0] == ('compensation, not met: minimal forward '
                                  'trunk lean: 2')
    assert 'touched the hurdle' in leaning.reasons[1]
    # none seen from the side: the front view's compensations decide
    clean = evaluate('hurdle_step', measured(clearance=1.2,
                                             trunk_forward_lean=2.0))
    assert clean.score is None and clean.possible == (2, 3)
    assert clean.to_film == [
        'film the front view for: stepping hip, knee and ankle stay '
        'aligned, no sideways trunk lean, dowel stays parallel with the '
        'hurdle']


def test_inline_lunge_compensations():
    values = measured(trunk_inclination=20.0, back_knee_height=0.1,
                      trunk_inclination_range=5.0)
    judged = evaluate('inline_lunge', values)
    assert judged.score == 2 and judged.possible == (2,)
    assert 'dowel and trunk stay vertical' in judged.reasons[0]
    assert 'loss of balance' in judged.reasons[1]


ROTARY = dict(arm_angle=5.0, leg_angle=5.0, elbow_knee_distance=0.1,
              trunk_angle_range=3.0)


@pytest.mark.parametrize('same_side, inputs, score', [
    (1.0, {}, 3), (0.0, {}, 2), (1.0, {'pattern': 'diagonal'}, 2),
    (0.0, {'pattern': 'unilateral'}, 3)])
def test_rotary_pattern_limits_the_top_score(same_side, inputs, score):
    values = measured(same_side_leg=same_side, **ROTARY)
    judged = evaluate('rotary_stability', values, inputs)
    assert judged.score == score and judged.possible == (score,)


def test_rotary_failure_and_unknown_pattern():
    failing = measured(**dict(ROTARY, arm_angle=40.0))
    assert evaluate('rotary_stability', failing).score == 1  # no pattern
    with pytest.raises(FmsError, match='pattern is unknown'):
        evaluate('rotary_stability', measured(**ROTARY))


def test_a_new_criterion_is_a_new_row(monkeypatch):
    """A compensation row added to the table lowers the deep squat to 2,
    with no code."""
    row = criteria.Criterion(
        'deep_squat', 'dowel_level', 'dowel stays level', 'dowel_tilt',
        'dowel_tilt_max_deg', '<=', ('side',), criteria.COMPENSATION)
    monkeypatch.setattr(criteria, 'CRITERIA', criteria.CRITERIA + (row,))
    limits = dict(thresholds('deep_squat'), dowel_tilt_max_deg=5.0)
    values = dict(squat_side(), **measured(dowel_tilt=9.0), **SQUAT_FRONT)
    both = evaluate_both('deep_squat', values, limits=limits)
    assert both.score == 2 and both.criteria[-1].name == 'dowel_level'
    assert both.reasons[0] == 'compensation, not met: dowel stays level: 2'
    # from the side alone the knees not seen could still lower it to 1
    side = scoring.evaluate('deep_squat', 'side', values, limits, {})
    assert side.score is None and side.possible == (1, 2)
    pattern = dataclasses.replace(row, role=criteria.PATTERN)
    monkeypatch.setattr(criteria, 'CRITERIA',
                        criteria.CRITERIA[:-1] + (pattern,))
    assert scoring.evaluate('deep_squat', 'side', values, limits,
                            {}).score == 1
    assert evaluate_both('deep_squat', values, limits=limits).score == 1


def test_unknown_test():
    with pytest.raises(FmsError, match='unknown test'):
        scoring.evaluate('plank', 'side', {}, {}, {})


def test_rescore_agrees_with_evaluate():
    document = {'test': 'deep_squat', 'view': 'side',
                'measurements': {'femur_angle': -4.0,
                                 'torso_tibia_difference': 0.0,
                                 'dowel_offset': 0.1},
                'thresholds': thresholds('deep_squat'), 'inputs': {}}
    for femur_min in (-10.0, -5.0, 0.0, 5.0):
        t = dict(thresholds('deep_squat'), femur_angle_min_deg=femur_min)
        expected = scoring.evaluate('deep_squat', 'side',
                                    squat_side(femur=-4.0), t, {}).score
        assert scoring.rescore(document,
                               {'femur_angle_min_deg': femur_min}) \
            == expected
    # depth met from the side: provisional (the knees not seen), not 3
    assert scoring.rescore(document, {'femur_angle_min_deg': -5.0}) is None
    assert scoring.rescore(document, {'femur_angle_min_deg': 0.0}) == 1
    # a test judged whole from the side: the thresholds decide 3 or 2
    aslr = {'test': 'aslr', 'view': 'side',
            'measurements': {'ankle_position': 0.4},
            'thresholds': thresholds('aslr'), 'inputs': {}}
    assert scoring.rescore(aslr, {'mid_thigh_min_fraction': 0.3}) == 3
    assert scoring.rescore(aslr, {'mid_thigh_min_fraction': 0.5}) == 2


def test_a_ladder_grade_not_judged_is_uncertain_not_a_failure():
    # (a) no hand position measured: not "neither ...: 1", but uncertain
    judged = evaluate('trunk_stability_pushup',
                      measured(hip_deviation=2.0, hand_position=None),
                      {'sex': 'male'})
    assert judged.score is None and judged.possible == (1, 2, 3)
    assert judged.reasons[0] == (
        'uncertain: thumbs at forehead level (male) and thumbs at chin '
        'level (male) not judged: 1 until judged, could be up to 3')
    assert not any(r.startswith('neither') for r in judged.reasons)


def test_a_compensation_not_judged_says_it_could_lower_the_score():
    # (a)
    values = measured(trunk_inclination=3.0, back_knee_height=0.1,
                      trunk_inclination_range=None)
    judged = evaluate('inline_lunge', values)
    assert judged.score is None and judged.possible == (2, 3)
    assert any(r.startswith('not judged: no torso movement')
               and r.endswith('could lower the score to 2')
               for r in judged.reasons)
    assert judged.to_film == [
        'film the side view again with the whole body in frame for: no '
        'torso movement',
        'film the front view for: no sideways trunk lean, front hip, knee '
        'and ankle stay aligned']


@pytest.mark.parametrize('test, values, words', [
    ('shoulder_mobility', measured(fist_distance=0.5), 'shoulder clearing'),
    ('trunk_stability_pushup', measured(hip_deviation=2.0,
                                        hand_position=1.0), 'press-up'),
    ('rotary_stability', measured(arm_angle=0.0, leg_angle=0.0,
                                  elbow_knee_distance=0.1,
                                  trunk_angle_range=1.0, same_side_leg=1.0),
     'rock-back'),
])
def test_clearing_pain_gives_0(test, values, words):
    # (e)
    view = 'front' if test == 'shoulder_mobility' else 'side'
    judged = evaluate(test, values, {'clearing_pain': True, 'sex': 'male'},
                      view)
    assert judged.score == 0 and judged.possible == (0,)
    assert words in judged.reasons[0] and 'clearing test' in \
        judged.reasons[0]


def test_clearing_pain_refused_without_a_clearing_test():
    # (e)
    with pytest.raises(FmsError, match='hurdle_step has no clearing test'):
        evaluate('hurdle_step', measured(clearance=1.2),
                 {'clearing_pain': True})


def test_the_trial_keeps_every_score_its_best_repetition_could_get():
    definite2, open13 = verdict(2, (2,)), verdict(None, (1, 3))
    # the open one could be 3 (and then is the best) or 1 (the 2 is)
    assert scoring.trial_possible([definite2, open13]) == (2, 3)
    assert scoring.best_repetition([definite2, open13]) == 1
    definite3 = verdict(3, (3,))
    assert scoring.trial_possible([open13, definite3]) == (3,)
    assert scoring.best_repetition([open13, definite3]) == 1
    # ties: the first; a higher floor wins at the same top
    assert scoring.best_repetition([verdict(None, (1, 3)),
                                    verdict(None, (2, 3)),
                                    verdict(None, (2, 3))]) == 1
    assert scoring.trial_possible([verdict(None, (1, 3)),
                                   verdict(None, (2, 3))]) == (2, 3)
    assert scoring.trial_possible([verdict(1, (1,)),
                                   verdict(None, (1, 2))]) == (1, 2)
    # a repetition where nothing was judged counts for nothing
    nothing = verdict(None, (1, 2, 3), judged=False)
    assert scoring.trial_possible([nothing, definite2]) == (2,)
    assert scoring.best_repetition([nothing, definite2]) == 1
    assert scoring.best_repetition([nothing, nothing]) == 0


def test_deciding_lists_only_the_criteria_whose_outcome_matters():
    # a male push-up without hand position: the forehead and chin rows
    # decide the ladder; the clavicle row (shown only) cannot change it
    results = [criteria.judge(row, 'side', measured(hip_deviation=2.0),
                              thresholds('trunk_stability_pushup'))
               for row in criteria.criteria_of('trunk_stability_pushup')]
    outcomes = scoring._outcomes('trunk_stability_pushup', results, {},
                                 {'sex': 'male'})
    assert [r.name for r in scoring.deciding(results, outcomes)] == [
        'hands_at_forehead', 'hands_at_chin']
    # a failed required criterion: the knees not seen decide nothing
    failed = evaluate('deep_squat', squat_side(femur=-10.0)).criteria
    assert scoring.deciding(failed, scoring._outcomes(
        'deep_squat', failed, {}, {})) == []
    passed = evaluate('deep_squat', squat_side()).criteria
    assert [r.name for r in scoring.deciding(passed, scoring._outcomes(
        'deep_squat', passed, {}, {}))] == ['knees_over_feet']


def test_film_advice_says_film_again_when_the_view_was_filmed():
    rows = {r.name: r for r in evaluate('deep_squat', squat_side()).criteria}
    knees = rows['knees_over_feet']
    assert scoring.film_advice('deep_squat', [knees], ['side']) == [
        KNEES_FRONT]
    # filmed from the front but the knees not seen: film it again
    assert scoring.film_advice('deep_squat', [knees], ['front']) == [
        'film the front view again with the whole body in frame for: '
        'knees aligned over the feet']
    pushup = evaluate('trunk_stability_pushup', measured(hip_deviation=2.0),
                      {'sex': 'male'})
    assert pushup.to_film == [
        'film the side view again with the whole body in frame for: thumbs '
        'at forehead level, thumbs at chin level']
    assert scoring.provisional_line((1, 2, 3), pushup.to_film) == (
        'provisional: 1, 2 or 3 until the criteria not judged are: film the '
        'side view again with the whole body in frame for: thumbs at '
        'forehead level, thumbs at chin level')
    assert scoring.provisional_line((2, 3), []) == (
        'provisional: 2 or 3 until the criteria not judged are: film the '
        'trial again')
