"""The One-Euro filter over tracked poses."""
import numpy as np
import pytest

from pose.detection import Detection
from pose.smoothing import OneEuroFilter, PoseSmoother, smoothing_factor

FPS = 30.0
JOINTS = 18


def poses_at(xy, found=None):
    """(1, 18, 3) poses with every joint at ``xy`` (found unless ``found``
    says otherwise)."""
    poses = np.zeros((1, JOINTS, 3), np.float32)
    poses[0, :, :2] = xy
    poses[0, :, 2] = 1 if found is None else found
    return poses


def test_smoothing_factor_follows_the_cutoff():
    assert smoothing_factor(1e9, 1 / FPS) == pytest.approx(1.0)
    slow, fast = smoothing_factor(np.array([0.5, 5.0]), 1 / FPS)
    assert 0 < slow < fast < 1


def test_noise_on_a_still_joint_is_reduced():
    rng = np.random.default_rng(0)
    smoother = PoseSmoother()
    raw = 100 + rng.normal(0, 2.0, (90, JOINTS, 2))
    out = np.stack([smoother.update(poses_at(xy), [1], i / FPS)[0, :, :2]
                    for i, xy in enumerate(raw)])
    settled = slice(30, None)
    assert out[settled].var(axis=0).mean() < 0.3 * raw[settled].var(
        axis=0).mean()
    assert np.abs(out[settled].mean(axis=0) - 100).max() < 1.0


def test_a_step_is_followed_with_bounded_lag():
    one = OneEuroFilter()
    found = np.ones(1, bool)
    for i in range(30):
        one(np.array([[0.0, 0.0]]), found, i / FPS)
    out = [one(np.array([[200.0, 0.0]]), found, (30 + i) / FPS)[0, 0]
           for i in range(15)]
    assert out[0] > 20                      # it moves at once
    assert np.all(np.diff(out) >= 0) and out[-1] <= 200
    assert 200 - out[9] < 10                # within 10 px after 1/3 s


def test_a_missing_joint_stays_missing_and_restarts():
    smoother = PoseSmoother()
    found = np.ones(JOINTS)
    smoother.update(poses_at(0.0), [1], 0.0)
    found[3] = 0
    gone = poses_at(50.0, found)
    gone[0, 3, :2] = 0
    out = smoother.update(gone, [1], 1 / FPS)
    np.testing.assert_array_equal(out[0, 3], [0, 0, 0])
    assert 0 < out[0, 0, 0] < 50            # the others are smoothed
    back = smoother.update(poses_at(80.0), [1], 2 / FPS)
    assert back[0, 3, 0] == 80              # restarts at its measurement
    assert back[0, 0, 0] < 80


def test_each_id_has_its_own_filter_and_a_gone_person_restarts():
    smoother = PoseSmoother()
    both = np.concatenate([poses_at(0.0), poses_at(500.0)])
    smoother.update(both, [1, 2], 0.0)
    swapped = np.concatenate([poses_at(510.0), poses_at(10.0)])
    out = smoother.update(swapped, [2, 1], 1 / FPS)
    assert 500 < out[0, 0, 0] < 510 and 0 < out[1, 0, 0] < 10
    smoother.update(poses_at(20.0), [1], 2 / FPS)      # 2 disappears
    out = smoother.update(poses_at(900.0), [2], 3 / FPS)
    assert out[0, 0, 0] == 900              # a new start, not from 510


def test_untracked_people_pass_through():
    poses = poses_at(5.0)
    smoother = PoseSmoother()
    smoother.update(poses_at(0.0), [-1], 0.0)
    np.testing.assert_array_equal(smoother.update(poses, [-1], 0.1), poses)


# -- faces and hands -----------------------------------------------------------

FACE_POINTS = 70
HAND_POINTS = 21


def faces_at(xy, score=1.0):
    """(1, 70, 3) faces with every keypoint at ``xy``."""
    faces = np.zeros((1, FACE_POINTS, 3), np.float32)
    faces[0, :, :2], faces[0, :, 2] = xy, score
    return faces


