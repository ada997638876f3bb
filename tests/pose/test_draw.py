"""Tests of pose.draw: bodies, faces and hands."""
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


# ---------------------------------------------------------------------------
# Face and hands
# ---------------------------------------------------------------------------

F, H = entity.NUM_FACE_KEYPOINTS, entity.NUM_HAND_KEYPOINTS
ANTI_ALIASING = 2                                        # blurred rim
#: Thin anti-aliased lines are blended a little with the background even on
#: their axis; colours of different fingers differ by 255 somewhere.
LINE_COLOUR_TOLERANCE = 32


def face_with(points):
    """(1, 70, 3) face keypoints with {index: (x, y)} found (confidence
    0.8); every other keypoint all zeros."""
    faces = np.zeros((1, F, 3), np.float32)
    for k, (x, y) in points.items():
        faces[0, k] = (x, y, 0.8)
    return faces


def hands_with(left=None, right=None):
    """(1, 2, 21, 3) hand keypoints with {index: (x, y)} found per hand."""
    hands = np.zeros((1, 2, H, 3), np.float32)
    for side, points in enumerate((left or {}, right or {})):
        for k, (x, y) in points.items():
            hands[0, side, k] = (x, y, 0.8)
    return hands


def finger_along(finger, y, x0=40, step=40):
    """{index: (x, y)} of the points of one finger chain on a row."""
    return {k: (x0 + step * i, y)
            for i, k in enumerate(entity.HAND_FINGERS[finger])}


def assert_line_colour(pixel, colour):
    np.testing.assert_allclose(pixel, colour, atol=LINE_COLOUR_TOLERANCE)


def assert_changes_only_near(img, out, points, radius):
    """Every changed pixel lies within ``radius`` (+ the rim) of a point."""
    ys, xs = np.nonzero(changed(img, out))
    assert len(ys) > 0
    distances = np.min([np.hypot(xs - x, ys - y) for x, y in points], axis=0)
    assert np.all(distances <= radius + ANTI_ALIASING)


@pytest.mark.parametrize('size, expected', [
    ((480, 640), (2, 2, 3)),
    ((1280, 960), (4, 4, 6)),
    ((20, 30), (1, 1, 1)),
])
def test_part_drawing_sizes_scale_with_the_longer_side(size, expected):
    assert draw.part_drawing_sizes(size) == expected


@pytest.mark.parametrize('k', [0, 36, 69])
def test_found_face_point_is_a_circle_in_the_face_colour(k):
    out = draw.draw_face(gray_image(), face_with({k: (50.4, 80.6)}))
    np.testing.assert_array_equal(out[81, 50], entity.FACE_COLOR_BGR)


def test_face_draws_only_around_found_points():
    """Two found points; the 68 others are zeros (missing) and must not
    appear at the origin; a point with confidence 0 is not drawn either."""
    faces = face_with({3: (100, 60), 40: (200, 150)})
    faces[0, 5] = (150, 100, 0.0)                # coordinates, no confidence
    img = gray_image()
    out = draw.draw_face(img, faces)
    radius = draw.part_drawing_sizes(SIZE)[0]
    assert_changes_only_near(img, out, [(100, 60), (200, 150)], radius)


@pytest.mark.parametrize('finger', range(len(entity.HAND_FINGERS)))
@pytest.mark.parametrize('side', [0, 1])
def test_hand_bones_are_drawn_in_their_finger_colour(finger, side):
    points = finger_along(finger, y=100)
    hands = hands_with(**{('left', 'right')[side]: points})
    out = draw.draw_hands(gray_image(), hands)
    for x in (60, 100, 140, 180):                 # bone middles
        assert_line_colour(out[100, x], entity.FINGER_COLORS_BGR[finger])


