"""Tests of pose.coco: COCO keypoint results."""
import json

import numpy as np
import pytest

import entity
from pose import coco as coco_format
from tests.fixtures.pose_arrays import (numbered_confidences, numbered_poses,
                                        triple)

J = entity.NUM_JOINTS


def coco(poses=None, scores=(9.5, 3.25), image_id=42):
    poses = numbered_poses(2) if poses is None else poses
    return coco_format.coco_results(poses, numbered_confidences(len(poses)),
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
    assert len(coco_format.COCO_KEYPOINT_NAMES) == 17
    assert sorted(coco_format.COCO_JOINT_INDICES) == [
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


@pytest.mark.parametrize('name, expected', [
    ('photos/000000397133.jpg', 397133), ('photos/person.png', 5)])
def test_coco_image_id_from_the_file_name(name, expected):
    assert coco_format.coco_image_id(name, 5) == expected