def hands_at(left_xy, right_xy):
    """(1, 2, 21, 3) hands, the (left, right) keypoints at ``left_xy`` and
    ``right_xy``; None: that hand not found (all 0)."""
    hands = np.zeros((1, 2, HAND_POINTS, 3), np.float32)
    for side, xy in enumerate((left_xy, right_xy)):
        if xy is not None:
            hands[0, side, :, :2], hands[0, side, :, 2] = xy, 0.8
    return hands


def test_faces_and_hands_are_smoothed_per_id():
    smoother = PoseSmoother()
    smoother.update_parts(faces_at(0.0), hands_at(0.0, 100.0), [1], 0.0)
    faces, hands = smoother.update_parts(faces_at(50.0),
                                         hands_at(50.0, 150.0), [1], 1 / FPS)
    assert faces.shape == (1, FACE_POINTS, 3)
    assert hands.shape == (1, 2, HAND_POINTS, 3)
    assert np.all((0 < faces[0, :, :2]) & (faces[0, :, :2] < 50))
    assert np.all((0 < hands[0, 0, :, :2]) & (hands[0, 0, :, :2] < 50))
    assert np.all((100 < hands[0, 1, :, :2]) & (hands[0, 1, :, :2] < 150))
    np.testing.assert_array_equal(faces[..., 2], 1.0)      # scores kept
    np.testing.assert_array_equal(hands[..., 2], np.float32(0.8))


def test_a_missing_hand_stays_missing_and_restarts():
    smoother = PoseSmoother()
    smoother.update_parts(None, hands_at(0.0, 0.0), [1], 0.0)
    _, gone = smoother.update_parts(None, hands_at(None, 50.0), [1], 1 / FPS)
    np.testing.assert_array_equal(gone[0, 0], 0)           # left: as is
    assert np.all(gone[0, 1, :, 0] < 50)                   # right: smoothed
    _, back = smoother.update_parts(None, hands_at(80.0, 80.0), [1],
                                    2 / FPS)
    np.testing.assert_array_equal(back[0, 0, :, :2], 80)   # restarts
    assert np.all(back[0, 1, :, 0] < 80)


def test_frames_without_faces_drop_the_face_filters():
    smoother = PoseSmoother()
    smoother.update_parts(faces_at(0.0), None, [1], 0.0)
    assert smoother.update_parts(None, None, [1], 1 / FPS) == (None, None)
    faces, _ = smoother.update_parts(faces_at(60.0), None, [1], 2 / FPS)
    np.testing.assert_array_equal(faces[0, :, :2], 60)     # a new start


def test_parts_and_body_keep_their_own_filters():
    smoother = PoseSmoother()
    smoother.update(poses_at(0.0), [1], 0.0)
    smoother.update_parts(faces_at(500.0), None, [1], 0.0)
    faces, _ = smoother.update_parts(faces_at(510.0), None, [1], 1 / FPS)
    poses = smoother.update(poses_at(10.0), [1], 1 / FPS)
    assert 500 < faces[0, 0, 0] < 510 and 0 < poses[0, 0, 0] < 10


def test_no_people_with_faces_and_hands_asked_for():
    smoother = PoseSmoother()
    faces, hands = smoother.update_parts(
        np.zeros((0, FACE_POINTS, 3), np.float32),
        np.zeros((0, 2, HAND_POINTS, 3), np.float32), [], 0.0)
    assert faces.shape == (0, FACE_POINTS, 3)
    assert hands.shape == (0, 2, HAND_POINTS, 3)


def test_a_detection_is_smoothed_whole():
    smoother = PoseSmoother()

    def detection(xy):
        return Detection(poses_at(xy), np.array([0.9], np.float32),
                         np.ones((1, JOINTS), np.float32), faces_at(xy),
                         hands_at(xy, xy))
    smoother.smooth(detection(0.0), [4], 0.0)
    raw = detection(30.0)
    out = smoother.smooth(raw, [4], 1 / FPS)
    for smoothed in (out.poses[0, :, 0], out.faces[0, :, 0],
                     out.hands[0, :, :, 0]):
        assert np.all((0 < smoothed) & (smoothed < 30))
    assert out.scores is raw.scores and out.confidences is raw.confidences
    np.testing.assert_array_equal(raw.poses[0, :, 0], 30)  # not modified
