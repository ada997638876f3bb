"""Tests of fms.sequence: reading keypoint files, subject, gaps, smoothing."""
import json
import re

import numpy as np
import pytest

from common.errors import ToolError
from fms import FmsError
from fms import sequence
from pose.keypoints import KeypointFileError
from fms.analysis import analyze_track
from tests.fixtures import crowd, movements


def person(pid, offset=0.0, scale=1.0, hands=False):
    pose = []
    for j in range(18):
        pose += [offset + scale * (10 * j + 1), scale * (5 * j + 2), 0.8]
    entry = {'person_id': [pid], 'pose_keypoints_2d': pose,
             'face_keypoints_2d': [], 'hand_left_keypoints_2d': [],
             'hand_right_keypoints_2d': []}
    if hands:
        entry['hand_left_keypoints_2d'] = [1.0, 2.0, 0.5] * 21
    return entry


def write_lines(path, records):
    path.write_text(''.join(json.dumps(r) + '\n' for r in records))
    return str(path)


def test_read_skips_decode_failed_and_carried(tmp_path):
    records = [{'frame': 0, 'time': 0.0, 'carried': False,
                'people': [person(1)]},
               {'frame': 1, 'time': 0.033, 'carried': True,
                'people': [person(1)]},
               {'frame': 2, 'time': 0.067, 'carried': False,
                'decode_failed': True, 'people': []},
               {'frame': 3, 'time': 0.1, 'carried': False, 'people': []}]
    read = sequence.read_keypoint_file(write_lines(tmp_path / 'k.jsonl',
                                                   records))
    assert [r['frame'] for r in read] == [0, 3]


@pytest.mark.parametrize('text, message', [
    ('{"frame": 0, "time": 0, "people": []}\nnot json\n',
     'line 2 is not JSON'),
    ('{"frame": 0}\n', 'line 1 has no "people"'),
    ('{"version": 1.3, "people": []}\n',          # an image's keypoints
     'line 1 has no "frame" and "time"'),
    ('{"frame": 0, "time": NaN, "people": []}\n', '"time" is NaN'),
    ('{"frame": 0, "time": 0, "people": [{"pose_keypoints_2d": ["a"]}]}\n',
     'line 1, person 1: "pose_keypoints_2d" value 0 is "a", not a number'),
    ('{"frame": 0, "time": 0, "people": [3]}\n', 'person 1: 3 is not an'),
    ('{"frame": 0, "time": 0, "people": [{"pose_keypoints_2d": [1e308]}]}\n',
     'line 1, person 1: "pose_keypoints_2d" value 0 (x of keypoint 0) is '
     '1e+308'),
    ('{"frame": 1000000000000000000000000000000, "time": 0, "people": []}\n',
     'line 1: "frame" is 1000000000000000000000000000000'),
])
def test_read_errors_are_those_of_the_keypoint_format(tmp_path, text,
                                                      message):
    path = tmp_path / 'bad.jsonl'
    path.write_text(text)
    with pytest.raises(KeypointFileError, match=re.escape(message)):
        sequence.read_keypoint_file(str(path))


@pytest.mark.parametrize('text', [
    '\n', '{"frame": 0, "time": 0, "carried": true, "people": []}\n'])
def test_no_detected_frame_left(tmp_path, text):
    path = tmp_path / 'empty.jsonl'
    path.write_text(text)
    with pytest.raises(FmsError, match='no detected frame'):
        sequence.read_keypoint_file(str(path))


def test_read_missing_file(tmp_path):
    with pytest.raises(ToolError, match=r'none\.jsonl'):
        sequence.read_keypoint_file(str(tmp_path / 'none.jsonl'))


def test_a_person_in_too_few_frames_cannot_be_the_subject():
    """Person 4 moves (300 px) but is seen in 2 of 5 frames, below
    MIN_PRESENCE_FRACTION of person 7's 5: the still person 7 is
    followed."""
    records = [{'frame': i, 'time': i / 30, 'people':
                [person(7, offset=500)]
                + ([person(4, offset=300 * i)] if i < 2 else [])}
               for i in range(5)]
    candidates = {c.person_id: c
                  for c in sequence.subject_candidates(records)}
    assert sequence.MIN_PRESENCE_FRACTION * 5 > 2
    assert not candidates[4].eligible and candidates[4].movement > 0.3
    assert candidates[7].eligible and candidates[7].movement == 0.0
    track = sequence.select_subject(records)
    assert track.person_id == 7
    assert track.xy.shape == (5, 18, 2)
    assert track.xy[0, 0, 0] == pytest.approx(501.0)
    assert track.hands is None


