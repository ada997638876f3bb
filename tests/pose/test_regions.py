"""Tests of pose.regions: face and hand boxes from body poses.

Expected boxes are worked out by hand from OpenPose's ratios (face: 2 x
neck-nose, 3 x eye distance, 2 x ear distance, 0.85 x profile sum; hand:
centre 0.33 forearm beyond the wrist, side 1.5 x max(forearm, 0.9 x upper
arm)) and joint thresholds (a joint is used when its score is > 0.25 for the
face, > 0.03 for the hands).
"""
import math

import numpy as np
import pytest

import entity
from pose import regions

J = entity.NUM_JOINTS

# A frontal face around x = 500 (the person's left is the image's right).
FRONTAL = {'Nose': (500, 200), 'Neck': (500, 260),
           'LEye': (520, 190), 'REye': (480, 190),
           'LEar': (540, 200), 'REar': (460, 200)}


def person(joints, confidence=0.9):
    """``(poses (1, 18, 3), confidences (1, 18))`` with the given
    ``{joint name: (x, y)}`` found; every other joint missing at (0, 0)."""
    poses = np.zeros((1, J, 3), np.float32)
    confidences = np.zeros((1, J), np.float32)
    for name, (x, y) in joints.items():
        poses[0, entity.JOINT_INDEX[name]] = (x, y, entity.JOINT_FOUND)
        confidences[0, entity.JOINT_INDEX[name]] = confidence
    return poses, confidences


def only(*names, source=FRONTAL):
    """The joints ``names`` of ``source``."""
    return {name: source[name] for name in names}


def first(boxes_and_valid):
    """``(box, valid)`` of the first person of a ``(boxes, valid)`` pair."""
    boxes, valid = boxes_and_valid
    return boxes[0], valid[0]


def face_box(joints):
    """``(box (3,), valid)`` of one person's face."""
    return face_box_of(*person(joints))


def face_box_of(poses, confidences):
    """``(box (3,), valid)`` of the first person's face."""
    return first(regions.face_boxes(poses, confidences))


def square(cx, cy, size):
    """``[x_left, y_top, size]`` of the square centred at (cx, cy)."""
    return [cx - size / 2, cy - size / 2, size]


def assert_box(box_and_valid, cx, cy, size):
    box, valid = box_and_valid
    assert valid
    np.testing.assert_allclose(box, square(cx, cy, size), rtol=1e-5)


def assert_no_box(box_and_valid):
    box, valid = box_and_valid
    assert not valid and np.isnan(box).all()


# ---------------------------------------------------------------------------
# Faces
# ---------------------------------------------------------------------------


def test_frontal_face_averages_the_three_cues():
    # cues: neck-nose  centre (500, 230), side 2 * 60
    #       eyes       centre (500, 190), side 3 * 40
    #       ears       centre (500, 200), side 2 * 80
    assert_box(face_box(FRONTAL), 500, (230 + 190 + 200) / 3,
               (2 * 60 + 3 * 40 + 2 * 80) / 3)


@pytest.mark.parametrize('eye, ear', [('LEye', 'LEar'), ('REye', 'REar')])
def test_profile_uses_nose_eye_and_ear(eye, ear):
    joints = {'Nose': (500, 200), 'Neck': (500, 260),
              eye: (490, 190), ear: (530, 195)}
    size = 0.85 * (math.hypot(10, 10) + math.hypot(30, 5) + 60)
    assert_box(face_box(joints), (500 + 490 + 530) / 3,
               (200 + 190 + 195) / 3, size)


def test_one_eye_and_both_ears_is_not_a_profile():
    box = face_box(only('Nose', 'Neck', 'LEye', 'LEar', 'REar'))
    # neck-nose: (500, 230), 2 * 60; ears: (500, 200), 2 * 80
    assert_box(box, 500, (230 + 200) / 2, (2 * 60 + 2 * 80) / 2)


def test_neck_and_nose_only():
    assert_box(face_box(only('Nose', 'Neck')), 500, 230, 2 * 60)


@pytest.mark.parametrize('names', [
    (), ('Nose',), ('Neck',), ('LEye',), ('LEar', 'REye'),
    ('Nose', 'LEye', 'LEar'),                  # a profile needs the neck
    ('LShoulder', 'RShoulder', 'LWrist'),      # no face joint at all
])
def test_no_face_cue_gives_no_box(names):
    joints = {name: (500, 200 + 10 * i) for i, name in enumerate(names)}
    assert_no_box(face_box(joints))


