"""Tests of fms.scoring: scores from the criteria table's roles."""
import dataclasses

import pytest

from fms import FmsError, criteria, scoring
from fms.measurements import Measurement
from fms.thresholds import load_thresholds


def measured(**values):
    """Measurement records of plain values (units do not matter here)."""
    return {name: Measurement(value, '') for name, value in values.items()}


def squat_side(femur=5.0, lean=0.0, dowel=0.1):
    return measured(femur_angle=femur, torso_tibia_difference=lean,
                    dowel_offset=dowel)


def thresholds(test):
    return load_thresholds()[test]


def evaluate(test, values, inputs=None, view='side'):
    return scoring.evaluate(test, view, values, thresholds(test),
                            inputs or {})


def test_deep_squat_scores():
    assert evaluate('deep_squat', squat_side())[0] == 3
    score, _, reasons = evaluate('deep_squat', squat_side(),
                                 {'heels_raised': True})
    assert score == 2 and reasons[0] == ('all observed criteria met, with '
                                         'heels raised: 2')
    score, results, reasons = evaluate('deep_squat', squat_side(femur=-10.0))
    assert score == 1
    assert reasons[0] == 'not met: femur below horizontal: 1'
    assert any('heels raised' in r for r in reasons)
    femur = next(r for r in results if r.name == 'femur_below_horizontal')
    assert femur.passed is False and femur.value == -10.0
    # a required failure gives 1 even with heels raised, without the note
    score, _, reasons = evaluate('deep_squat', squat_side(femur=-10.0),
                                 {'heels_raised': True})
    assert score == 1 and not any('retest' in r for r in reasons)


def test_front_view_never_judges_depth():
    score, results, reasons = evaluate(
        'deep_squat', {**squat_side(femur=-30.0),
                       **measured(knee_medial_offset=0.05)}, view='front')
    femur = next(r for r in results if r.name == 'femur_below_horizontal')
    assert femur.observable is False and femur.passed is None
    assert femur.value is None and 'foreshortened' in femur.note
    assert score == 3
    assert any(r.startswith('not judged: femur below horizontal')
               for r in reasons)


def test_pain_gives_zero():
    score, _, reasons = evaluate('deep_squat', squat_side(), {'pain': True})
    assert score == 0 and 'pain' in reasons[0]


def test_no_observable_criterion_is_an_error():
    with pytest.raises(FmsError, match='film it from the side'):
        evaluate('aslr', measured(ankle_position=0.7), view='front')


def test_nothing_judged_is_no_score_not_an_error():
    # the joints of every criterion missing (one repetition's key frame):
    # no score, and no advice to change a view that can judge the test
    score, results, reasons = evaluate('deep_squat', squat_side(
        femur=None, lean=None, dowel=None))
    assert score is None and all(r.passed is None for r in results)
    assert reasons[0] == scoring.NOTHING_JUDGED
    with pytest.raises(FmsError, match="not seen at any repetition"):
        scoring.check_judged('deep_squat', 'side', [None, None], [{}, {}])
    scoring.check_judged('deep_squat', 'side', [None, 2], [{}, {}])


@pytest.mark.parametrize('position, score', [(0.7, 3), (0.2, 2), (-0.3, 1)])
def test_aslr_ladder(position, score):
    assert evaluate('aslr', measured(ankle_position=position))[0] == score


def test_ladder_reasons():
    assert evaluate('shoulder_mobility', measured(fist_distance=1.2))[2][0] \
        == 'fists within one and a half hand lengths: 2'
    assert evaluate('aslr', measured(ankle_position=-0.3))[2][0] == (
        'neither raised ankle passes mid-thigh nor raised ankle passes the '
        'knee joint line: 1')


@pytest.mark.parametrize('sex, hand, score', [
    ('male', 1.0, 3), ('male', 0.15, 2), ('female', 0.15, 3),
    ('female', -0.35, 2), ('male', -0.35, 1), ('female', -0.8, 1)])
def test_pushup_hand_positions_by_sex(sex, hand, score):
    values = measured(hip_deviation=3.0, hand_position=hand)
    assert evaluate('trunk_stability_pushup', values,
                    {'sex': sex})[0] == score


def test_pushup_reasons_name_the_sex_and_the_pattern_comes_first():
    values = measured(hip_deviation=3.0, hand_position=0.15)
    assert evaluate('trunk_stability_pushup', values,
                    {'sex': 'female'})[2][0] == \
        'thumbs at chin level (female): 3'
    sagging = measured(hip_deviation=30.0, hand_position=1.0)
    score, _, reasons = evaluate('trunk_stability_pushup', sagging,
                                 {'sex': 'male'})
    assert score == 1 and 'lifts as one unit' in reasons[0]


