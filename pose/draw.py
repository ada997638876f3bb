"""Drawing detected people on an image, in the style of OpenPose's demo.

Limbs are filled ellipses in the colour of the limb's index in
:data:`entity.JOINT_COLORS_BGR`, blended with the image like the authors'
demo (``cv2.addWeighted(canvas, 0.4, cur_canvas, 0.6, 0)``); joints are
opaque circles drawn on top.
"""
from __future__ import annotations

import math
from typing import Tuple

import cv2
import numpy as np

import entity

# ---------------------------------------------------------------------------
# Constants (candidates for entity.py)
# ---------------------------------------------------------------------------

#: Sizes below are for an image whose longer side is this many pixels (the
#: longer side of a COCO image) and scale linearly with the longer side.
DRAW_REFERENCE_SIDE = 640

#: Half the width of a limb ellipse at the reference size (the demo's
#: ``stickwidth``).
LIMB_HALF_WIDTH_AT_REFERENCE = 4

#: Radius of a joint circle at the reference size (the demo's circles).
JOINT_RADIUS_AT_REFERENCE = 4

#: Weight of the limb colour when blended with the image (demo: 0.6).
LIMB_OPACITY = 0.6

#: Angular step, in degrees, of the polygon approximating a limb ellipse
#: (demo: ``cv2.ellipse2Poly(..., 0, 360, 1)``).
ELLIPSE_STEP_DEGREES = 1


def draw_person_pose(img: np.ndarray, poses: np.ndarray) -> np.ndarray:
    """Draw people's skeletons on a copy of an image.

    Only limbs of :data:`entity.DRAWN_LIMBS` whose two joints were found are
    drawn, and only found joints; missing joints (flag 0, stored at (0, 0))
    are never drawn.

    Args:
        img: (H, W, 3) uint8 BGR image; not modified.
        poses: (N, 18, 3) float32: x, y in ``img`` pixels and a flag (> 0
            where the joint was found), joints in :data:`entity.JOINT_NAMES`
            order.  N may be 0.

    Returns:
        A new (H, W, 3) uint8 BGR image.
    """
    _check_image(img)
    poses = np.asarray(poses, np.float32).reshape(-1, entity.NUM_JOINTS, 3)
    canvas = img.copy()
    if len(poses) == 0:
        return canvas
    half_width, radius = drawing_sizes(img.shape[:2])
    limbs = canvas.copy()
    for pose in poses:
        _draw_limbs(limbs, pose, half_width)
    canvas = cv2.addWeighted(canvas, 1.0 - LIMB_OPACITY, limbs, LIMB_OPACITY,
                             0.0)
    for pose in poses:
        _draw_joints(canvas, pose, radius)
    return canvas


def drawing_sizes(image_size: Tuple[int, int]) -> Tuple[int, int]:
    """``(limb_half_width, joint_radius)`` in pixels for an image size.

    Args:
        image_size: ``(height, width)`` in pixels.
    """
    scale = max(image_size) / DRAW_REFERENCE_SIDE
    return (max(1, round(LIMB_HALF_WIDTH_AT_REFERENCE * scale)),
            max(1, round(JOINT_RADIUS_AT_REFERENCE * scale)))


def _check_image(img: np.ndarray) -> None:
    """Raise ValueError unless ``img`` is (H, W, 3) uint8."""
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        raise ValueError('expected an (H, W, 3) uint8 BGR image, got '
                         f'{img.dtype} {img.shape}')


def _draw_limbs(canvas: np.ndarray, pose: np.ndarray,
                half_width: int) -> None:
    """Draw the found limbs of one (18, 3) pose, opaque, on ``canvas``."""
    for limb in entity.DRAWN_LIMBS:
        a, b = entity.LIMBS[limb]
        if pose[a, 2] > 0 and pose[b, 2] > 0:
            polygon = _limb_polygon(pose[a, :2], pose[b, :2], half_width)
            cv2.fillConvexPoly(canvas, polygon, entity.JOINT_COLORS_BGR[limb],
                               lineType=cv2.LINE_AA)


def _limb_polygon(start: np.ndarray, end: np.ndarray,
                  half_width: int) -> np.ndarray:
    """Polygon of the ellipse joining two (x, y) points, as int32 (K, 2)."""
    (x0, y0), (x1, y1) = start, end
    center = (round((x0 + x1) / 2), round((y0 + y1) / 2))
    half_length = round(math.hypot(x1 - x0, y1 - y0) / 2)
    angle = round(math.degrees(math.atan2(y1 - y0, x1 - x0)))
    return cv2.ellipse2Poly(center, (half_length, half_width), angle, 0, 360,
                            ELLIPSE_STEP_DEGREES)


def _draw_joints(canvas: np.ndarray, pose: np.ndarray, radius: int) -> None:
    """Draw the found joints of one (18, 3) pose on ``canvas``."""
    for joint, (x, y, flag) in enumerate(pose):
        if flag > 0:
            cv2.circle(canvas, (round(x), round(y)), radius,
                       entity.JOINT_COLORS_BGR[joint], thickness=cv2.FILLED,
                       lineType=cv2.LINE_AA)
