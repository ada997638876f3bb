"""Keypoints in the file formats of OpenPose and of COCO evaluation.

* :func:`openpose_json`: OpenPose 1.3+ ``--write_json`` layout, one file per
  image, joints in OpenPose's COCO-18 order (:data:`entity.JOINT_NAMES`).
* :func:`coco_results`: entries of a COCO keypoint results file, the input
  of ``pycocotools.coco.COCO.loadRes`` / ``COCOeval(..., 'keypoints')``:
  the 17 COCO keypoints (no neck) in COCO's order.
"""
from __future__ import annotations

from typing import Dict, List, Tuple

import numpy as np

import entity

# ---------------------------------------------------------------------------
# Constants (candidates for entity.py)
# ---------------------------------------------------------------------------

#: ``version`` field of OpenPose keypoint files with the layout written here.
OPENPOSE_JSON_VERSION = 1.3

#: ``person_id`` of every person: OpenPose writes ``[-1]`` without tracking.
OPENPOSE_UNTRACKED_PERSON_ID = -1

#: Keypoint lists of the OpenPose file that this body-only tool leaves empty.
OPENPOSE_EMPTY_KEYPOINT_FIELDS: Tuple[str, ...] = (
    'face_keypoints_2d', 'hand_left_keypoints_2d', 'hand_right_keypoints_2d',
    'pose_keypoints_3d', 'face_keypoints_3d', 'hand_left_keypoints_3d',
    'hand_right_keypoints_3d')

#: Decimals kept for x, y (pixels) and for confidences and scores.
COORDINATE_DECIMALS = 3
CONFIDENCE_DECIMALS = 4

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


def openpose_json(poses: np.ndarray, confidences: np.ndarray) -> Dict:
    """The OpenPose (1.3+) keypoint file content of one image.

    Args:
        poses: (N, 18, 3) float32: x, y in image pixels and a flag (> 0
            where the joint was found), joints in :data:`entity.JOINT_NAMES`
            order.
        confidences: (N, 18) float32 confidence of each joint.

    Returns:
        ``{"version": 1.3, "people": [...]}`` ready for ``json.dump``: one
        entry per person with ``person_id`` ``[-1]``, ``pose_keypoints_2d``
        as 18 * 3 plain floats ``[x0, y0, c0, x1, y1, c1, ...]`` (all three
        0 for a missing joint) and empty face, hand and 3-D lists.
    """
    poses, confidences = _check(poses, confidences)
    return {'version': OPENPOSE_JSON_VERSION,
            'people': [_openpose_person(pose, conf)
                       for pose, conf in zip(poses, confidences)]}


def _openpose_person(pose: np.ndarray, confidences: np.ndarray) -> Dict:
    """One ``people`` entry for an (18, 3) pose and (18,) confidences."""
    keypoints: List[float] = []
    for (x, y, flag), c in zip(pose, confidences):
        keypoints.extend(_xyc(x, y, c) if flag > 0 else (0.0, 0.0, 0.0))
    person = {'person_id': [OPENPOSE_UNTRACKED_PERSON_ID],
              'pose_keypoints_2d': keypoints}
    person.update({field: [] for field in OPENPOSE_EMPTY_KEYPOINT_FIELDS})
    return person


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
    poses, _ = _check(poses, confidences)
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
            keypoints.extend(_xy(x, y) + (float(COCO_FOUND),))
        else:
            keypoints.extend((0.0, 0.0, float(COCO_MISSING)))
    return keypoints


def _xy(x: float, y: float) -> Tuple[float, float]:
    """Rounded plain-float (x, y)."""
    return (round(float(x), COORDINATE_DECIMALS),
            round(float(y), COORDINATE_DECIMALS))


def _xyc(x: float, y: float, c: float) -> Tuple[float, float, float]:
    """Rounded plain-float (x, y, confidence)."""
    return _xy(x, y) + (round(float(c), CONFIDENCE_DECIMALS),)


def _check(poses: np.ndarray, confidences: np.ndarray
           ) -> Tuple[np.ndarray, np.ndarray]:
    """Poses as (N, 18, 3) and confidences as (N, 18) float32, or raise."""
    poses = np.asarray(poses, np.float32).reshape(-1, entity.NUM_JOINTS, 3)
    confidences = np.asarray(confidences, np.float32).reshape(
        -1, entity.NUM_JOINTS)
    if len(confidences) != len(poses):
        raise ValueError(f'{len(poses)} poses but {len(confidences)} '
                         'confidence rows')
    return poses, confidences