def test_pushup_needs_sex():
    with pytest.raises(FmsError, match='--sex'):
        evaluate('trunk_stability_pushup',
                 measured(hip_deviation=3.0, hand_position=1.0))


def test_hurdle_clearance_is_the_pattern_and_lean_a_compensation():
    assert evaluate('hurdle_step', measured(
        clearance=0.6, trunk_forward_lean=2.0))[0] == 1
    score, _, reasons = evaluate('hurdle_step', measured(
        clearance=1.2, trunk_forward_lean=20.0))
    assert score == 2
    assert reasons[0] == ('compensation, not met: minimal forward trunk '
                          'lean: 2')
    assert 'touched the hurdle' in reasons[1]


def test_inline_lunge_compensations():
    values = measured(trunk_inclination=20.0, back_knee_height=0.1,
                      trunk_inclination_range=5.0)
    score, _, reasons = evaluate('inline_lunge', values)
    assert score == 2 and 'dowel and trunk stay vertical' in reasons[0]
    assert 'loss of balance' in reasons[1]


ROTARY = dict(arm_angle=5.0, leg_angle=5.0, elbow_knee_distance=0.1,
              trunk_angle_range=3.0)


@pytest.mark.parametrize('same_side, inputs, score', [
    (1.0, {}, 3), (0.0, {}, 2), (1.0, {'pattern': 'diagonal'}, 2),
    (0.0, {'pattern': 'unilateral'}, 3)])
def test_rotary_pattern_limits_the_top_score(same_side, inputs, score):
    values = measured(same_side_leg=same_side, **ROTARY)
    assert evaluate('rotary_stability', values, inputs)[0] == score


def test_rotary_failure_and_unknown_pattern():
    failing = measured(**dict(ROTARY, arm_angle=40.0))
    assert evaluate('rotary_stability', failing)[0] == 1   # no pattern needed
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
    values = dict(squat_side(), **measured(dowel_tilt=9.0))
    score, results, reasons = scoring.evaluate('deep_squat', 'side', values,
                                               limits, {})
    assert score == 2 and results[-1].name == 'dowel_level'
    assert reasons[0] == 'compensation, not met: dowel stays level: 2'
    pattern = dataclasses.replace(row, role=criteria.PATTERN)
    monkeypatch.setattr(criteria, 'CRITERIA',
                        criteria.CRITERIA[:-1] + (pattern,))
    assert scoring.evaluate('deep_squat', 'side', values, limits, {})[0] == 1


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
                                    squat_side(femur=-4.0), t, {})[0]
        assert scoring.rescore(document,
                               {'femur_angle_min_deg': femur_min}) \
            == expected
    assert scoring.rescore(document, {'femur_angle_min_deg': -5.0}) == 3
    assert scoring.rescore(document, {'femur_angle_min_deg': 0.0}) == 1


def test_a_ladder_grade_not_judged_is_uncertain_not_a_failure():
    # (a) no hand position measured: not "neither ...: 1", but uncertain
    score, results, reasons = evaluate(
        'trunk_stability_pushup', measured(hip_deviation=2.0,
                                           hand_position=None),
        {'sex': 'male'})
    assert score == 1
    assert reasons[0] == ('uncertain: thumbs at forehead level (male) and '
                          'thumbs at chin level (male) not judged: 1 until '
                          'judged, could be up to 3')
    assert not any(r.startswith('neither') for r in reasons)


def test_a_compensation_not_judged_says_it_could_lower_the_score():
    # (a)
    values = measured(trunk_inclination=3.0, back_knee_height=0.1,
                      trunk_inclination_range=None)
    score, _, reasons = evaluate('inline_lunge', values)
    assert score == 3
    assert any(r.startswith('not judged: no torso movement')
               and r.endswith('could lower the score to 2') for r in reasons)


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
    score, _, reasons = evaluate(test, values, {'clearing_pain': True,
                                                'sex': 'male'}, view)
    assert score == 0 and words in reasons[0] and 'clearing test' in \
        reasons[0]


def test_clearing_pain_refused_without_a_clearing_test():
    # (e)
    with pytest.raises(FmsError, match='hurdle_step has no clearing test'):
        evaluate('hurdle_step', measured(clearance=1.2),
                 {'clearing_pain': True})
