"""Tests of fms.analysis on synthetic sequences with known kinematics."""
import numpy as np
import pytest

from fms import FmsError
from fms.analysis import analyze_track
from fms.results import result_document
from fms.scoring import rescore
from tests.fixtures import movements

NOISE_PX = 2.0
GAPS = [(10, 15), (50, 55), (70, 75)]    # 5-frame gaps (not at the key)


def criterion(analysis, name):
    return next(c for c in analysis.criteria if c.name == name)


@pytest.mark.parametrize('noise, gaps, key_tolerance', [
    (0.0, (), 1), (NOISE_PX, (), 3), (0.0, GAPS, 1), (NOISE_PX, GAPS, 3)])
def test_squat_below_horizontal(noise, gaps, key_tolerance):
    track = movements.deep_squat_sequence(
        frames=90, min_femur_angle_deg=10.0, key_frame=40, noise_px=noise,
        gaps=gaps, seed=3)
    analysis = analyze_track(track, 'deep_squat', None, 'side', {})
    assert abs(analysis.key_index - 40) <= key_tolerance
    assert analysis.measurements['femur_angle'].value == pytest.approx(10.0,
                                                                 abs=2.0)
    assert criterion(analysis, 'femur_below_horizontal').passed is True
    assert analysis.score == 3
    assert analysis.curve_thresholds['femur_angle'] == [
        ('femur horizontal', 0.0)]


@pytest.mark.parametrize('noise, gaps', [(0.0, ()), (NOISE_PX, GAPS)])
def test_squat_above_horizontal_fails(noise, gaps):
    track = movements.deep_squat_sequence(
        min_femur_angle_deg=-20.0, key_frame=45, noise_px=noise, gaps=gaps)
    analysis = analyze_track(track, 'deep_squat', None, 'side', {})
    assert analysis.measurements['femur_angle'].value == pytest.approx(-20.0,
                                                                 abs=2.0)
    assert criterion(analysis, 'femur_below_horizontal').passed is False
    assert analysis.score == 1


def test_squat_heels_raised_and_pain():
    track = movements.deep_squat_sequence()
    assert analyze_track(track, 'deep_squat', None, 'side',
                         {'heels_raised': True}).score == 2
    pain = analyze_track(track, 'deep_squat', None, 'side', {'pain': True})
    assert pain.score == 0 and 'pain' in pain.reasons[0]


def test_squat_forward_lean_and_dowel():
    track = movements.deep_squat_sequence(trunk_excess_deg=20.0,
                                          dowel_offset_tibia=0.8)
    analysis = analyze_track(track, 'deep_squat', None, 'side', {})
    assert analysis.measurements['torso_tibia_difference'].value \
        == pytest.approx(20.0, abs=1.0)
    assert analysis.measurements['dowel_offset'].value == pytest.approx(0.8,
                                                                  abs=0.05)
    assert criterion(analysis, 'torso_parallel_tibia').passed is False
    assert criterion(analysis, 'dowel_over_feet').passed is False


def test_front_view_squat():
    track = movements.deep_squat_sequence(view='front', min_femur_angle_deg=
                                          -30.0, knee_medial_hip_widths=0.3)
    analysis = analyze_track(track, 'deep_squat', None, 'front', {})
    femur = criterion(analysis, 'femur_below_horizontal')
    assert femur.observable is False and femur.passed is None
    knees = criterion(analysis, 'knees_over_feet')
    assert knees.value == pytest.approx(0.3, abs=0.02)
    assert knees.passed is False and analysis.score == 1


@pytest.mark.parametrize('angle, position, score', [
    (80.0, 0.652, 3), (65.0, 0.153, 2), (50.0, -0.288, 1)])
@pytest.mark.parametrize('noise, gaps', [(0.0, ()), (NOISE_PX, GAPS)])
def test_leg_raise(angle, position, score, noise, gaps):
    track = movements.leg_raise_sequence(max_angle_deg=angle, key_frame=40,
                                         side='left', noise_px=noise,
                                         gaps=gaps, seed=5)
    analysis = analyze_track(track, 'aslr', 'left', 'side', {})
    assert analysis.measurements['leg_raise'].value == pytest.approx(angle,
                                                               abs=2.0)
    assert analysis.measurements['ankle_position'].value == pytest.approx(
        position, abs=0.06)
    assert abs(analysis.key_index - 40) <= 3
    assert analysis.score == score


