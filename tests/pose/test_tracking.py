"""Tests of pose.tracking: person ids over synthetic pose sequences.

Every sequence is built from
:func:`tests.fixtures.ground_truth_maps.standing_person` moved frame by
frame along a known trajectory, so each detection's true person is known
and the ids can be checked against it.  Everything is
deterministic (a seeded generator for the shuffles).
"""
import dataclasses

import numpy as np
import pytest

import entity
from pose import tracking
from tests.fixtures.ground_truth_maps import standing_person, without_joints
from pose.tracking import PoseTracker, TrackerParams

#: Image (height, width) of the sequences, and the y of everyone's soles.
IMAGE_SIZE = (480, 640)
FLOOR_Y = 440
#: The decoder keeps people with at least this many joints.
MIN_DETECTED_JOINTS = entity.DEFAULT_PARAMS.min_person_parts
LEGS = ('RHip', 'RKnee', 'RAnkle', 'LHip', 'LKnee', 'LAnkle')
ARMS = ('RElbow', 'RWrist', 'LElbow', 'LWrist')


def walker(height, x0, vx, vy=0.0, floor_y=FLOOR_Y, start=0):
    """``pose(t)``: (18, 3) pose of a person ``height`` tall, top-centre at
    ``x0 + vx s``, soles on ``floor_y + vy s`` at frame ``t``, where
    ``s = max(t - start, 0)`` (standing still until ``start``)."""
    def pose(t):
        s = max(t - start, 0)
        return standing_person(height, x0 + vx * s,
                               floor_y - height + vy * s)
    return pose


def in_view(pose, image_size=IMAGE_SIZE):
    """What a detector sees of ``pose``: joints outside the image missing;
    None when fewer than the decoder's minimum remain."""
    height, width = image_size
    x, y = pose[:, 0], pose[:, 1]
    outside = (x < 0) | (x >= width) | (y < 0) | (y >= height)
    pose = pose.copy()
    pose[outside] = 0
    if (pose[:, 2] == entity.JOINT_FOUND).sum() < MIN_DETECTED_JOINTS:
        return None
    return pose


def frame(*poses):
    """(N, 18, 3) float32 detections of a frame (``None`` entries are
    undetected people)."""
    poses = [p for p in poses if p is not None]
    return np.array(poses, np.float32).reshape(-1, entity.NUM_JOINTS, 3)


def track_people(people, frames, tracker=None, image_size=None,
                 detected=lambda person, t: True, order=None):
    """Run a tracker over ``frames`` frames of ``people`` (pose functions).

    Returns an (frames, P) int64 array: the id of person p at frame t, -1
    where p was not detected.  ``detected(p, t)`` says whether person p is
    detected at t (and in view); ``order(t, P)`` gives the order in which
    the detections are passed.
    """
    tracker = tracker or PoseTracker()
    ids = np.full((frames, len(people)), -1, np.int64)
    for t in range(frames):
        poses = {p: in_view(person(t), image_size or IMAGE_SIZE)
                 for p, person in enumerate(people) if detected(p, t)}
        present = [p for p, pose in poses.items() if pose is not None]
        if order is not None:
            present = [present[i] for i in order(t, len(present))]
        result = tracker.update(frame(*(poses[p] for p in present)),
                                image_size=image_size)
        assert result.dtype == np.int64 and result.shape == (len(present),)
        ids[t, present] = result
    return ids


def assert_one_id_each(ids):
    """Each person (column) has a single id wherever detected, and the
    people's ids differ."""
    seen = []
    for column in ids.T:
        values = np.unique(column[column >= 0])
        assert len(values) == 1, values
        seen.append(int(values[0]))
    assert len(set(seen)) == len(seen), seen


# ---------------------------------------------------------------------------
# Steady people
# ---------------------------------------------------------------------------


def test_single_walker_keeps_id_0():
    ids = track_people([walker(200, 60, 4)], 100)
    assert (ids == 0).all()