def test_zero_size_face_gives_no_box():
    assert_no_box(face_box({'Nose': (500, 200), 'Neck': (500, 200)}))


def test_openpose_joint_thresholds():
    params = entity.DEFAULT_PART_PARAMS
    assert (params.face_joint_threshold, params.hand_joint_threshold) == (
        0.25, 0.03)


@pytest.mark.parametrize('confidence, eyes_used', [
    (0.05, False), (0.2, False), (0.25, False),      # at the threshold: not
    (np.nextafter(np.float32(0.25), np.float32(1)), True), (0.26, True)])
def test_face_uses_joints_above_its_threshold_only(confidence, eyes_used):
    poses, confidences = person(only('Nose', 'Neck', 'LEye', 'REye'))
    confidences[0, entity.JOINT_INDEX['REye']] = confidence
    box = first(regions.face_boxes(poses, confidences))
    if eyes_used:
        assert_box(box, 500, (230 + 190) / 2, (2 * 60 + 3 * 40) / 2)
    else:
        assert_box(box, 500, 230, 2 * 60)


def test_thresholds_come_from_params():
    poses, confidences = person(only('Nose', 'Neck'), confidence=0.3)
    strict = entity.PartParams(face_joint_threshold=0.5)
    assert_no_box(first(regions.face_boxes(poses, confidences, strict)))
    poses, confidences = person(
        arm('left', (400, 100), (420, 200), (430, 280)), confidence=0.3)
    assert first(regions.hand_boxes(poses, confidences))[1][LEFT]
    strict = entity.PartParams(hand_joint_threshold=0.5)
    assert not first(regions.hand_boxes(poses, confidences, strict))[1][LEFT]


def test_missing_joints_at_the_origin_never_pull_the_box():
    """Left ear missing (stored at (0, 0), even with a stray confidence):
    the box stays around the person at x ~ 500."""
    poses, confidences = person(only('Nose', 'Neck', 'LEye', 'REye', 'REar'))
    lear = entity.JOINT_INDEX['LEar']
    poses[0, lear] = (0, 0, entity.JOINT_MISSING)
    confidences[0, lear] = 0.9
    box = first(regions.face_boxes(poses, confidences))
    # neck-nose and eyes only (both eyes: not a profile; one ear: no cue)
    assert_box(box, 500, (230 + 190) / 2, (2 * 60 + 3 * 40) / 2)


def test_people_are_independent():
    joint_sets = [FRONTAL, {}, only('Nose', 'Neck'),
                  {name: (x + 1000, y) for name, (x, y) in FRONTAL.items()}]
    people = [person(joints) for joints in joint_sets]
    boxes, valid = regions.face_boxes(
        np.concatenate([p for p, _ in people]),
        np.concatenate([c for _, c in people]))
    expected = np.stack([regions.face_boxes(*p)[0][0] for p in people])
    np.testing.assert_array_equal(boxes, expected)
    np.testing.assert_array_equal(valid, [True, False, True, True])
    np.testing.assert_allclose(boxes[3, :2] - boxes[0, :2], [1000, 0])


# ---------------------------------------------------------------------------
# Hands
# ---------------------------------------------------------------------------

ARM_JOINTS = {'left': ('LShoulder', 'LElbow', 'LWrist'),
              'right': ('RShoulder', 'RElbow', 'RWrist')}
LEFT, RIGHT = entity.LEFT_HAND, entity.RIGHT_HAND
SIDE_INDEX = {'left': LEFT, 'right': RIGHT}


def arm(side, shoulder, elbow, wrist):
    """``{joint name: (x, y)}`` of one arm."""
    return dict(zip(ARM_JOINTS[side], (shoulder, elbow, wrist)))


def hand_boxes(joints):
    """``(boxes (2, 3), valid (2,))`` of one person's (left, right) hands."""
    return first(regions.hand_boxes(*person(joints)))


def hand(boxes_and_valid, side):
    """``(box, valid)`` of one hand of :func:`hand_boxes`' result."""
    boxes, valid = boxes_and_valid
    return boxes[side], valid[side]


@pytest.mark.parametrize('side', ['left', 'right'])
@pytest.mark.parametrize('shoulder, elbow, wrist, cx, cy, size', [
    # forearm (60, 80) -> 100 dominates 0.9 * 50: side 1.5 * 100
    ((300, 100), (300, 150), (360, 230),
     360 + 0.33 * 60, 230 + 0.33 * 80, 1.5 * 100),
    # upper arm dominates: 0.9 * 100 > forearm 80: side 1.5 * 90
    ((300, 100), (300, 200), (300, 280), 300, 280 + 0.33 * 80, 1.5 * 90),
])
def test_hand_box(side, shoulder, elbow, wrist, cx, cy, size):
    boxes = hand_boxes(arm(side, shoulder, elbow, wrist))
    assert_box(hand(boxes, SIDE_INDEX[side]), cx, cy, size)
    assert_no_box(hand(boxes, 1 - SIDE_INDEX[side]))