def test_subject_tie_goes_to_the_larger_body():
    records = [{'frame': 0, 'time': 0.0, 'people': [
        person(1, scale=1.0), person(2, scale=3.0)]}]
    assert sequence.select_subject(records).person_id == 2


# ---------------------------------------------------------------------------
# Following the person who performs the test (issue "Screening sessions",
# part 4)
# ---------------------------------------------------------------------------

ATHLETE, BYSTANDER, PASSER_BY = 1, 2, 3


def squatting_athlete(frames=60, gaps=((5, 8),), scale=1.0):
    """A deep squat (key frame 30) by person ATHLETE, missed by the
    detector in ``gaps``."""
    track = movements.deep_squat_sequence(frames=frames,
                                          key_frame=frames // 2, gaps=gaps)
    return crowd.placed(track, ATHLETE, 0.0, scale)


def crowd_file(tmp_path, *tracks):
    path = str(tmp_path / 'crowd.jsonl')
    crowd.write_crowd_file(path, *tracks)
    return sequence.read_keypoint_file(path)


def test_still_bystander_present_longer_is_not_followed(tmp_path):
    """The bystander stands in every frame, the athlete is missed in 3: the
    old rule (most frames) analysed the bystander (femur -90 deg, key
    frame 0, score 1); the athlete is analysed as if alone."""
    athlete = squatting_athlete()
    records = crowd_file(tmp_path, crowd.standing(60, BYSTANDER, 500.0),
                         athlete)
    candidates = {c.person_id: c
                  for c in sequence.subject_candidates(records)}
    assert candidates[BYSTANDER].frames > candidates[ATHLETE].frames
    track = sequence.select_subject(records)
    assert track.person_id == ATHLETE
    np.testing.assert_allclose(track.xy, athlete.xy, atol=1e-3)
    alone = analyze_track(athlete, 'deep_squat', None, 'side', {})
    followed = analyze_track(track, 'deep_squat', None, 'side', {})
    # the athlete passes every side criterion (1 or 3: the knees are
    # seen from the front only); the bystander would be a definite 1
    assert alone.possible == (1, 3)
    assert (followed.possible, followed.score, followed.key_index) == (
        alone.possible, alone.score, alone.key_index)
    assert followed.measurements['femur_angle'].value == pytest.approx(
        alone.measurements['femur_angle'].value, abs=0.01)


def test_person_id_still_overrides(tmp_path):
    bystander = crowd.standing(60, BYSTANDER, 500.0)
    records = crowd_file(tmp_path, squatting_athlete(), bystander)
    track = sequence.select_subject(records, person_id=BYSTANDER)
    assert track.person_id == BYSTANDER
    np.testing.assert_allclose(track.xy, bystander.xy, atol=1e-3)


def test_passer_by_does_not_win_over_the_athlete(tmp_path):
    """Walking across the image in 12 frames of 60 is more movement than a
    squat, but too short a presence (MIN_PRESENCE_FRACTION)."""
    records = crowd_file(
        tmp_path, crowd.walker(60, PASSER_BY, 20, 32, -400.0, 800.0),
        squatting_athlete(), crowd.standing(60, BYSTANDER, 500.0))
    candidates = {c.person_id: c
                  for c in sequence.subject_candidates(records)}
    assert candidates[PASSER_BY].movement > candidates[ATHLETE].movement
    assert not candidates[PASSER_BY].eligible
    assert sequence.select_subject(records).person_id == ATHLETE


def test_movement_is_in_body_sizes(tmp_path):
    """The same squat filmed from three times as far moves the same number
    of body sizes: a far athlete is not outweighed by a near bystander."""
    near = sequence.subject_candidates(crowd_file(tmp_path,
                                                  squatting_athlete()))
    far = sequence.subject_candidates(crowd_file(
        tmp_path, squatting_athlete(scale=1 / 3)))
    assert far[0].size == pytest.approx(near[0].size / 3, rel=1e-4)
    assert far[0].movement == pytest.approx(near[0].movement, rel=1e-4)
    assert near[0].movement > 4 * sequence.MOVEMENT_TIE
    bystander = crowd.standing(60, BYSTANDER, 300.0, scale=1.5)
    bystander.xy += np.random.default_rng(0).normal(0.0, 3.0,
                                                    bystander.xy.shape)
    records = crowd_file(tmp_path, bystander,
                         squatting_athlete(scale=1 / 3))
    assert sequence.select_subject(records).person_id == ATHLETE


def test_one_misplaced_frame_does_not_make_a_bystander_move(tmp_path):
    """A keypoint set jumping 400 px in one frame (of 60) is outside the
    RANGE_PERCENTILES and leaves the still bystander still."""
    bystander = crowd.standing(60, BYSTANDER, 500.0)
    bystander.xy[40] += (400.0, -200.0)
    records = crowd_file(tmp_path, bystander, squatting_athlete())
    candidates = {c.person_id: c
                  for c in sequence.subject_candidates(records)}
    assert candidates[BYSTANDER].movement < sequence.MOVEMENT_TIE
    assert sequence.select_subject(records).person_id == ATHLETE


def test_subject_tie_jitter_is_no_movement_and_the_larger_body_wins(
        tmp_path):
    """Two still people; the smaller one jitters by 3 px: movements within
    MOVEMENT_TIE tie and the larger body wins."""
    jittery = crowd.standing(60, 1, -300.0, scale=0.7)
    jittery.xy += np.random.default_rng(0).normal(0.0, 3.0,
                                                  jittery.xy.shape)
    records = crowd_file(tmp_path, jittery,
                         crowd.standing(60, 2, 300.0))
    candidates = {c.person_id: c
                  for c in sequence.subject_candidates(records)}
    assert 0 < candidates[1].movement - candidates[2].movement \
        < sequence.MOVEMENT_TIE
    assert sequence.select_subject(records).person_id == 2


@pytest.mark.parametrize('central', [1, 2])
def test_subject_tie_of_size_goes_to_the_most_central(tmp_path, central):
    """Still people of sizes within SIZE_TIE: the one nearest the frame's
    centre wins, whatever its id; the frame's size is used when given."""
    places = {central: 0.0, 3 - central: 380.0}
    scales = {1: 1.0, 2: 1.0 - sequence.SIZE_TIE / 2}
    records = crowd_file(tmp_path, *(crowd.standing(10, pid, places[pid],
                                                    scales[pid])
                                      for pid in (1, 2)))
    size = (int(2 * movements.IMAGE_CENTRE_X), 720)
    assert sequence.select_subject(records,
                                   frame_size=size).person_id == central
    # Without the frame size the centre is the middle of all keypoints:
    # with a third person on the other side, the image's centre again.
    far = crowd.standing(10, 9, -380.0, 1.0 - sequence.SIZE_TIE / 2)
    records = crowd_file(tmp_path, far, *(crowd.standing(
        10, pid, places[pid], scales[pid]) for pid in (1, 2)))
    assert sequence.select_subject(records).person_id == central


@pytest.mark.parametrize('left, right', [(5, 2), (2, 5)])
def test_subject_full_tie_goes_to_the_lower_id(left, right):
    """Same movement, size and distance to the centre (x 86, y 44.5, where
    the two people's centres are 100 px either side)."""
    records = [{'frame': 0, 'time': 0.0, 'people': [
        person(left, offset=-100.0), person(right, offset=100.0)]}]
    candidates = sequence.subject_candidates(records, frame_size=(172, 89))
    assert candidates[0].centre_distance == candidates[1].centre_distance
    assert sequence.select_subject(records, frame_size=(172, 89)
                                   ).person_id == 2


def test_explicit_subject_absent_frames_are_nan_and_hands_filled():
    records = [{'frame': i, 'time': i / 30, 'people':
                [person(7, offset=500)] + ([person(3, hands=True)]
                                           if i % 2 == 0 else [])}
               for i in range(4)]
    track = sequence.select_subject(records, person_id=3, source='x')
    assert np.isnan(track.xy[1]).all() and np.isnan(track.xy[3]).all()
    assert np.isfinite(track.xy[0]).all()
    assert track.hands.shape == (4, 2, 21, 2)
    assert track.hands[0, 0, 5].tolist() == [1.0, 2.0]
    assert np.isnan(track.hands[0, 1]).all()
    assert track.frames.tolist() == [0, 1, 2, 3]


def test_unknown_subject_lists_the_ids():
    records = [{'frame': 0, 'time': 0.0, 'people': [person(4), person(9)]}]
    with pytest.raises(FmsError, match='use one of 4, 9'):
        sequence.select_subject(records, person_id=5)


def test_missing_joints_are_nan():
    entry = person(1)
    entry['pose_keypoints_2d'][3:6] = [0.0, 0.0, 0.0]    # neck missing
    track = sequence.select_subject([{'frame': 0, 'time': 0.0,
                                      'people': [entry]}])
    assert np.isnan(track.xy[0, 1]).all()
    assert track.confidence[0, 1] == 0.0


def test_keypoint_file_round_trip(tmp_path):
    track = movements.deep_squat_sequence(frames=30, key_frame=15,
                                          gaps=[(5, 8)])
    path = str(tmp_path / 'squat.jsonl')
    movements.write_keypoint_file(track, path)
    back = sequence.select_subject(sequence.read_keypoint_file(path),
                                   source=path)
    assert back.source == path
    np.testing.assert_allclose(back.xy, track.xy, atol=1e-3)
    np.testing.assert_allclose(back.times, track.times, atol=1e-6)
    assert back.person_id == track.person_id and back.hands is None


def test_keypoint_file_round_trip_with_hands(tmp_path):
    track = movements.shoulder_mobility_sequence(frames=20, key_frame=10)
    path = str(tmp_path / 'reach.jsonl')
    movements.write_keypoint_file(track, path)
    back = sequence.select_subject(sequence.read_keypoint_file(path))
    np.testing.assert_allclose(back.hands, track.hands, atol=1e-3)


def squat_lines(tmp_path, frames=40):
    """The lines of a deep-squat keypoint file (key frame 20)."""
    path = tmp_path / 'squat.jsonl'
    movements.write_keypoint_file(movements.deep_squat_sequence(
        frames=frames, key_frame=frames // 2), str(path))
    return path.read_text().splitlines(keepends=True)


@pytest.mark.parametrize('change, line', [
    ('shuffled', None),
    ('duplicate', 11),
    ('swapped', 11),
])
def test_lines_out_of_order_or_repeated_are_refused(tmp_path, change, line):
    """Case 17: shuffled lines used to move the key frame; now the file is
    refused at the first line out of order, not sorted."""
    lines = squat_lines(tmp_path)
    if change == 'shuffled':
        order = np.random.default_rng(3).permutation(len(lines))
        lines = [lines[i] for i in order]
        line = 1 + next(i for i in range(1, len(order))
                        if order[i] < order[i - 1])
    elif change == 'duplicate':
        lines.insert(10, lines[9])
    else:
        lines[9], lines[10] = lines[10], lines[9]
    path = tmp_path / 'changed.jsonl'
    path.write_text(''.join(lines))
    with pytest.raises(KeypointFileError) as error:
        sequence.read_keypoint_file(str(path))
    assert f'{path}, line {line}: frame ' in str(error.value)
    assert 'does not come after frame' in str(error.value)


def test_negative_frames_and_times_are_refused(tmp_path):
    """Case 17: frames -60 .. -1 gave "key frame -54 at -1.80 s"."""
    track = movements.deep_squat_sequence(frames=60, key_frame=6)
    track.frames = track.frames - 60
    track.times = track.times - 2.0
    path = str(tmp_path / 'negative.jsonl')
    movements.write_keypoint_file(track, path)
    with pytest.raises(KeypointFileError,
                       match=r'line 1: "frame" is -60; it must be a whole'):
        sequence.read_keypoint_file(path)
    track.frames = track.frames + 60
    movements.write_keypoint_file(track, path)
    with pytest.raises(KeypointFileError, match=r'line 1: "time" is -2.0'):
        sequence.read_keypoint_file(path)


@pytest.mark.parametrize('frames, times', [
    ([0, 2, 1], [0.0, 0.1, 0.2]),          # out of order
    ([0, 1, 1], [0.0, 0.1, 0.2]),          # repeated
    ([0, 1, 2], [0.0, 0.1, 0.1]),          # time standing still
    ([-1, 0, 1], [0.0, 0.1, 0.2]),         # negative frame
    ([0, 1, 2], [-0.1, 0.1, 0.2]),         # negative time
    ([0, 1, 10 ** 30], [0.0, 0.1, 0.2]),   # beyond int64
    ([0, 1, 2], [0.0, 0.1, float('nan')]),
])
def test_records_in_memory_must_be_in_order_too(frames, times):
    """Records built without read_keypoint_file are checked as well."""
    records = [{'frame': f, 'time': t, 'people': [person(1)]}
               for f, t in zip(frames, times)]
    with pytest.raises(FmsError, match='frame'):
        sequence.select_subject(records)


@pytest.mark.parametrize('test, side, view, inputs',
                         movements.EXAMPLE_TRIALS)
def test_every_fixture_movement_passes_the_checks(tmp_path, test, side,
                                                  view, inputs):
    """The synthetic movements' files are valid keypoint files."""
    track = movements.example_track(test, side, view)
    path = str(tmp_path / 'trial.jsonl')
    movements.write_keypoint_file(track, path)
    back = sequence.select_subject(sequence.read_keypoint_file(path))
    np.testing.assert_allclose(back.xy, track.xy, atol=1e-3)
    assert back.frames.tolist() == track.frames.tolist()


def test_fill_gaps_short_runs_only():
    values = np.array([0.0, np.nan, np.nan, 3.0, np.nan, np.nan, np.nan,
                       np.nan, 8.0, np.nan])
    filled = sequence.fill_gaps(values, max_gap=3)
    np.testing.assert_allclose(filled[:4], [0.0, 1.0, 2.0, 3.0])
    assert np.isnan(filled[4:8]).all()          # 4 frames: too long
    assert filled[8] == 8.0 and np.isnan(filled[9])   # end stays NaN


def test_fill_gaps_per_column():
    values = np.zeros((5, 2, 2))
    values[:, 0, 0] = [0, np.nan, 2, 3, 4]
    values[:, 1, 1] = [np.nan, 1, 2, np.nan, 6]
    filled = sequence.fill_gaps(values, max_gap=2)
    np.testing.assert_allclose(filled[:, 0, 0], [0, 1, 2, 3, 4])
    assert np.isnan(filled[0, 1, 1])
    assert filled[3, 1, 1] == pytest.approx(4.0)


def test_savgol_preserves_polynomial_and_peak():
    t = np.arange(40, dtype=float)
    quadratic = 3.0 - 0.5 * (t - 17.0) ** 2
    np.testing.assert_allclose(sequence.smooth(quadratic, 9, 2), quadratic,
                               atol=1e-9)
    peak = np.exp(-((t - 23.0) / 4.0) ** 2)
    smoothed = sequence.smooth(peak, 9, 2)
    assert np.argmax(smoothed) == 23
    assert smoothed.max() < peak.max()          # it did smooth


def test_savgol_reduces_noise_and_keeps_nan_windows():
    rng = np.random.default_rng(1)
    t = np.arange(200, dtype=float)
    clean = np.sin(t / 20.0) * 50
    noisy = clean + rng.normal(0, 2.0, t.shape)
    smoothed = sequence.smooth(noisy, 9, 2)
    assert np.std(smoothed - clean) < 0.7 * np.std(noisy - clean)
    noisy[100] = np.nan
    smoothed = sequence.smooth(noisy, 9, 2)
    assert np.isnan(smoothed[100])
    assert smoothed[97] == noisy[97]            # window holds the NaN
    assert smoothed[90] != noisy[90]


def test_savgol_rejects_bad_window():
    with pytest.raises(FmsError, match='odd'):
        sequence.smooth(np.zeros(20), 8, 2)


def test_prepare_track_fills_and_smooths():
    track = movements.deep_squat_sequence(frames=60, key_frame=30,
                                          gaps=[(10, 15)])
    prepared = sequence.prepare_track(track)
    assert np.isfinite(prepared.xy[10:15]).all()
    assert np.isnan(track.xy[10:15]).all()      # input untouched
