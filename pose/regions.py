"""Face and hand regions from body poses, by OpenPose's rules.

The face and hand networks look at square crops of the image; this module
says where they are, from the body joints alone (OpenPose's
``faceDetector.cpp`` ``getFaceFromPoseKeypoints`` and ``handDetector.cpp``
``getHandFromPoseIndexes``).  Pure NumPy, vectorised over people.

Boxes
    A box is ``[x_left, y_top, size]`` in image pixels (a square whose
    top-left corner is ``(x_left, y_top)``), float32.  Boxes are **not**
    clipped to the image: a face or hand near the border gives a box that
    extends beyond it (negative ``x_left`` or ``y_top``, or past the right
    or bottom edge); the crop is padded there
    (:attr:`entity.PartParams.crop_pad_value`).

Invalid boxes
    :func:`face_boxes` and :func:`hand_boxes` return ``(boxes, valid)``:
    ``valid`` is a boolean mask, False where a person has no such region
    (not enough joints, or a zero size).  The rows of invalid boxes are NaN
    in all three values, so that a box used without looking at ``valid``
    fails loudly instead of becoming a square at the image origin.  Use
    ``boxes[valid]``.

Joints
    A body joint is used only when it was found (flag > 0) **and** its
    confidence is above (strictly, as OpenPose) the threshold of the region:
    :attr:`entity.PartParams.face_joint_threshold` (0.25) for the face,
    :attr:`entity.PartParams.hand_joint_threshold` (0.03) for the hands.
    Missing joints, stored at (0, 0), never enter a computation, so they
    never pull a box towards the image origin.

Hands
    The hand axis of hand boxes is ordered (left, right):
    :data:`entity.LEFT_HAND`, :data:`entity.RIGHT_HAND`.
"""
from __future__ import annotations

from typing import Iterator, Tuple

import numpy as np

import entity
from entity import DEFAULT_PART_PARAMS, PartParams
from pose.detection import check_poses

_J = entity.JOINT_INDEX

#: Joints of each arm, ``(shoulder, elbow, wrist)``, in hand order
#: (:data:`entity.LEFT_HAND`, :data:`entity.RIGHT_HAND`).
HAND_ARM_JOINTS: Tuple[Tuple[int, int, int], ...] = (
    (_J['LShoulder'], _J['LElbow'], _J['LWrist']),     # entity.LEFT_HAND
    (_J['RShoulder'], _J['RElbow'], _J['RWrist']),     # entity.RIGHT_HAND
)


def face_boxes(poses: np.ndarray, confidences: np.ndarray,
               params: PartParams = DEFAULT_PART_PARAMS
               ) -> Tuple[np.ndarray, np.ndarray]:
    """Square face boxes of people, OpenPose's ``getFaceFromPoseKeypoints``.

    Three cues each give a centre and a side; the box averages the cues
    found:

    * neck and nose both used: for a profile (exactly one side's eye and
      ear used, neither of the other side's) the centre is the mean of the
      nose, that eye and that ear and the side is
      ``face_profile_ratio * (|nose-eye| + |nose-ear| + |neck-nose|)``;
      otherwise the centre is the mean of neck and nose and the side
      ``face_neck_nose_ratio * |neck-nose|``;
    * both eyes: their mean, ``face_eyes_ratio * |leye-reye|``;
    * both ears: their mean, ``face_ears_ratio * |lear-rear|``.

    A joint is used when found and its confidence is above
    ``params.face_joint_threshold``.

    Args:
        poses: (N, 18, 3) x, y, flag (> 0 where found) in
            :data:`entity.JOINT_NAMES` order.  N may be 0.
        confidences: (N, 18) joint confidences.
        params: thresholds and ratios.

    Returns:
        ``(boxes, valid)``: (N, 3) float32 ``[x_left, y_top, size]`` and
        (N,) bool, False (and a NaN row) where no cue was found or the
        averaged size is 0 (OpenPose skips a face of width 0).  Boxes may
        extend beyond the image.
    """
    xy, used = _used_joints(poses, confidences, params.face_joint_threshold)
    centre_sum = np.zeros((len(xy), 2))
    size_sum = np.zeros(len(xy))
    cues = np.zeros(len(xy))
    for found, centre, size in _face_cues(xy, used, params):
        centre_sum += np.where(found[:, None], centre, 0.0)
        size_sum += np.where(found, size, 0.0)
        cues += found
    with np.errstate(invalid='ignore', divide='ignore'):
        centre = centre_sum / cues[:, None]
        size = size_sum / cues
    return _boxes(centre, size, cues > 0)