def test_left_and_right_order():
    joints = {**arm('left', (400, 100), (420, 200), (430, 280)),
              **arm('right', (200, 100), (180, 200), (170, 280))}
    boxes, valid = hand_boxes(joints)
    assert valid.all()
    assert (LEFT, RIGHT) == (0, 1)      # OpenPose's hand_left, hand_right
    centre_x = boxes[:, 0] + boxes[:, 2] / 2
    assert centre_x[LEFT] > 400 and centre_x[RIGHT] < 200


@pytest.mark.parametrize('confidence, used', [
    (0.01, False), (0.03, False),                   # at the threshold: not
    (np.nextafter(np.float32(0.03), np.float32(1)), True),
    (0.2, True)])                       # too low for a face, enough for hands
def test_hands_use_joints_above_their_threshold_only(confidence, used):
    joints = {**arm('left', (400, 100), (420, 200), (430, 280)),
              **arm('right', (200, 100), (180, 200), (170, 280))}
    poses, confidences = person(joints)
    confidences[0, entity.JOINT_INDEX['LElbow']] = confidence
    _, valid = first(regions.hand_boxes(poses, confidences))
    assert valid.tolist() == [used, True]


def test_a_joint_of_0_2_serves_the_hands_but_not_the_face():
    joints = {**only('Nose', 'Neck'),
              **arm('right', (200, 100), (180, 200), (170, 280))}
    poses, confidences = person(joints, confidence=0.2)
    assert_no_box(face_box_of(poses, confidences))
    assert first(regions.hand_boxes(poses, confidences))[1][RIGHT]


@pytest.mark.parametrize('lost', ['shoulder', 'elbow', 'wrist'])
@pytest.mark.parametrize('how', ['missing', 'low confidence'])
@pytest.mark.parametrize('side', ['left', 'right'])
def test_arm_joint_lost_gives_no_box_for_that_side_only(lost, how, side):
    joints = {**arm('left', (400, 100), (420, 200), (430, 280)),
              **arm('right', (200, 100), (180, 200), (170, 280))}
    poses, confidences = person(joints)
    joint = entity.JOINT_INDEX[
        ARM_JOINTS[side][('shoulder', 'elbow', 'wrist').index(lost)]]
    if how == 'missing':
        poses[0, joint] = (0, 0, entity.JOINT_MISSING)
    else:
        confidences[0, joint] = 0.01
    _, valid = first(regions.hand_boxes(poses, confidences))
    assert valid.tolist() == [side == 'right', side == 'left']


def test_hand_box_at_the_border_extends_outside_the_image():
    right = hand(hand_boxes(arm('right', (60, 100), (30, 200), (10, 280))),
                 RIGHT)
    assert_box(right, 10 - 0.33 * 20, 280 + 0.33 * 80,
               1.5 * 0.9 * math.hypot(30, 100))
    x_left, _, size = right[0]
    assert x_left < 0 and size > 0


def test_coincident_arm_joints_give_no_box():
    boxes = hand_boxes(arm('left', (50, 50), (50, 50), (50, 50)))
    assert_no_box(hand(boxes, LEFT))


# ---------------------------------------------------------------------------
# Shapes
# ---------------------------------------------------------------------------


def test_no_people():
    poses, confidences = np.zeros((0, J, 3)), np.zeros((0, J))
    faces, face_valid = regions.face_boxes(poses, confidences)
    hands, hand_valid = regions.hand_boxes(poses, confidences)
    assert faces.shape == (0, 3) and faces.dtype == np.float32
    assert hands.shape == (0, 2, 3) and hands.dtype == np.float32
    assert face_valid.shape == (0,) and face_valid.dtype == bool
    assert hand_valid.shape == (0, 2) and hand_valid.dtype == bool


@pytest.mark.parametrize('boxes_of', [regions.face_boxes, regions.hand_boxes])
def test_rejects_mismatched_confidences(boxes_of):
    poses, _ = person(FRONTAL)
    with pytest.raises(ValueError, match='confidence'):
        boxes_of(poses, np.zeros((2, J), np.float32))
