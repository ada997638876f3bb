"""Tests of pose.keypoints: OpenPose JSON and COCO results."""
import json

import numpy as np
import pytest

import entity
from pose import keypoints

J = entity.NUM_JOINTS


def numbered_poses(n=2):
    """(n, 18, 3): joint j of person p at (100 p + 10 j + 1, ... + 2)."""
    poses = np.zeros((n, J, 3), np.float32)
    for p in range(n):
        for j in range(J):
            poses[p, j] = (100 * p + 10 * j + 1, 100 * p + 10 * j + 2, 2)
    return poses


def numbered_confidences(n=2):
    return (np.arange(n * J, dtype=np.float32).reshape(n, J) + 1) / 100


def triple(values, k):
    return values[3 * k:3 * k + 3]


# ---------------------------------------------------------------------------
# openpose_json
# ---------------------------------------------------------------------------


def test_openpose_layout():
    result = keypoints.openpose_json(numbered_poses(2),
                                     numbered_confidences(2))
    assert result['version'] == 1.3
    assert len(result['people']) == 2
    person = result['people'][0]
    assert set(person) == {
        'person_id', 'pose_keypoints_2d', 'face_keypoints_2d',
        'hand_left_keypoints_2d', 'hand_right_keypoints_2d',
        'pose_keypoints_3d', 'face_keypoints_3d', 'hand_left_keypoints_3d',
        'hand_right_keypoints_3d'}
    assert person['person_id'] == [-1]
    assert len(person['pose_keypoints_2d']) == 18 * 3
    assert all(person[k] == [] for k in person
               if k not in ('person_id', 'pose_keypoints_2d'))


def test_openpose_values_in_joint_order():
    result = keypoints.openpose_json(numbered_poses(2),
                                     numbered_confidences(2))
    second = result['people'][1]['pose_keypoints_2d']
    neck = entity.JOINT_INDEX['Neck']
    assert triple(second, neck) == [111.0, 112.0, 0.2]


def test_openpose_missing_joint_is_all_zero():
    poses = numbered_poses(1)
    poses[0, 4] = (33.0, 44.0, 0)          # not found: coordinates ignored
    result = keypoints.openpose_json(poses, numbered_confidences(1))
    values = result['people'][0]['pose_keypoints_2d']
    assert triple(values, 4) == [0.0, 0.0, 0.0]
    assert triple(values, 5) != [0.0, 0.0, 0.0]


def test_openpose_values_are_rounded_plain_floats():
    poses = numbered_poses(1)
    poses[0, 0, :2] = (12.345678, 0.0004)
    confidences = numbered_confidences(1)
    confidences[0, 0] = 0.123456
    result = keypoints.openpose_json(poses, confidences)
    values = result['people'][0]['pose_keypoints_2d']
    assert triple(values, 0) == [12.346, 0.0, 0.1235]
    assert all(type(v) is float for v in values)
    assert json.loads(json.dumps(result)) == result


def test_openpose_no_people():
    result = keypoints.openpose_json(np.zeros((0, J, 3), np.float32),
                                     np.zeros((0, J), np.float32))
    assert result == {'version': 1.3, 'people': []}


def test_openpose_rejects_mismatched_confidences():
    with pytest.raises(ValueError, match='confidence'):
        keypoints.openpose_json(numbered_poses(2), numbered_confidences(1))


# ---------------------------------------------------------------------------
# openpose_json: face and hands
# ---------------------------------------------------------------------------

F, H = entity.NUM_FACE_KEYPOINTS, entity.NUM_HAND_KEYPOINTS
HAND_FIELDS = {0: 'hand_left_keypoints_2d', 1: 'hand_right_keypoints_2d'}


def numbered_parts(shape, start):
    """(..., 3) float32 keypoints numbered from ``start`` (x = start + 3 i,
    y = x + 1, confidence 0.5): every value is distinct."""
    count = int(np.prod(shape))
    x = start + 3 * np.arange(count, dtype=np.float32)
    return np.stack([x, x + 1, np.full(count, 0.5, np.float32)],
                    axis=1).reshape(shape + (3,))


