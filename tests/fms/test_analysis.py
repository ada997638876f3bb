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
#: What a side-view deep squat leaves to film: the knees are seen from the
#: front only, so all the side criteria met is 1 or 3, never 3.
KNEES_FRONT = 'film the front view for: knees aligned over the feet'
SQUAT_PROVISIONAL = ('provisional: 1 or 3 until the criteria not judged '
                     f'are: {KNEES_FRONT}')


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
    assert criterion(analysis, 'knees_over_feet').passed is None
    assert analysis.score is None and analysis.possible == (1, 3)
    assert analysis.to_film == [KNEES_FRONT]
    assert analysis.reasons[0] == SQUAT_PROVISIONAL
    assert analysis.reasons[1] == 'all observed criteria met: 3'
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
    assert analysis.score == 1 and analysis.possible == (1,)
    assert not analysis.to_film


def test_squat_heels_raised_and_pain():
    track = movements.deep_squat_sequence()
    heels = analyze_track(track, 'deep_squat', None, 'side',
                          {'heels_raised': True})
    assert heels.score is None and heels.possible == (1, 2)
    assert heels.reasons[0] == ('provisional: 1 or 2 until the criteria not '
                                f'judged are: {KNEES_FRONT}')
    assert heels.reasons[1] == ('all observed criteria met, with heels '
                                'raised: 2')
    # pain is 0 whatever was not judged
    pain = analyze_track(track, 'deep_squat', None, 'side', {'pain': True})
    assert pain.score == 0 and pain.possible == (0,)
    assert 'pain' in pain.reasons[0] and not pain.to_film


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
    assert analysis.possible == (1,)


def test_front_view_squat_with_the_knees_aligned_is_not_a_3():
    # a quarter squat seen from the front: the knees over the feet are
    # all it shows, so depth, trunk and dowel are still to film
    track = movements.deep_squat_sequence(view='front', min_femur_angle_deg=
                                          -30.0, knee_medial_hip_widths=0.05)
    analysis = analyze_track(track, 'deep_squat', None, 'front', {})
    assert criterion(analysis, 'knees_over_feet').passed is True
    assert analysis.score is None and analysis.possible == (1, 3)
    assert analysis.to_film == [
        'film the side view for: torso parallel with the tibia or toward '
        'vertical, femur below horizontal, dowel (wrists) aligned over the '
        'feet']
    assert analysis.reasons[0] == (
        f'provisional: 1 or 3 until the criteria not judged are: '
        f'{analysis.to_film[0]}')


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
    assert analysis.possible == (1, 3)
    assert rescore(document, {}) is None and analysis.score is None
    stricter = analyze_track(track, 'deep_squat', None, 'side', {},
                             thresholds={'femur_angle_min_deg': 8.0})
    assert rescore(document, {'femur_angle_min_deg': 8.0}) \
        == stricter.score == 1
    # a test judged whole from the side: definite scores agree too
    track = movements.leg_raise_sequence(max_angle_deg=80.0, side='left')
    aslr = analyze_track(track, 'aslr', 'left', 'side', {})
    document = result_document(aslr, subject='s1')
    assert rescore(document, {}) == aslr.score == 3
    stricter = analyze_track(track, 'aslr', 'left', 'side', {},
                             thresholds={'mid_thigh_min_fraction': 0.7})
    assert rescore(document, {'mid_thigh_min_fraction': 0.7}) \
        == stricter.score == 2