def hand_boxes(poses: np.ndarray, confidences: np.ndarray,
               params: PartParams = DEFAULT_PART_PARAMS
               ) -> Tuple[np.ndarray, np.ndarray]:
    """Square hand boxes of people, OpenPose's ``getHandFromPoseIndexes``.

    A hand needs the shoulder, elbow and wrist of its side.  Its centre is
    ``wrist + hand_center_forearm_ratio * (wrist - elbow)`` (beyond the
    wrist, along the forearm) and its side
    ``hand_size_ratio * max(|wrist-elbow|,
    hand_upper_arm_ratio * |elbow-shoulder|)``.  A joint is used when found
    and its confidence is above ``params.hand_joint_threshold``.

    Args:
        poses: (N, 18, 3) x, y, flag (> 0 where found) in
            :data:`entity.JOINT_NAMES` order.  N may be 0.
        confidences: (N, 18) joint confidences.
        params: thresholds and ratios.

    Returns:
        ``(boxes, valid)``: (N, 2, 3) float32 ``[x_left, y_top, size]`` of
        the (left, right) hand (:data:`entity.LEFT_HAND`,
        :data:`entity.RIGHT_HAND`) and
        (N, 2) bool, False (and a NaN row) where a joint of that arm is not
        used or the size is 0 (coincident joints).  Boxes may extend beyond
        the image.
    """
    xy, used = _used_joints(poses, confidences, params.hand_joint_threshold)
    arms = np.array(HAND_ARM_JOINTS)                 # (2, 3)
    shoulder, elbow, wrist = np.moveaxis(xy[:, arms], 2, 0)  # (N, 2, 2) each
    centre = wrist + params.hand_center_forearm_ratio * (wrist - elbow)
    size = params.hand_size_ratio * np.maximum(
        _distance(wrist, elbow),
        params.hand_upper_arm_ratio * _distance(elbow, shoulder))
    return _boxes(centre, size, used[:, arms].all(axis=2))


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _used_joints(poses: np.ndarray, confidences: np.ndarray,
                 threshold: float) -> Tuple[np.ndarray, np.ndarray]:
    """``(xy, used)``: (N, 18, 2) float64 (x, y) and (N, 18) bool.

    ``used`` is found (flag > 0) and confidence > ``threshold``: strictly
    and in float32, as OpenPose's ``score > threshold`` tests on floats (so
    a confidence of exactly 0.03 is not above a threshold of 0.03).  Raises
    ValueError when the person counts differ.
    """
    poses, confidences = check_poses(poses, confidences)       # float32
    used = ((poses[..., 2] > entity.JOINT_MISSING)
            & (confidences > np.float32(threshold)))
    return poses[..., :2].astype(np.float64), used


def _face_cues(xy: np.ndarray, used: np.ndarray, params: PartParams
               ) -> Iterator[Tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Yield ``(found (N,), centre (N, 2), size (N,))`` per face cue.

    Values where ``found`` is False are meaningless (they may involve
    missing joints at (0, 0)) and must be masked by the caller.
    """
    def joint(name):
        return xy[:, _J[name]], used[:, _J[name]]

    (neck, neck_used), (nose, nose_used) = joint('Neck'), joint('Nose')
    (leye, leye_used), (reye, reye_used) = joint('LEye'), joint('REye')
    (lear, lear_used), (rear, rear_used) = joint('LEar'), joint('REar')

    neck_nose = _distance(neck, nose)
    left_only = leye_used & lear_used & ~reye_used & ~rear_used
    right_only = reye_used & rear_used & ~leye_used & ~lear_used
    eye = np.where(left_only[:, None], leye, reye)   # the profile's side
    ear = np.where(left_only[:, None], lear, rear)
    profile = left_only | right_only
    centre = np.where(profile[:, None], (nose + eye + ear) / 3,
                      (neck + nose) / 2)
    size = np.where(
        profile,
        params.face_profile_ratio * (_distance(nose, eye)
                                     + _distance(nose, ear) + neck_nose),
        params.face_neck_nose_ratio * neck_nose)
    yield neck_used & nose_used, centre, size

    yield (leye_used & reye_used, (leye + reye) / 2,
           params.face_eyes_ratio * _distance(leye, reye))
    yield (lear_used & rear_used, (lear + rear) / 2,
           params.face_ears_ratio * _distance(lear, rear))


def _distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distance of (..., 2) points, (...)."""
    return np.hypot(*np.moveaxis(a - b, -1, 0))


def _boxes(centre: np.ndarray, size: np.ndarray, found: np.ndarray
           ) -> Tuple[np.ndarray, np.ndarray]:
    """``(boxes, valid)``: ``(..., 3)`` float32 boxes from (..., 2) centres
    and (...) sizes, and the (...) bool mask of the valid ones.

    Invalid (NaN) rows: ``found`` is False or the size is not positive.
    """
    with np.errstate(invalid='ignore'):
        valid = found & (size > 0)
    boxes = np.concatenate([centre - size[..., None] / 2, size[..., None]],
                           axis=-1)
    boxes[~valid] = np.nan
    return boxes.astype(np.float32), valid