def with_parts(n=2, faces=True, hands=True):
    """``openpose_json`` of n people with numbered faces and/or hands."""
    return keypoints.openpose_json(
        numbered_poses(n), numbered_confidences(n),
        faces=numbered_parts((n, F), 1000) if faces else None,
        hands=numbered_parts((n, 2, H), 5000) if hands else None)


@pytest.mark.parametrize('field, length', [
    ('face_keypoints_2d', 70 * 3),
    ('hand_left_keypoints_2d', 21 * 3),
    ('hand_right_keypoints_2d', 21 * 3),
])
def test_openpose_part_lengths_and_plain_floats(field, length):
    result = with_parts()
    for person in result['people']:
        assert len(person[field]) == length
        assert all(type(v) is float for v in person[field])
    assert json.loads(json.dumps(result)) == result


def test_openpose_parts_leave_the_rest_unchanged():
    result, body_only = with_parts(), with_parts(faces=False, hands=False)
    for person, plain in zip(result['people'], body_only['people']):
        assert set(person) == set(plain)
        assert person['pose_keypoints_2d'] == plain['pose_keypoints_2d']
        assert all(person[k] == [] for k in person if k.endswith('_3d'))


@pytest.mark.parametrize('p', [0, 1])
def test_openpose_face_values_in_keypoint_order(p):
    values = with_parts()['people'][p]['face_keypoints_2d']
    faces = numbered_parts((2, F), 1000)
    for k in (0, 33, 69):
        assert triple(values, k) == [float(faces[p, k, 0]),
                                     float(faces[p, k, 1]), 0.5]


@pytest.mark.parametrize('p', [0, 1])
@pytest.mark.parametrize('side', [0, 1])
def test_openpose_hands_left_then_right(p, side):
    values = with_parts()['people'][p][HAND_FIELDS[side]]
    hands = numbered_parts((2, 2, H), 5000)
    for k in (0, 10, 20):
        assert triple(values, k) == [float(hands[p, side, k, 0]),
                                     float(hands[p, side, k, 1]), 0.5]


@pytest.mark.parametrize('faces, hands, filled', [
    (True, False, {'face_keypoints_2d'}),
    (False, True, set(HAND_FIELDS.values())),
])
def test_openpose_only_given_parts_are_filled(faces, hands, filled):
    person = with_parts(faces=faces, hands=hands)['people'][0]
    for field in ('face_keypoints_2d', *HAND_FIELDS.values()):
        assert (person[field] != []) == (field in filled)


def test_openpose_part_not_found_is_all_zero():
    """A missing point (confidence 0, stray coordinates) and a person
    without a right hand (all zeros) are written as zeros."""
    faces = numbered_parts((1, F), 1000)
    faces[0, 7, 2] = 0.0
    hands = numbered_parts((1, 2, H), 5000)
    hands[0, 1] = 0.0
    person = keypoints.openpose_json(numbered_poses(1),
                                     numbered_confidences(1),
                                     faces, hands)['people'][0]
    assert triple(person['face_keypoints_2d'], 7) == [0.0, 0.0, 0.0]
    assert triple(person['face_keypoints_2d'], 8) != [0.0, 0.0, 0.0]
    assert person['hand_right_keypoints_2d'] == [0.0] * (21 * 3)
    assert 0.0 not in person['hand_left_keypoints_2d']


def test_openpose_part_values_are_rounded():
    faces = np.zeros((1, F, 3), np.float32)
    faces[0, 0] = (12.345678, 0.0004, 0.123456)
    person = keypoints.openpose_json(numbered_poses(1),
                                     numbered_confidences(1),
                                     faces=faces)['people'][0]
    assert triple(person['face_keypoints_2d'], 0) == [12.346, 0.0, 0.1235]