def test_two_people_far_apart_keep_distinct_ids():
    ids = track_people([walker(220, 100, 1.5), walker(180, 520, -1.0)], 100)
    assert (ids[:, 0] == 0).all() and (ids[:, 1] == 1).all()


def test_shuffled_detections_keep_ids():
    rng = np.random.default_rng(3)
    people = [walker(200, 80, 3), walker(190, 560, -3),
              walker(150, 320, 0, vy=-1.0), walker(170, 200, 1)]
    ids = track_people(people, 60, order=lambda t, n: rng.permutation(n))
    assert_one_id_each(ids)
    assert sorted(ids[0]) == [0, 1, 2, 3]


def test_person_entering_while_another_is_present():
    people = [walker(200, 150, 1), walker(190, 700, -5)]   # enters at x 640
    ids = track_people(people, 60, image_size=IMAGE_SIZE)
    assert (ids[:, 0] == 0).all()
    entered = ids[:, 1] >= 0
    assert not entered[0] and entered[-1]
    assert (ids[entered, 1] == 1).all()


# ---------------------------------------------------------------------------
# Crossing
# ---------------------------------------------------------------------------

#: Two people standing for 10 frames, then walking towards each other on
#: the same floor line, slightly different in height; at frame 35 the right
#: one is exactly where the left one was a frame earlier, which fools
#: matching with the last pose or with centroids (and a velocity that does
#: not follow the start).
CROSSING = (walker(200, 100, 8, start=10), walker(194, 508, -8, start=10))


def test_crossing_people_keep_their_ids():
    ids = track_people(list(CROSSING), 50)
    np.testing.assert_array_equal(ids[0], [0, 1])
    np.testing.assert_array_equal(ids[-1], ids[0])
    assert_one_id_each(ids)


@pytest.mark.parametrize('scenario', ['CROSSING', 'SLOW_CROSSING'])
def test_crossings_need_the_velocity_prediction(scenario):
    """The crossing scenarios are ones where comparing with the last pose
    swaps the ids (so the crossing tests do check the prediction)."""
    tracker = PoseTracker(TrackerParams(constant_velocity=False))
    ids = track_people(list(globals()[scenario]), 80, tracker=tracker)
    assert (ids[-1] != ids[0]).all()


#: The same slowly: bodies overlap for about 30 frames, and at frame 40 the
#: right one is again where the left one was a frame earlier.
SLOW_CROSSING = (walker(200, 150, 2), walker(198, 312, -2))


def test_slow_crossing_overlapping_for_many_frames():
    ids = track_people(list(SLOW_CROSSING), 80)
    np.testing.assert_array_equal(ids[0], [0, 1])
    assert_one_id_each(ids)


def test_crossing_with_the_person_behind_hidden():
    """The person behind is not detected for 8 frames while the other
    passes in front; both keep their ids."""
    people = [walker(200, 100, 5), walker(185, 500, -5)]
    hidden = range(36, 44)          # they meet at t = 40
    ids = track_people(people, 80,
                       detected=lambda p, t: not (p == 1 and t in hidden))
    assert (ids[hidden, 1] == -1).all()
    assert_one_id_each(ids)
    np.testing.assert_array_equal(ids[-1], [0, 1])


# ---------------------------------------------------------------------------
# Missed, leaving, entering
# ---------------------------------------------------------------------------


def test_person_stopping_and_turning_back_keeps_id():
    """The velocity follows changes: walk right, stand for 40 frames, walk
    back left."""
    def pose(t):
        x = 100 + 5 * min(t, 20) - 5 * max(t - 60, 0)
        return standing_person(200, x, FLOOR_Y - 200)
    ids = track_people([pose], 100)
    assert (ids == 0).all()


def test_person_missed_for_1_to_3_frames_keeps_id():
    misses = {10, 20, 21, 30, 31, 32, 50, 52, 53}
    people = [walker(180, 60, 6), walker(180, 560, -2)]
    ids = track_people(people, 70,
                       detected=lambda p, t: not (p == 0 and t in misses))
    assert_one_id_each(ids)
    np.testing.assert_array_equal(ids[-1], [0, 1])