def test_other_tests_run():
    # the scores still possible: a clean hurdle step or lunge from the
    # side is 2 or 3 until its front-view compensations are judged
    cases = [
        (movements.hurdle_step_sequence(), 'hurdle_step', 'right', 'side',
         {}, (2, 3), 'clearance', 1.13),
        (movements.hurdle_step_sequence(hip_flexion_deg=60,
                                        knee_flexion_deg=90),
         'hurdle_step', 'right', 'side', {}, (1,), 'clearance', 0.63),
        (movements.inline_lunge_sequence(), 'inline_lunge', 'right', 'side',
         {}, (2, 3), 'back_knee_height', 0.04),
        (movements.inline_lunge_sequence(trunk_lean_deg=20.0),
         'inline_lunge', 'right', 'side', {}, (2,), 'trunk_inclination',
         20.0),
        (movements.shoulder_mobility_sequence(fist_distance_hands=1.3),
         'shoulder_mobility', 'right', 'front', {}, (2,), 'fist_distance',
         1.3),
        (movements.pushup_sequence(hand_position='chin'),
         'trunk_stability_pushup', None, 'side', {'sex': 'female'}, (3,),
         'hand_position', 0.15),
        (movements.pushup_sequence(hip_lag=0.5), 'trunk_stability_pushup',
         None, 'side', {'sex': 'male'}, (1,), 'hip_deviation', 32.5),
        (movements.rotary_stability_sequence(pattern='diagonal'),
         'rotary_stability', 'right', 'side', {}, (2,), 'same_side_leg',
         0.0),
        (movements.rotary_stability_sequence(arm_drop_deg=30.0),
         'rotary_stability', 'right', 'side', {}, (1,), 'arm_angle', 30.0),
    ]
    for track, test, side, view, inputs, possible, name, value in cases:
        analysis = analyze_track(track, test, side, view, inputs)
        assert analysis.possible == possible, (test, analysis.reasons)
        assert analysis.score == (possible[0] if len(possible) == 1
                                  else None), (test, analysis.reasons)
        assert analysis.reasons[0].startswith('provisional') == (
            len(possible) > 1), (test, analysis.reasons)
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


# --- Scoring fixes of the single-trial analysis ("Screening sessions") ---

def _without(track, *names):
    from entity import JOINT_INDEX
    for name in names:
        track.xy[:, JOINT_INDEX[name]] = np.nan
    return track


@pytest.mark.parametrize('missing, cue', [
    (('Nose',), 'eyes'), (('Nose', 'REye', 'LEye'), 'ears')])
@pytest.mark.parametrize('position, sex, score', [
    ('forehead', 'male', 3), ('chin', 'male', 2), ('chin', 'female', 3)])
def test_pushup_head_from_another_cue_when_the_nose_is_missing(
        missing, cue, position, sex, score):
    # (a) the eyes or ears stand in for the nose, and the reasons say so
    track = _without(movements.pushup_sequence(hand_position=position),
                     *missing)
    analysis = analyze_track(track, 'trunk_stability_pushup', None, 'side',
                             {'sex': sex})
    assert analysis.score == score, analysis.reasons
    assert analysis.measurements['hand_position'].value == pytest.approx(
        movements.PUSHUP_HAND_POSITIONS[position], abs=0.05)
    assert any(f'from the {cue} (nose not found)' in r
               for r in analysis.reasons)


def test_pushup_head_not_seen_is_not_judged_not_a_failure():
    # (a) no nose, eyes or ears: the hand position is not judged, and the
    # reasons say the score could be higher instead of "hands too low"
    track = _without(movements.pushup_sequence(hand_position='forehead'),
                     'Nose', 'REye', 'LEye', 'REar', 'LEar')
    analysis = analyze_track(track, 'trunk_stability_pushup', None, 'side',
                             {'sex': 'male'})
    assert criterion(analysis, 'hands_at_forehead').passed is None
    assert not any(r.startswith('neither') for r in analysis.reasons)
    assert analysis.score is None and analysis.possible == (1, 2, 3)
    assert analysis.reasons[0] == (
        'provisional: 1, 2 or 3 until the criteria not judged are: film the '
        'side view again with the whole body in frame for: thumbs at '
        'forehead level, thumbs at chin level')
    assert analysis.reasons[1].startswith('uncertain: thumbs at forehead')
    assert 'could be up to 3' in analysis.reasons[1]
    assert any('not judged: thumbs at forehead level' in r
               and 'could raise the score to 3' in r
               for r in analysis.reasons)


def test_required_criterion_not_seen_says_what_it_could_change():
    # (a) wrists never seen: the dowel is not judged, the 3 is uncertain
    track = _without(movements.deep_squat_sequence(), 'RWrist', 'LWrist')
    analysis = analyze_track(track, 'deep_squat', None, 'side', {})
    assert criterion(analysis, 'dowel_over_feet').passed is None
    assert analysis.score is None and analysis.possible == (1, 3)
    assert analysis.to_film == [
        'film the side view again with the whole body in frame for: dowel '
        '(wrists) aligned over the feet', KNEES_FRONT]
    assert any(r.startswith('not judged: dowel') and
               r.endswith('could lower the score to 1')
               for r in analysis.reasons)


