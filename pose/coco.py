"""Keypoints as COCO keypoint-detection results.

:func:`coco_results` gives the entries of a COCO keypoint results file, the
input of ``pycocotools.coco.COCO.loadRes`` / ``COCOeval(..., 'keypoints')``:
the 17 COCO keypoints (no neck) in COCO's order.
"""
from __future__ import annotations

import os
from typing import Dict, List, Tuple

import numpy as np

import entity
from pose.detection import check_poses
from pose.keypoints import CONFIDENCE_DECIMALS, rounded_xy

#: The 17 COCO keypoints in COCO's order (the ``keypoints`` of the COCO
#: "person" category).
COCO_KEYPOINT_NAMES: Tuple[str, ...] = (
    'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear',
    'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow',
    'left_wrist', 'right_wrist', 'left_hip', 'right_hip',
    'left_knee', 'right_knee', 'left_ankle', 'right_ankle')

#: For each of :data:`COCO_KEYPOINT_NAMES`, the OpenPose joint it is
#: (:data:`entity.JOINT_NAMES`); OpenPose's ``Neck`` has no COCO keypoint.
COCO_KEYPOINTS_FROM_JOINTS: Tuple[str, ...] = (
    'Nose', 'LEye', 'REye', 'LEar', 'REar',
    'LShoulder', 'RShoulder', 'LElbow', 'RElbow',
    'LWrist', 'RWrist', 'LHip', 'RHip',
    'LKnee', 'RKnee', 'LAnkle', 'RAnkle')

#: The same as joint indices: ``pose[COCO_JOINT_INDICES]`` is in COCO order.
COCO_JOINT_INDICES: Tuple[int, ...] = tuple(
    entity.JOINT_INDEX[name] for name in COCO_KEYPOINTS_FROM_JOINTS)

#: COCO category id of "person".
COCO_PERSON_CATEGORY_ID = 1

#: COCO visibility flags written in results: 1 for a found keypoint, 0 for a
#: missing one (whose x = y = 0).  pycocotools ignores them in results; OKS
#: uses the ground truth's visibility only.
COCO_FOUND = 1
COCO_MISSING = 0




def coco_results(poses: np.ndarray, confidences: np.ndarray,
                 scores: np.ndarray, image_id: int) -> List[Dict]:
    """COCO keypoint detection results of one image.

    Args:
        poses: (N, 18, 3) float32 as in :func:`openpose_json`.
        confidences: (N, 18) float32 (checked but not written: the COCO
            format has no per-keypoint score).
        scores: (N,) person scores, used by COCOeval to rank detections.
        image_id: the COCO id of the image.

    Returns:
        One dict per person: ``image_id``, ``category_id`` 1, ``keypoints``
        as 17 * 3 plain floats ``[x, y, v, ...]`` in
        :data:`COCO_KEYPOINT_NAMES` order (v = 1 where found; x = y = v = 0
        where missing) and ``score``.
    """
    poses, _ = check_poses(poses, confidences)
    scores = np.asarray(scores, np.float32).reshape(-1)
    if len(scores) != len(poses):
        raise ValueError(f'{len(poses)} poses but {len(scores)} scores')
    return [{'image_id': int(image_id),
             'category_id': COCO_PERSON_CATEGORY_ID,
             'keypoints': _coco_keypoints(pose),
             'score': round(float(score), CONFIDENCE_DECIMALS)}
            for pose, score in zip(poses, scores)]


def _coco_keypoints(pose: np.ndarray) -> List[float]:
    """``[x, y, v] * 17`` in COCO order from an (18, 3) OpenPose pose."""
    keypoints: List[float] = []
    for x, y, flag in pose[list(COCO_JOINT_INDICES)]:
        if flag > 0:
            keypoints.extend(rounded_xy(x, y) + (float(COCO_FOUND),))
        else:
            keypoints.extend((0.0, 0.0, float(COCO_MISSING)))
    return keypoints


def coco_image_id(path: str, index: int) -> int:
    """The COCO image id of an image file: the digits of its name
    (``000000397133.jpg`` -> 397133), else ``index``."""
    stem = os.path.splitext(os.path.basename(path))[0]
    return int(stem) if stem.isdigit() else index