@pytest.mark.parametrize('k', [0, 4, 8, 20])
def test_found_hand_point_is_a_circle_in_its_finger_colour(k):
    out = draw.draw_hands(gray_image(), hands_with(right={k: (50.4, 80.6)}))
    np.testing.assert_array_equal(out[81, 50], entity.HAND_JOINT_COLORS_BGR[k])
    assert entity.HAND_JOINT_COLORS_BGR[k] == entity.FINGER_COLORS_BGR[
        max(0, (k - 1) // 4)]


def test_bone_needs_both_points():
    """Thumb with point 1 missing: no bone wrist-1 nor 1-2, and nothing
    towards the origin; bones 2-3 and 3-4 are drawn."""
    points = finger_along(0, y=100)
    del points[1]
    img = gray_image()
    out = draw.draw_hands(img, hands_with(left=points))
    mask = changed(img, out)
    assert not mask[100, 50:110].any()               # wrist (40)..2 (120)
    assert mask[100, 140] and mask[100, 180]         # 2-3, 3-4
    assert not mask[:90].any() and not mask[110:].any()


def test_both_hands_of_every_person_are_drawn():
    hands = np.concatenate([
        hands_with(left=finger_along(1, y=30), right=finger_along(2, y=70)),
        hands_with(left=finger_along(3, y=110), right=finger_along(4, y=150)),
    ])
    out = draw.draw_hands(gray_image(), hands)
    for finger, y in zip((1, 2, 3, 4), (30, 70, 110, 150)):
        assert_line_colour(out[y, 60], entity.FINGER_COLORS_BGR[finger])


def test_missing_hand_draws_nothing():
    img = gray_image()
    np.testing.assert_array_equal(draw.draw_hands(img, hands_with()), img)


@pytest.mark.parametrize('call', [
    lambda img: draw.draw_face(img, face_with({1: (60, 60)})),
    lambda img: draw.draw_hands(img, hands_with(left=finger_along(0, 100))),
    lambda img: draw.draw_people(img, pose_with({1: (60, 100), 2: (240, 100)}),
                                 face_with({1: (60, 60)}),
                                 hands_with(left=finger_along(0, 150))),
])
def test_part_drawing_returns_a_copy(call):
    img = gray_image()
    before = img.copy()
    out = call(img)
    np.testing.assert_array_equal(img, before)
    assert not np.shares_memory(out, img) and changed(img, out).any()


@pytest.mark.parametrize('empty', [np.zeros((0, 70, 3)), []])
def test_no_faces_returns_an_equal_copy(empty):
    img = gray_image()
    np.testing.assert_array_equal(draw.draw_face(img, empty), img)


def test_draw_people_draws_body_face_and_hands():
    poses = pose_with({1: (60, 100), 2: (240, 100)})
    faces = face_with({10: (150, 40)})
    hands = hands_with(right=finger_along(2, y=160))
    img = gray_image()
    out = draw.draw_people(img, poses, faces, hands)
    np.testing.assert_array_equal(out, draw.draw_hands(
        draw.draw_face(draw.draw_person_pose(img, poses), faces), hands))
    np.testing.assert_array_equal(out[40, 150], entity.FACE_COLOR_BGR)
    assert_line_colour(out[160, 60], entity.FINGER_COLORS_BGR[2])
    assert changed(img, out)[100, 150]


def test_draw_people_without_parts_is_the_body_drawing():
    poses = pose_with({1: (60, 100), 2: (240, 100)})
    img = gray_image()
    np.testing.assert_array_equal(draw.draw_people(img, poses),
                                  draw.draw_person_pose(img, poses))


# ---------------------------------------------------------------------------
# Any coordinates (issue case 12): never an overflow, nothing drawn wrongly
# ---------------------------------------------------------------------------

#: Values that made OpenCV calls overflow or fail (1e308 and infinity:
#: OverflowError in round; 1e30 and 3e9: not a C int) and the reader's
#: bound; in float64, as the key-frame image passes its keypoints.
ANY_VALUES = [1e308, -1e308, np.inf, -np.inf, np.nan, 1e30, -3e9, 2.0 ** 31,
              1e6]


def far_pose(value):
    """(1, 18, 3) float64: a limb from the image to (value, 100), the other
    joints at (150, value) or in the image."""
    poses = np.zeros((1, entity.NUM_JOINTS, 3), np.float64)
    poses[0, :, :2] = (150.0, value)
    poses[0, :, 2] = 2
    a, b = entity.LIMBS[entity.DRAWN_LIMBS[0]]
    poses[0, a, :2], poses[0, b, :2] = (60.0, 100.0), (value, 100.0)
    return poses


@pytest.mark.parametrize('value', ANY_VALUES)
def test_any_coordinates_are_drawn_without_error(value):
    faces = np.full((1, F, 3), value)
    faces[..., 2] = 0.8
    hands = np.full((1, 2, H, 3), value)
    hands[..., 0], hands[..., 2] = 50.0, 0.8       # bones along x = 50
    img = gray_image()
    out = draw.draw_people(img, far_pose(value), faces, hands)
    assert out.shape == img.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(img, gray_image())


@pytest.mark.parametrize('value', [np.nan, np.inf, -np.inf, 1e9, -1e30])
def test_joints_and_points_not_finite_or_far_away_are_not_drawn(value):
    img = gray_image()
    for point in ((value, 50.0), (50.0, value)):
        poses = np.zeros((1, entity.NUM_JOINTS, 3))
        poses[0, 0] = (*point, 2)
        faces = np.zeros((1, F, 3))
        faces[0, 0] = (*point, 0.8)
        hands = np.zeros((1, 2, H, 3))
        hands[0, 0, 0] = (*point, 0.8)
        out = draw.draw_people(img, poses, faces, hands)
        np.testing.assert_array_equal(out, img)


@pytest.mark.parametrize('far', [(1e12, 100.0), (1e308, 100.0),
                                 (-1e12, 100.0)])
def test_a_limb_to_a_far_joint_is_drawn_along_its_line(far):
    limb = entity.DRAWN_LIMBS[0]
    a, b = entity.LIMBS[limb]
    img = gray_image()
    poses = np.zeros((1, entity.NUM_JOINTS, 3))          # float64
    poses[0, a] = (240.0 if far[0] < 0 else 60.0, 100.0, 2)
    poses[0, b] = (*far, 2)
    out = draw.draw_person_pose(img, poses)
    expected = (1 - draw.LIMB_OPACITY) * GRAY + draw.LIMB_OPACITY * np.array(
        entity.JOINT_COLORS_BGR[limb])
    xs = range(100, 300, 40) if far[0] > 0 else range(0, 200, 40)
    for x in xs:
        np.testing.assert_allclose(out[100, x], expected, atol=1, err_msg=x)
    assert not changed(img, out)[110:, :].any()


def test_a_diagonal_limb_and_bone_keep_their_direction():
    limb = entity.DRAWN_LIMBS[0]
    a, b = entity.LIMBS[limb]
    img = gray_image()
    out = draw.draw_person_pose(img, pose_with(
        {a: (20.0, 10.0), b: (20.0 + 1e12, 10.0 + 1e12)}))
    on_line = [(20 + d, 10 + d) for d in range(20, 180, 30)]
    assert all(changed(img, out)[y, x] for x, y in on_line)
    assert not changed(img, out)[150:, :60].any()        # below the line
    hand = np.zeros((1, 2, H, 3))
    hand[0, 0, 0], hand[0, 0, 1] = (20.0, 10.0, 0.8), (20 + 1e15, 10 + 1e15,
                                                        0.8)
    out = draw.draw_hands(img, hand)
    assert all(changed(img, out)[y, x] for x, y in on_line)
    assert not changed(img, out)[150:, :60].any()


def test_clip_segment():
    size = SIZE                                    # (200, 300): margin 300
    inside = ((10.5, 20.25), (290.0, 190.0))
    assert draw.clip_segment(*inside, size) == inside
    assert draw.clip_segment((-1e12, 100.0), (1e12, 100.0), size) == (
        (-300.0, 100.0), (600.0, 100.0))
    assert draw.clip_segment((0, -1e12), (0, 1e12), size) == (
        (0.0, -300.0), (0.0, 500.0))
    assert draw.clip_segment((700.0, 0.0), (900.0, 50.0), size) is None
    assert draw.clip_segment((np.nan, 0.0), (10.0, 10.0), size) is None
    assert draw.clip_segment((np.inf, 0.0), (10.0, 10.0), size) is None
    (x0, y0), (x1, y1) = draw.clip_segment((-1e308, 5.0), (1.7e308, 5.0),
                                           size)
    assert -300 <= x0 <= x1 <= 600 and y0 == y1 == 5.0


def test_drawing_area_and_drawable():
    assert draw.drawing_area((200, 300)) == ((-300, -300), (600, 500))
    points = np.array([[0, 0], [-300, 500], [601, 0], [np.nan, 0],
                       [0, np.inf]])
    assert draw.drawable(points, (200, 300)).tolist() == [
        True, True, False, False, False]