@pytest.mark.parametrize('distance, score', [
    (0.5, 3), (0.8, 3), (1.2, 2), (1.8, 1)])
@pytest.mark.parametrize('fixture, inputs, source', [
    ({}, {}, 'estimated from the forearm'),
    ({'open_hand_frames': 6}, {}, 'measured from an open hand'),
    ({}, {'hand_length_cm': movements.HAND * 170.0, 'stature_cm': 170.0},
     'as given'),
    ({'with_hands': False}, {}, 'estimated from the forearm'),
])
def test_shoulder_mobility_closest_points_of_the_fists(distance, score,
                                                        fixture, inputs,
                                                        source):
    # (b) clenched fists, closest points measured, hand length not taken
    # from the fists
    track = movements.shoulder_mobility_sequence(
        fist_distance_hands=distance, **fixture)
    analysis = analyze_track(track, 'shoulder_mobility', 'right', 'front',
                             inputs)
    assert analysis.measurements['fist_distance'].value == pytest.approx(
        distance, abs=0.03)
    assert analysis.score == score
    assert analysis.measurements['hand_length_px'].value == pytest.approx(
        movements.HAND * movements.BODY_HEIGHT_PX, rel=0.02)
    assert any(f'hand length {source}' in r or source in r
               for r in analysis.reasons), analysis.reasons
    estimated = any(r.startswith('fist distance estimated')
                    for r in analysis.reasons)
    assert estimated == (fixture.get('with_hands') is False)


def test_hand_length_needs_the_stature_for_its_scale():
    # (b)
    track = movements.shoulder_mobility_sequence()
    with pytest.raises(FmsError, match='--stature-cm'):
        analyze_track(track, 'shoulder_mobility', 'right', 'front',
                      {'hand_length_cm': 18.0})


@pytest.mark.parametrize('test, track, view, what', [
    ('hurdle_step', movements.hurdle_step_sequence(side='right'), 'side',
     'stepping leg'),
    ('hurdle_step', movements.hurdle_step_sequence(side='right'), 'front',
     'stepping leg'),
    ('aslr', movements.leg_raise_sequence(side='right'), 'side',
     'raised leg'),
    ('inline_lunge', movements.inline_lunge_sequence(side='right'), 'side',
     'front leg'),
    ('inline_lunge', movements.inline_lunge_sequence(side='right'), 'front',
     'front leg'),
    ('shoulder_mobility', movements.shoulder_mobility_sequence(
        side='right'), 'front', 'upper hand'),
    ('rotary_stability', movements.rotary_stability_sequence(side='right'),
     'side', 'moving arm'),
])
def test_a_side_the_movement_contradicts_is_one_error(test, track, view,
                                                      what):
    # (c) the right limb moves, --side left: one error naming the right
    with pytest.raises(FmsError, match=f'shows the right side \\(the {what} '
                                       f'.*--side left.*--side right'):
        analyze_track(track, test, 'left', view, {})
    assert min(analyze_track(track, test, 'right', view, {}).possible) >= 1


def test_a_one_frame_clip_is_refused():
    # (d)
    full = movements.deep_squat_sequence(frames=30, key_frame=15)
    one = movements.make_track(full.xy[:1])
    with pytest.raises(FmsError, match='only 1 frame'):
        analyze_track(one, 'deep_squat', None, 'side', {})


@pytest.mark.parametrize('test, side, track, missing', [
    ('deep_squat', None, movements.deep_squat_sequence(
        min_femur_angle_deg=-90.0, tibia_lean_deg=0.0),
     'the hip never lowers'),
    ('inline_lunge', 'right', movements.inline_lunge_sequence(
        knee_gap=0.45 - movements.ANKLE_HEIGHT - movements.THIGH),
     'the hip never lowers'),
    ('hurdle_step', 'right', movements.hurdle_step_sequence(
        hip_flexion_deg=0.0, knee_flexion_deg=0.0), 'no foot ever lifts'),
    ('trunk_stability_pushup', None, movements.pushup_sequence(
        lift_deg=0.0), 'the body never lifts'),
    ('aslr', 'right', movements.leg_raise_sequence(max_angle_deg=0.0),
     'the leg never rises'),
])
def test_a_clip_without_the_movement_is_refused(test, side, track, missing):
    # (d)
    with pytest.raises(FmsError, match=missing):
        analyze_track(track, test, side, 'side', {'sex': 'male'})


