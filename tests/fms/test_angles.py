"""Tests of fms.angles: definitions on known points (image y down)."""
import numpy as np
import pytest

from fms import FmsError
from fms import angles as geo


def pts(*xy):
    return np.array(xy, dtype=float)


def test_interior_angle_and_flexion():
    a, b, c = pts([0, 0]), pts([0, 10]), pts([10, 10])
    assert geo.interior_angle(a, b, c) == pytest.approx(90.0)
    assert geo.flexion(pts([0, 0]), pts([0, 10]), pts([0, 20])) \
        == pytest.approx(0.0)


def test_inclination_from_vertical():
    hip = pts([0, 100])
    assert geo.inclination(hip, pts([0, 0])) == pytest.approx(0.0)
    assert geo.inclination(hip, pts([100, 0])) == pytest.approx(45.0)
    assert geo.inclination(hip, pts([-100, 0])) == pytest.approx(45.0)
    assert geo.inclination(hip, pts([100, 100])) == pytest.approx(90.0)


def test_femur_angle_sign():
    knee = pts([100, 100])
    # hip lower in the image (larger y) than the knee: below horizontal
    assert geo.angle_below_horizontal(pts([0, 110]), knee) > 0
    assert geo.angle_below_horizontal(pts([0, 0]), knee) \
        == pytest.approx(-45.0)
    assert geo.angle_below_horizontal(pts([200, 100]), knee) \
        == pytest.approx(0.0)


def test_projection_fraction_and_distances():
    knee, hip = pts([100, 0]), pts([0, 0])
    assert geo.projection_fraction(pts([50, -80]), knee, hip) \
        == pytest.approx(0.5)
    assert geo.projection_fraction(pts([120, 5]), knee, hip) \
        == pytest.approx(-0.2)
    assert geo.distance(pts([0, 0]), pts([30, 40])) == pytest.approx(50.0)
    assert geo.horizontal_offset(pts([5, 0]), pts([0, 50]), pts([0, 0]),
                                 pts([0, 10])) == pytest.approx(0.5)


def test_medial_offset_and_knee_deviation_signs():
    # right leg at x = 0, left hip at x = 100: medial is +x
    hip, other = pts([0, 0]), pts([100, 0])
    ankle, knee_in = pts([0, 200]), pts([20, 100])
    assert geo.medial_offset(knee_in, ankle, hip, other) \
        == pytest.approx(0.2)
    assert geo.frontal_knee_deviation(hip, knee_in, ankle, other) > 0
    assert geo.frontal_knee_deviation(hip, pts([-20, 100]), ankle,
                                      other) < 0


def test_segment_angle_and_nan_propagation():
    t = np.array([[0.0, 0.0], [np.nan, 0.0]])
    up, right = np.array([[0.0, -1.0]] * 2), np.array([[1.0, 0.0]] * 2)
    angle = geo.segment_angle(t, up, t, right)
    assert angle[0] == pytest.approx(90.0) and np.isnan(angle[1])


def test_mean_point_uses_found_joints():
    a = np.array([[0.0, 0.0], [np.nan, np.nan], [np.nan, np.nan]])
    b = np.array([[2.0, 2.0], [4.0, 4.0], [np.nan, np.nan]])
    mean = geo.mean_point(a, b)
    np.testing.assert_allclose(mean[:2], [[1, 1], [4, 4]])
    assert np.isnan(mean[2]).all()


def test_joint_by_name_and_side():
    xy = np.arange(3 * 18 * 2, dtype=float).reshape(3, 18, 2)
    np.testing.assert_array_equal(geo.joint(xy, 'Hip', 'left'), xy[:, 11])
    np.testing.assert_array_equal(geo.joint(xy, 'Neck'), xy[:, 1])
    with pytest.raises(FmsError, match='unknown joint'):
        geo.joint(xy, 'Hip', 'middle')
