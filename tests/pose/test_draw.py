"""Tests of pose.draw.draw_person_pose."""
import numpy as np
import pytest

import entity
from pose import draw

GRAY = 100
SIZE = (200, 300)          # (H, W): longer side 300 -> limb half width 2


def gray_image():
    return np.full(SIZE + (3,), GRAY, np.uint8)


def pose_with(joints):
    """(1, 18, 3) poses with the given {joint index: (x, y)} found."""
    poses = np.zeros((1, entity.NUM_JOINTS, 3), np.float32)
    for joint, (x, y) in joints.items():
        poses[0, joint] = (x, y, 2)
    return poses


def changed(before, after):
    """(H, W) bool: pixels that differ."""
    return np.any(before != after, axis=2)


@pytest.mark.parametrize('limb', entity.DRAWN_LIMBS)
def test_limb_is_drawn_blended_in_its_colour(limb):
    a, b = entity.LIMBS[limb]
    img = gray_image()
    out = draw.draw_person_pose(img, pose_with({a: (60, 100), b: (240, 100)}))
    expected = (1 - draw.LIMB_OPACITY) * GRAY + draw.LIMB_OPACITY * np.array(
        entity.JOINT_COLORS_BGR[limb])
    for x in (100, 150, 200):                      # along the limb
        np.testing.assert_allclose(out[100, x], expected, atol=1)
    assert not changed(img, out)[110:, :].any()    # thin: nothing below


@pytest.mark.parametrize('joint', [0, 1, 9, 17])
def test_found_joint_is_an_opaque_circle(joint):
    out = draw.draw_person_pose(gray_image(),
                                pose_with({joint: (50.4, 80.6)}))
    np.testing.assert_array_equal(out[81, 50], entity.JOINT_COLORS_BGR[joint])


def test_redundant_ear_shoulder_limbs_are_not_drawn():
    for limb in set(range(entity.NUM_LIMBS)) - set(entity.DRAWN_LIMBS):
        a, b = entity.LIMBS[limb]
        img = gray_image()
        out = draw.draw_person_pose(img, pose_with({a: (60, 100),
                                                    b: (240, 100)}))
        assert not changed(img, out)[:, 100:200].any()


def test_missing_joint_draws_nothing_near_origin():
    """Neck found, right shoulder missing (stored at (0, 0))."""
    img = gray_image()
    poses = pose_with({entity.JOINT_INDEX['Neck']: (150, 100)})
    out = draw.draw_person_pose(img, poses)
    ys, xs = np.nonzero(changed(img, out))
    assert len(ys) > 0                                   # the neck's circle
    radius = draw.drawing_sizes(SIZE)[1]
    anti_aliasing = 2                                    # blurred rim
    assert np.all(np.hypot(xs - 150, ys - 100) <= radius + anti_aliasing)


def test_input_is_not_modified():
    img = gray_image()
    before = img.copy()
    draw.draw_person_pose(img, pose_with({1: (60, 100), 2: (240, 100)}))
    np.testing.assert_array_equal(img, before)


@pytest.mark.parametrize('poses', [np.zeros((0, 18, 3), np.float32), []])
def test_no_people_returns_an_equal_copy(poses):
    img = gray_image()
    out = draw.draw_person_pose(img, poses)
    np.testing.assert_array_equal(out, img)
    assert not np.shares_memory(out, img)


def test_several_people_are_all_drawn():
    poses = np.concatenate([pose_with({1: (40, 50), 2: (120, 50)}),
                            pose_with({1: (40, 150), 2: (120, 150)})])
    img = gray_image()
    mask = changed(img, draw.draw_person_pose(img, poses))
    assert mask[50, 80] and mask[150, 80]


@pytest.mark.parametrize('size, expected', [
    ((480, 640), (4, 4)),
    ((1280, 960), (8, 8)),
    ((20, 30), (1, 1)),
])
def test_drawing_sizes_scale_with_the_longer_side(size, expected):
    assert draw.drawing_sizes(size) == expected


@pytest.mark.parametrize('scale', [1, 4])
def test_limb_width_follows_drawing_sizes(scale):
    size = (SIZE[0] * scale, SIZE[1] * scale)
    img = np.full(size + (3,), GRAY, np.uint8)
    poses = pose_with({1: (60 * scale, 100 * scale),
                       2: (240 * scale, 100 * scale)})
    out = draw.draw_person_pose(img, poses)
    width = changed(img, out)[:, 150 * scale].sum()
    half_width = draw.drawing_sizes(size)[0]
    assert half_width == 2 * scale
    assert 2 * half_width + 1 <= width <= 2 * half_width + 3   # + AA rim


def test_rejects_non_bgr_uint8():
    with pytest.raises(ValueError, match='uint8'):
        draw.draw_person_pose(np.zeros((4, 4), np.uint8), [])