@pytest.mark.parametrize('faces, hands', [
    (np.zeros((1, F, 3)), None),              # one face for two people
    (None, np.zeros((2, H, 3))),              # hands without the side axis
    (None, np.zeros((2, 2, H, 2))),           # no confidence column
])
def test_openpose_rejects_mismatched_parts(faces, hands):
    with pytest.raises(ValueError, match='keypoints'):
        keypoints.openpose_json(numbered_poses(2), numbered_confidences(2),
                                faces, hands)


def test_openpose_parts_without_people():
    result = keypoints.openpose_json(
        np.zeros((0, J, 3), np.float32), np.zeros((0, J), np.float32),
        np.zeros((0, F, 3), np.float32), np.zeros((0, 2, H, 3), np.float32))
    assert result == {'version': 1.3, 'people': []}


# ---------------------------------------------------------------------------
# coco_results
# ---------------------------------------------------------------------------


def coco(poses=None, scores=(9.5, 3.25), image_id=42):
    poses = numbered_poses(2) if poses is None else poses
    return keypoints.coco_results(poses, numbered_confidences(len(poses)),
                                  np.array(scores, np.float32), image_id)


@pytest.mark.parametrize('coco_index, joint_index', [
    (0, 0),    # nose      <- Nose
    (1, 15),   # left_eye  <- LEye
    (2, 14),   # right_eye <- REye
    (3, 17),   # left_ear  <- LEar
    (4, 16),   # right_ear <- REar
    (5, 5),    # left_shoulder  <- LShoulder
    (6, 2),    # right_shoulder <- RShoulder
    (7, 6),    # left_elbow  <- LElbow
    (8, 3),    # right_elbow <- RElbow
    (9, 7),    # left_wrist  <- LWrist
    (10, 4),   # right_wrist <- RWrist
    (11, 11),  # left_hip  <- LHip
    (12, 8),   # right_hip <- RHip
    (13, 12),  # left_knee  <- LKnee
    (14, 9),   # right_knee <- RKnee
    (15, 13),  # left_ankle <- LAnkle
    (16, 10),  # right_ankle <- RAnkle
])
def test_coco_keypoint_comes_from_openpose_joint(coco_index, joint_index):
    values = coco()[0]['keypoints']
    assert triple(values, coco_index) == [10 * joint_index + 1,
                                          10 * joint_index + 2, 1]


def test_coco_mapping_covers_every_joint_but_the_neck():
    assert len(keypoints.COCO_KEYPOINT_NAMES) == 17
    assert sorted(keypoints.COCO_JOINT_INDICES) == [
        j for j in range(J) if j != entity.JOINT_INDEX['Neck']]


def test_coco_result_fields_and_neck_dropped():
    results = coco()
    assert len(results) == 2
    first = results[0]
    assert set(first) == {'image_id', 'category_id', 'keypoints', 'score'}
    assert first['image_id'] == 42 and first['category_id'] == 1
    assert first['score'] == 9.5 and results[1]['score'] == 3.25
    assert len(first['keypoints']) == 17 * 3
    neck_x = 10 * entity.JOINT_INDEX['Neck'] + 1
    assert neck_x not in first['keypoints'][0::3]
    assert json.loads(json.dumps(results)) == results


def test_coco_missing_keypoint_is_zero_with_v_0():
    poses = numbered_poses(1)
    poses[0, entity.JOINT_INDEX['LShoulder']] = (5.0, 6.0, 0)
    values = coco(poses, scores=(1.0,))[0]['keypoints']
    assert triple(values, 5) == [0.0, 0.0, 0.0]
    assert values[2::3].count(1.0) == 16


def test_coco_no_people():
    assert coco(np.zeros((0, J, 3), np.float32), scores=()) == []


def test_coco_rejects_mismatched_scores():
    with pytest.raises(ValueError, match='scores'):
        coco(scores=(1.0,))