def test_leg_raise_front_view_cannot_be_judged():
    track = movements.leg_raise_sequence(view='front')
    with pytest.raises(FmsError, match='film it from the side'):
        analyze_track(track, 'aslr', 'right', 'front', {})


def test_unknown_test_and_missing_side():
    track = movements.deep_squat_sequence(frames=30, key_frame=15)
    with pytest.raises(FmsError, match='unknown test'):
        analyze_track(track, 'plank', None, 'side', {})
    with pytest.raises(FmsError, match='--side'):
        analyze_track(track, 'aslr', None, 'side', {})


def test_joints_never_found():
    track = movements.deep_squat_sequence(frames=30, key_frame=15)
    track.xy[:, [9, 12]] = np.nan                # both knees
    with pytest.raises(FmsError, match='knee never found'):
        analyze_track(track, 'deep_squat', None, 'side', {})


def test_result_document_rescore_agrees():
    track = movements.deep_squat_sequence(min_femur_angle_deg=4.0)
    analysis = analyze_track(track, 'deep_squat', None, 'side', {})
    document = result_document(analysis, subject='s1')
    assert rescore(document, {}) == analysis.score == 3
    stricter = analyze_track(track, 'deep_squat', None, 'side', {},
                             thresholds={'femur_angle_min_deg': 8.0})
    assert rescore(document, {'femur_angle_min_deg': 8.0}) \
        == stricter.score == 1


def test_other_tests_run():
    cases = [
        (movements.hurdle_step_sequence(), 'hurdle_step', 'right', 'side',
         {}, 3, 'clearance', 1.13),
        (movements.hurdle_step_sequence(hip_flexion_deg=60,
                                        knee_flexion_deg=90),
         'hurdle_step', 'right', 'side', {}, 1, 'clearance', 0.63),
        (movements.inline_lunge_sequence(), 'inline_lunge', 'right', 'side',
         {}, 3, 'back_knee_height', 0.04),
        (movements.inline_lunge_sequence(trunk_lean_deg=20.0),
         'inline_lunge', 'right', 'side', {}, 2, 'trunk_inclination', 20.0),
        (movements.shoulder_mobility_sequence(fist_distance_hands=1.3),
         'shoulder_mobility', 'right', 'front', {}, 2, 'fist_distance', 1.3),
        (movements.pushup_sequence(hand_position='chin'),
         'trunk_stability_pushup', None, 'side', {'sex': 'female'}, 3,
         'hand_position', 0.15),
        (movements.pushup_sequence(hip_lag=0.5), 'trunk_stability_pushup',
         None, 'side', {'sex': 'male'}, 1, 'hip_deviation', 32.5),
        (movements.rotary_stability_sequence(pattern='diagonal'),
         'rotary_stability', 'right', 'side', {}, 2, 'same_side_leg', 0.0),
        (movements.rotary_stability_sequence(arm_drop_deg=30.0),
         'rotary_stability', 'right', 'side', {}, 1, 'arm_angle', 30.0),
    ]
    for track, test, side, view, inputs, score, name, value in cases:
        analysis = analyze_track(track, test, side, view, inputs)
        assert analysis.score == score, (test, analysis.reasons)
        assert analysis.measurements[name].value == pytest.approx(
            value, abs=max(0.05, 0.05 * abs(value))), (test, name)


def test_shoulder_mobility_without_hands_is_marked_estimated():
    track = movements.shoulder_mobility_sequence(with_hands=False)
    analysis = analyze_track(track, 'shoulder_mobility', 'right', 'front',
                             {})
    assert analysis.measurements['hand_length_estimated'].value == 1.0
    assert analysis.measurements['hand_length_px'].value == pytest.approx(
        0.108 * movements.BODY_HEIGHT_PX, rel=1e-6)
    assert 'estimated' in criterion(analysis, 'within_one_hand').note
