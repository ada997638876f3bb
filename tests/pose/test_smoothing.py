"""The One-Euro filter over tracked poses."""
import numpy as np
import pytest

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