@pytest.mark.parametrize('test, side, clearing', [
    ('shoulder_mobility', 'right', 'shoulder clearing'),
    ('trunk_stability_pushup', None, 'press-up'),
    ('rotary_stability', 'right', 'rock-back'),
])
def test_clearing_test_pain_gives_0(test, side, clearing):
    # (e)
    view = 'front' if test == 'shoulder_mobility' else 'side'
    track = movements.example_track(test, side, view)
    analysis = analyze_track(track, test, side, view,
                             {'clearing_pain': True, 'sex': 'male'})
    assert analysis.score == 0
    assert clearing in analysis.reasons[0]


def test_clearing_pain_is_refused_for_tests_without_clearing_test():
    # (e)
    track = movements.deep_squat_sequence()
    with pytest.raises(FmsError, match='deep_squat has no clearing test'):
        analyze_track(track, 'deep_squat', None, 'side',
                      {'clearing_pain': True})


def test_retest_hints_stay():
    # (f)
    squat = analyze_track(movements.deep_squat_sequence(
        min_femur_angle_deg=-20.0), 'deep_squat', None, 'side', {})
    assert squat.score == 1
    assert any('retest with heels raised' in r for r in squat.reasons)
    rotary = analyze_track(movements.rotary_stability_sequence(
        arm_drop_deg=30.0), 'rotary_stability', 'right', 'side', {})
    assert rotary.score == 1
    assert any(r.startswith('retest the diagonal pattern')
               for r in rotary.reasons)
    diagonal = analyze_track(movements.rotary_stability_sequence(
        pattern='diagonal', arm_drop_deg=30.0), 'rotary_stability', 'right',
        'side', {})
    assert not any('retest' in r for r in diagonal.reasons)


# --- Repetitions: FMS scores the best of up to three ("Screening sessions")

def three_squats(noise=0.0, gaps=()):
    """The deepest squat leans forward (1), the next is clean (3), the last
    leans forward again (1)."""
    return movements.repeated([
        movements.deep_squat_sequence(min_femur_angle_deg=10.0,
                                      trunk_excess_deg=20.0),
        movements.deep_squat_sequence(min_femur_angle_deg=5.0),
        movements.deep_squat_sequence(min_femur_angle_deg=0.0,
                                      trunk_excess_deg=20.0)],
        noise_px=noise, gaps=gaps, seed=2)


@pytest.mark.parametrize('noise, gaps', [(0.0, ()), (NOISE_PX, GAPS)])
def test_the_best_of_three_repetitions_is_scored(noise, gaps):
    analysis = analyze_track(three_squats(noise, gaps), 'deep_squat', None,
                             'side', {})
    # the clean one is 1 or 3 (its knees not seen from the side): still
    # the best, as it alone could be 3
    assert [r.score for r in analysis.repetitions] == [1, None, 1]
    assert [r.possible for r in analysis.repetitions] == [(1,), (1, 3),
                                                          (1,)]
    assert analysis.repetition == 1 and analysis.score is None
    assert analysis.possible == (1, 3)
    assert analysis.reasons[0] == SQUAT_PROVISIONAL
    chosen = analysis.repetitions[1]
    assert analysis.key_index == chosen.key_index
    assert abs(chosen.key_index - (90 + 45)) <= 3
    assert analysis.measurements is chosen.measurements
    assert analysis.measurements['torso_tibia_difference'].value \
        == pytest.approx(0.0, abs=2.0)
    assert criterion(analysis, 'torso_parallel_tibia').passed is True
    assert (chosen.first_index, chosen.last_index) == (
        analysis.repetitions[0].last_index + 1,
        analysis.repetitions[2].first_index - 1)
    assert analysis.reasons[-1] == (
        f'repetition 2 of 3 (frames {chosen.first_index}-'
        f'{chosen.last_index}), the best; others: repetition 1 scored 1, '
        f'repetition 3 scored 1')
    assert analysis.key_reason.endswith('repetition 2 of 3')
    # the deepest repetition alone, as the key frame was chosen before
    deepest = analyze_track(movements.deep_squat_sequence(
        min_femur_angle_deg=10.0, trunk_excess_deg=20.0), 'deep_squat',
        None, 'side', {})
    assert deepest.score == 1