def test_person_missing_too_long_gets_a_new_id():
    params = TrackerParams(max_missing_frames=5)
    gone = range(10, 16)                                   # 6 frames
    ids = track_people([walker(200, 300, 0)], 25, PoseTracker(params),
                       detected=lambda p, t: t not in gone)
    assert (ids[:10, 0] == 0).all() and (ids[16:, 0] == 1).all()


def test_person_leaving_and_newcomer_entering_get_new_id():
    """One walks slowly out on the right; 9 frames later another walks in
    where they left: a new id (the leaver's track, predicted outside the
    image, is gone), and ids are never reused."""
    leaving = walker(200, 560, 3)               # out of view from t = 32
    entering = walker(200, 680, -3)             # in view from t = 32 + 9
    people = [lambda t: leaving(t) if t < 32 else entering(t - 32)]
    ids = track_people(people, 80, image_size=IMAGE_SIZE)
    assert (ids[:32, 0] == 0).all()
    assert (ids[32:41, 0] == -1).all() and (ids[41:, 0] == 1).all()


def test_newcomer_long_after_gets_next_unused_id():
    people = [walker(200, 100, 0), walker(200, 400, 0)]
    ids = track_people(people, 100,
                       detected=lambda p, t: (p == 0) == (t < 10)
                       or (p == 1 and t >= 60))
    assert (ids[:10, 0] == 0).all() and (ids[60:, 1] == 1).all()


# ---------------------------------------------------------------------------
# Incomplete and degenerate detections
# ---------------------------------------------------------------------------


def test_missing_joints_do_not_break_the_match():
    """Legs or arms missing in some frames (x = y = 0 there); two people
    side by side, so a poor comparison would also mix them up."""
    def partial(person, phases):
        return lambda t: without_joints(person(t), phases[t % len(phases)])
    people = [partial(walker(200, 200, 2), [(), LEGS, LEGS, ARMS]),
              partial(walker(200, 300, 2), [ARMS, (), LEGS])]
    ids = track_people(people, 60)
    assert_one_id_each(ids)
    np.testing.assert_array_equal(ids[-1], [0, 1])


def test_legs_only_then_head_only_keeps_id():
    """The track remembers the joints a detection lacks, so detections with
    no joint in common with the previous one still match."""
    person = walker(200, 200, 3)
    upper = [name for name in entity.JOINT_NAMES if name not in LEGS]
    ids = track_people([lambda t: without_joints(
        person(t), () if t < 2 else LEGS if t % 2 else upper)], 20)
    assert (ids == 0).all()


def test_one_joint_or_none_does_not_crash():
    tracker = PoseTracker()
    full = standing_person(200, 300, 100)
    lone = np.zeros_like(full)
    lone[entity.JOINT_INDEX['Nose']] = full[entity.JOINT_INDEX['Nose']]
    empty_pose = np.zeros_like(full)
    assert tracker.update(frame(full)).tolist() == [0]
    ids = tracker.update(frame(full, lone, empty_pose))
    assert ids[0] == 0 and sorted(ids[1:]) == [1, 2]
    ids = tracker.update(frame(lone, full))
    assert ids[1] == 0 and ids[0] not in (0, 2)     # a new person: too few


def test_empty_frames():
    tracker = PoseTracker()
    ids = tracker.update(np.zeros((0, entity.NUM_JOINTS, 3), np.float32))
    assert ids.dtype == np.int64 and ids.shape == (0,)
    person = walker(200, 100, 4)
    got = [tracker.update(frame(person(t)) if t % 3 else frame()).tolist()
           for t in range(30)]
    assert all(ids in ([], [0]) for ids in got) and got[-1] == [0]


# ---------------------------------------------------------------------------
# frames_elapsed (--every N)
# ---------------------------------------------------------------------------


def track_with_gaps(people, gaps, tracker=None):
    """Ids (updates, P) of ``people`` processed at frames separated by
    ``gaps`` (passed as ``frames_elapsed``)."""
    tracker = tracker or PoseTracker()
    times = np.concatenate([[0], np.cumsum(gaps)])
    elapsed = np.concatenate([[1], gaps])
    return np.array([tracker.update(frame(*(p(t) for p in people)),
                                    frames_elapsed=int(n))
                     for t, n in zip(times, elapsed)])


