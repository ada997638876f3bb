"""The result of body-pose detection on one image, and its checks.

Array legend (used throughout :mod:`pose`):

====  =====================================================================
N     people in the image
18    body joints, in :data:`entity.JOINT_NAMES` order (OpenPose COCO-18)
70    face keypoints; 21: keypoints of one hand
x, y  image pixels, x to the right, y down, origin at the top-left pixel
====  =====================================================================
"""
from __future__ import annotations

import dataclasses
from typing import Optional, Tuple

import numpy as np

import entity


@dataclasses.dataclass
class Detection:
    """The people found in one image.

    Attributes:
        poses: (N, 18, 3) float32: x, y and a flag,
            :data:`entity.JOINT_FOUND` where the joint was found and
            :data:`entity.JOINT_MISSING` where not (then x = y = 0).
        scores: (N,) float32 person scores, highest first.
        confidences: (N, 18) float32 confidence-map value of each joint
            (0 where missing).
        faces: (N, 70, 3) float32 face keypoints x, y, score (all 0 where
            not found), when face detection was asked for, else None.
        hands: (N, 2, 21, 3) float32 hand keypoints x, y, score of the
            (left, right) hand, when hand detection was asked for, else None.
    """
    poses: np.ndarray
    scores: np.ndarray
    confidences: np.ndarray
    faces: Optional[np.ndarray] = None
    hands: Optional[np.ndarray] = None

    def __len__(self) -> int:
        return len(self.poses)

    def strongest(self, count: Optional[int]) -> 'Detection':
        """The ``count`` people with the highest scores, highest first
        (OpenPose's ``--number_people_max``), every array kept aligned;
        ``self`` when ``count`` is None or not below the number of people.
        """
        if count is None or count >= len(self.poses):
            return self
        keep = np.argsort(-self.scores, kind='stable')[:max(count, 0)]
        return Detection(
            self.poses[keep], self.scores[keep], self.confidences[keep],
            None if self.faces is None else self.faces[keep],
            None if self.hands is None else self.hands[keep])

    @classmethod
    def empty(cls) -> 'Detection':
        """No people."""
        return cls(np.zeros((0, entity.NUM_JOINTS, 3), np.float32),
                   np.zeros(0, np.float32),
                   np.zeros((0, entity.NUM_JOINTS), np.float32))


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