@pytest.mark.parametrize('noise, gaps', [(0.0, ()), (NOISE_PX, GAPS)])
def test_three_identical_repetitions_are_found_and_the_first_is_chosen(
        noise, gaps):
    track = movements.repeated([movements.deep_squat_sequence()] * 3,
                               noise_px=noise, gaps=gaps, seed=4)
    analysis = analyze_track(track, 'deep_squat', None, 'side', {})
    assert [r.possible for r in analysis.repetitions] == [(1, 3)] * 3
    assert analysis.possible == (1, 3)
    assert [abs(r.key_index - k) <= 3 for r, k in zip(
        analysis.repetitions, (45, 135, 225))] == [True] * 3
    assert analysis.repetition == 0 and analysis.key_index \
        == analysis.repetitions[0].key_index


@pytest.mark.parametrize('noise', [0.0, NOISE_PX, 3 * NOISE_PX])
def test_one_repetition_is_one_and_noise_does_not_split_it(noise):
    track = movements.deep_squat_sequence(key_frame=40, noise_px=noise,
                                          seed=7)
    analysis = analyze_track(track, 'deep_squat', None, 'side', {})
    assert len(analysis.repetitions) == 1 and analysis.repetition == 0
    only = analysis.repetitions[0]
    assert (only.first_index, only.last_index) == (0, 89)
    assert only.key_index == analysis.key_index
    assert analysis.reasons[-1] == 'one repetition (frames 0-89)'
    assert 'repetition' not in analysis.key_reason


@pytest.mark.parametrize('test, side, view, inputs',
                         movements.EXAMPLE_TRIALS)
def test_every_test_finds_its_repetitions(test, side, view, inputs):
    one = movements.example_track(test, side, view)
    track = movements.repeated([one] * 3, noise_px=NOISE_PX, seed=1)
    analysis = analyze_track(track, test, side, view, inputs)
    assert len(analysis.repetitions) == 3, analysis.reasons
    alone = analyze_track(one, test, side, view, inputs)
    assert analysis.score == alone.score
    assert analysis.possible == alone.possible


def test_aslr_best_repetition_is_the_highest_raise():
    track = movements.repeated([
        movements.leg_raise_sequence(max_angle_deg=a, side='left')
        for a in (50.0, 80.0, 65.0)])
    analysis = analyze_track(track, 'aslr', 'left', 'side', {})
    assert [r.score for r in analysis.repetitions] == [1, 3, 2]
    assert analysis.repetition == 1
    assert analysis.measurements['leg_raise'].value == pytest.approx(80.0,
                                                                     abs=1)


def test_a_range_over_the_trial_is_over_the_repetition():
    # FMS: no torso movement during the repetition; the lunge's trunk
    # range is each repetition's own, not the whole clip's
    track = movements.repeated([
        movements.inline_lunge_sequence(trunk_lean_deg=lean)
        for lean in (20.0, 3.0)])
    analysis = analyze_track(track, 'inline_lunge', 'right', 'side', {})
    ranges = [r.measurements['trunk_inclination_range'].value
              for r in analysis.repetitions]
    assert ranges == [pytest.approx(20.0, abs=1.0),
                      pytest.approx(3.0, abs=1.0)]
    # the still one is 2 or 3 (its front-view compensations not judged):
    # the best, as only it could be 3
    assert [r.possible for r in analysis.repetitions] == [(2,), (2, 3)]
    assert analysis.repetition == 1 and analysis.possible == (2, 3)


def test_rescore_judges_every_repetition_again():
    analysis = analyze_track(three_squats(), 'deep_squat', None, 'side', {})
    document = result_document(analysis, subject='s1')
    # the clean repetition passes every side criterion: 1 or 3
    assert rescore(document, {}) is None
    # a deeper femur limit fails the clean repetition (5 deg) but a looser
    # trunk limit lets the deepest (10 deg, 20 deg lean) pass: the best
    # is now repetition 1, as the analysis with those thresholds chooses
    # (the chosen repetition alone would now be a definite 1)
    other = {'femur_angle_min_deg': 8.0, 'torso_tibia_max_deg': 25.0}
    again = analyze_track(three_squats(), 'deep_squat', None, 'side', {},
                          thresholds=other)
    assert again.repetition == 0 and again.possible == (1, 3)
    assert [r.possible for r in again.repetitions] == [(1, 3), (1,), (1,)]
    assert rescore(document, other) is None
    chosen_only = {k: v for k, v in document.items() if k != 'repetitions'}
    assert rescore(chosen_only, other) == 1