def test_fast_crossing_with_irregular_frames_elapsed():
    """People at 10 px per frame crossing, seen every 1-4 frames: only a
    prediction scaled by the frames elapsed keeps them apart."""
    people = [walker(200, 60, 10), walker(194, 560, -10)]
    gaps = [1, 3, 2, 4, 1, 2, 3, 1, 4, 2, 1, 3, 2, 1, 4, 3, 1, 2, 4, 1]
    ids = track_with_gaps(people, gaps)
    assert (ids == [0, 1]).all()


def test_crossing_processed_every_5_frames():
    """50 px between updates; at frame 25 each person is nearer to where
    the other one would be if the prediction ignored the skipped frames."""
    people = [walker(200, 60, 10), walker(194, 550, -10)]
    ids = track_with_gaps(people, [5] * 10)
    assert (ids == [0, 1]).all()


def test_every_n_keeps_id_with_large_jumps():
    ids = track_with_gaps([walker(150, 40, 12)], [5] * 9)  # 60 px a step
    assert (ids == 0).all()


def test_ageing_counts_video_frames():
    """Missed for two updates of 10 frames (20 <= 30) keeps the id;
    for four (40 > 30) does not."""
    person = walker(200, 300, 0)
    for missed, expected in ((2, 0), (4, 1)):
        tracker = PoseTracker()
        tracker.update(frame(person(0)), frames_elapsed=10)
        for _ in range(missed):
            tracker.update(frame(), frames_elapsed=10)
        assert tracker.update(frame(person(0)),
                              frames_elapsed=10).tolist() == [expected]


@pytest.mark.parametrize('bad', [0, -1, 1.5])
def test_frames_elapsed_must_be_positive_integer(bad):
    with pytest.raises(ValueError):
        PoseTracker().update(frame(), frames_elapsed=bad)


# ---------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------


def test_distance_matrix_uses_common_joints_only():
    a = standing_person(200, 100, 50).astype(np.float64)
    legless = without_joints(a, LEGS)
    moved = a.copy()
    moved[:, 0] += 20
    detections = np.stack([legless, moved])
    distances = tracking.distance_matrix(
        a[None, :, :2], np.ones((1, 18), bool), np.array([200.0]),
        detections[..., :2], tracking.found_joints(detections), 3)
    np.testing.assert_allclose(distances, [[0.0, 0.1]])
    few = np.zeros((1, 18), bool)
    few[0, :2] = True
    assert np.isinf(tracking.distance_matrix(
        a[None, :, :2], few, np.array([200.0]), a[None, :, :2],
        np.ones((1, 18), bool), 3)).all()


def test_greedy_assignment_takes_smallest_first():
    distances = np.array([[0.1, 0.05, 0.9],
                          [0.2, 0.3, np.inf]])
    assert tracking.greedy_assignment(distances, 0.5) == [(0, 1), (1, 0)]
    assert tracking.greedy_assignment(distances, 0.01) == []
    assert tracking.greedy_assignment(np.zeros((0, 3)), 0.5) == []


def test_pose_size_is_larger_side_with_a_floor():
    pose = standing_person(200, 100, 50)
    found = tracking.found_joints(pose)
    eyes_to_ankles = 183
    assert tracking.pose_size(pose[:, :2], found, 32) == eyes_to_ankles
    one = np.zeros(18, bool)
    one[0] = True
    assert tracking.pose_size(pose[:, :2], one, 32) == 32


def test_params_are_frozen_and_checked():
    with pytest.raises(dataclasses.FrozenInstanceError):
        TrackerParams().max_distance = 1.0
    for bad in ({'max_distance': 0}, {'min_common_joints': 0},
                {'velocity_smoothing': 0}, {'max_missing_frames': -1}):
        with pytest.raises(ValueError):
            TrackerParams(**bad)
