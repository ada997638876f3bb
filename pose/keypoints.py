"""Keypoints in the file formats of OpenPose and of COCO evaluation.

* :func:`openpose_json`: OpenPose 1.3+ ``--write_json`` layout, one file per
  image, joints in OpenPose's COCO-18 order (:data:`entity.JOINT_NAMES`).
* :func:`coco_results`: entries of a COCO keypoint results file, the input
  of ``pycocotools.coco.COCO.loadRes`` / ``COCOeval(..., 'keypoints')``:
  the 17 COCO keypoints (no neck) in COCO's order.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import numpy as np

import entity

# ---------------------------------------------------------------------------
# Constants (candidates for entity.py)
# ---------------------------------------------------------------------------

#: ``version`` field of OpenPose keypoint files with the layout written here.
OPENPOSE_JSON_VERSION = 1.3

#: ``person_id`` of every person: OpenPose writes ``[-1]`` without tracking.
OPENPOSE_UNTRACKED_PERSON_ID = -1

#: Keypoint lists of the OpenPose file other than the body's: empty unless
#: face or hand keypoints are given (only the 2-D ones can be).
OPENPOSE_EMPTY_KEYPOINT_FIELDS: Tuple[str, ...] = (
    'face_keypoints_2d', 'hand_left_keypoints_2d', 'hand_right_keypoints_2d',
    'pose_keypoints_3d', 'face_keypoints_3d', 'hand_left_keypoints_3d',
    'hand_right_keypoints_3d')

#: The fields of a person's body keypoints and of its tracker id.
OPENPOSE_POSE_FIELD = 'pose_keypoints_2d'
OPENPOSE_PERSON_ID_FIELD = 'person_id'

#: The fields of face and of (left, right) hand keypoints, in the order of
#: the hand axis of hand keypoint arrays.
OPENPOSE_FACE_FIELD = 'face_keypoints_2d'
OPENPOSE_HAND_FIELDS: Tuple[str, str] = ('hand_left_keypoints_2d',
                                         'hand_right_keypoints_2d')

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


def openpose_json(poses: np.ndarray, confidences: np.ndarray,
                  faces: Optional[np.ndarray] = None,
                  hands: Optional[np.ndarray] = None) -> Dict:
    """The OpenPose (1.3+) keypoint file content of one image.

    Args:
        poses: (N, 18, 3) float32: x, y in image pixels and a flag (> 0
            where the joint was found), joints in :data:`entity.JOINT_NAMES`
            order.
        confidences: (N, 18) float32 confidence of each joint.
        faces: None, or (N, 70, 3) float32 face keypoints: x, y,
            confidence (all 0 where not found).
        hands: None, or (N, 2, 21, 3) float32 hand keypoints of the
            (left, right) hand: x, y, confidence (all 0 where not found).

    Returns:
        ``{"version": 1.3, "people": [...]}`` ready for ``json.dump``: one
        entry per person with ``person_id`` ``[-1]``, ``pose_keypoints_2d``
        as 18 * 3 plain floats ``[x0, y0, c0, x1, y1, c1, ...]`` (all three
        0 for a missing joint), ``face_keypoints_2d`` (70 * 3) and
        ``hand_left_keypoints_2d`` / ``hand_right_keypoints_2d`` (21 * 3
        each) the same way when ``faces`` / ``hands`` are given (a keypoint
        with confidence <= 0 is written as three zeros; a person without a
        face or hand gets all zeros, as OpenPose writes), else empty lists;
        the 3-D lists are always empty.
    """
    poses, confidences = check_poses(poses, confidences)
    parts = _part_fields(len(poses), faces, hands)
    return {'version': OPENPOSE_JSON_VERSION,
            'people': [_openpose_person(pose, conf, person_parts)
                       for pose, conf, person_parts
                       in zip(poses, confidences, parts)]}


def _openpose_person(pose: np.ndarray, confidences: np.ndarray,
                     parts: Dict[str, List[float]]) -> Dict:
    """One ``people`` entry for an (18, 3) pose and (18,) confidences;
    ``parts`` are the face and hand fields that are filled."""
    keypoints: List[float] = []
    for (x, y, flag), c in zip(pose, confidences):
        keypoints.extend(_xyc(x, y, c) if flag > 0 else (0.0, 0.0, 0.0))
    person = {OPENPOSE_PERSON_ID_FIELD: [OPENPOSE_UNTRACKED_PERSON_ID],
              OPENPOSE_POSE_FIELD: keypoints}
    person.update({field: parts.get(field, [])
                   for field in OPENPOSE_EMPTY_KEYPOINT_FIELDS})
    return person


def _part_fields(num_people: int, faces: Optional[np.ndarray],
                 hands: Optional[np.ndarray]) -> List[Dict[str, List[float]]]:
    """Per person, the face and hand keypoint fields given (may be {})."""
    people: List[Dict[str, List[float]]] = [{} for _ in range(num_people)]
    if faces is not None:
        faces = _check_parts(faces, num_people, (entity.NUM_FACE_KEYPOINTS,),
                             'face')
        for person, face in zip(people, faces):
            person[OPENPOSE_FACE_FIELD] = _part_keypoints(face)
    if hands is not None:
        hands = _check_parts(hands, num_people,
                             (len(OPENPOSE_HAND_FIELDS),
                              entity.NUM_HAND_KEYPOINTS), 'hand')
        for person, person_hands in zip(people, hands):
            for field, hand in zip(OPENPOSE_HAND_FIELDS, person_hands):
                person[field] = _part_keypoints(hand)
    return people


def _part_keypoints(points: np.ndarray) -> List[float]:
    """``[x, y, c] * K`` from (K, 3) x, y, confidence; zeros where c <= 0."""
    keypoints: List[float] = []
    for x, y, c in points:
        keypoints.extend(_xyc(x, y, c) if c > 0 else (0.0, 0.0, 0.0))
    return keypoints


def _check_parts(parts: np.ndarray, num_people: int,
                 shape: Tuple[int, ...], what: str) -> np.ndarray:
    """``parts`` as (num_people, *shape, 3) float32, or ValueError."""
    parts = np.asarray(parts, np.float32)
    if parts.size == 0 and num_people == 0:
        return parts.reshape((0,) + shape + (3,))
    if parts.shape != (num_people,) + shape + (3,):
        raise ValueError(f'expected {what} keypoints of shape '
                         f'{(num_people,) + shape + (3,)}, got {parts.shape}')
    return parts


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


def check_poses(poses: np.ndarray, confidences: np.ndarray
                ) -> Tuple[np.ndarray, np.ndarray]:
    """Poses as (N, 18, 3) and confidences as (N, 18) float32; raises
    ValueError when the person counts differ."""
    poses = np.asarray(poses, np.float32).reshape(-1, entity.NUM_JOINTS, 3)
    confidences = np.asarray(confidences, np.float32).reshape(
        -1, entity.NUM_JOINTS)
    if len(confidences) != len(poses):
        raise ValueError(f'{len(poses)} poses but {len(confidences)} '
                         'confidence rows')
    return poses, confidences