# --- Review fixes: unjudged repetitions, input checks, framing first ---

def _blank_knees_at(track, keys, half=20):
    """The knees lost for ``half`` frames either side of each key frame
    (longer than any gap the track preparation fills)."""
    from entity import JOINT_INDEX
    for key in keys:
        for name in ('LKnee', 'RKnee'):
            track.xy[key - half:key + half + 1, JOINT_INDEX[name]] = np.nan
    return track


def test_a_repetition_with_nothing_judged_is_skipped():
    keys = [r.key_index for r in analyze_track(
        three_squats(), 'deep_squat', None, 'side', {}).repetitions]
    # the clean repetition (3) loses its knees at its key frame: it cannot
    # be judged, so the best of the others is scored, no error
    analysis = analyze_track(_blank_knees_at(three_squats(), keys[1:2]),
                             'deep_squat', None, 'side', {})
    assert [r.score for r in analysis.repetitions] == [1, None, 1]
    assert [r.possible for r in analysis.repetitions] == [(1,), (), (1,)]
    assert analysis.repetition == 0 and analysis.score == 1
    assert 'repetition 2 not judged' in analysis.reasons[-1]
    document = result_document(analysis, subject='s1')
    assert document['repetitions'][1]['score'] is None
    assert rescore(document, {}) == 1


def test_no_repetition_judged_says_the_joints_were_not_seen():
    keys = [r.key_index for r in analyze_track(
        three_squats(), 'deep_squat', None, 'side', {}).repetitions]
    track = _blank_knees_at(three_squats(), keys)
    with pytest.raises(FmsError) as error:
        analyze_track(track, 'deep_squat', None, 'side', {})
    message = str(error.value)
    assert "not seen at any repetition's key frame" in message
    assert 'femur_angle' in message and 'film the whole body' in message
    assert 'front view' not in message


def test_rescore_skips_a_stored_repetition_with_nothing_judged():
    analysis = analyze_track(three_squats(), 'deep_squat', None, 'side', {})
    document = result_document(analysis, subject='s1')
    clean = document['repetitions'][1]
    clean['measurements'] = {name: None for name in clean['measurements']}
    assert rescore(document, {}) == 1
    for repetition in document['repetitions']:
        repetition['measurements'] = dict.fromkeys(
            repetition['measurements'])
    with pytest.raises(FmsError, match="not seen at any repetition"):
        rescore(document, {})


@pytest.mark.parametrize('inputs, message', [
    ({'hand_length_cm': -18.0, 'stature_cm': 175.0},
     '--hand-length-cm must be a positive number'),
    ({'hand_length_cm': 18.0, 'stature_cm': 0.0},
     '--stature-cm must be a positive number'),
    ({'hand_length_cm': float('nan'), 'stature_cm': 175.0},
     '--hand-length-cm must be a positive number'),
    ({'hand_length_cm': 18.0, 'stature_cm': float('inf')},
     '--stature-cm must be a positive number'),
    ({'stature_cm': 175.0}, 'go together'),
    ({'hand_length_cm': 18.0}, 'go together'),
])
def test_bad_hand_length_or_stature_is_refused(inputs, message):
    track = movements.shoulder_mobility_sequence()
    with pytest.raises(FmsError, match=message):
        analyze_track(track, 'shoulder_mobility', 'right', 'front', inputs)


def test_hand_length_and_stature_only_for_shoulder_mobility():
    track = movements.deep_squat_sequence()
    with pytest.raises(FmsError, match='apply only to shoulder_mobility'):
        analyze_track(track, 'deep_squat', None, 'side',
                      {'hand_length_cm': 18.0, 'stature_cm': 175.0})


def test_a_squat_hip_never_found_gives_the_framing_advice():
    for view in ('side', 'front'):
        track = _without(movements.deep_squat_sequence(), 'LHip', 'RHip')
        with pytest.raises(FmsError, match='hip never found: film the '
                                           'whole body'):
            analyze_track(track, 'deep_squat', None, view, {})
