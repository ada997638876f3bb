"""Drawing detected people on an image, in the style of OpenPose's demo.

Limbs are filled ellipses in the colour of the limb's index in
:data:`entity.JOINT_COLORS_BGR`, blended with the image like the authors'
demo (``cv2.addWeighted(canvas, 0.4, cur_canvas, 0.6, 0)``); joints are
opaque circles drawn on top.

Face keypoints are small filled circles in :data:`entity.FACE_COLOR_BGR`;
hands are opaque bones (:data:`entity.HAND_BONES`) in the colour of their
finger (:data:`entity.HAND_BONE_COLORS_BGR`) with circles at the keypoints
(:data:`entity.HAND_JOINT_COLORS_BGR`).
A face or hand keypoint was found when its confidence is > 0 (missing ones
are all zeros and are never drawn).  :func:`draw_people` draws all three.

Any coordinates can be given: a point that is not finite is not drawn, and
drawing stays inside the *drawing area*, the image grown by its longer side
on every side (:func:`drawing_area`): a joint or keypoint beyond it would
not show and is skipped, and a limb or bone reaching beyond it is drawn
along its line up to the area's edge, so OpenCV only ever gets small
integers.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

import entity

# ---------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------
# Drawing sizes and blending, private to this module.  The skeleton's colours
# are domain constants: entity.JOINT_COLORS_BGR, FACE_COLOR_BGR,
# HAND_JOINT_COLORS_BGR and HAND_BONE_COLORS_BGR.

#: Sizes below are for an image whose longer side is this many pixels (the
#: longer side of a COCO image) and scale linearly with the longer side.
DRAW_REFERENCE_SIDE = 640

#: Half the width of a limb ellipse at the reference size (the demo's
#: ``stickwidth``).
LIMB_HALF_WIDTH_AT_REFERENCE = 4

#: Radius of a joint circle at the reference size (the demo's circles).
JOINT_RADIUS_AT_REFERENCE = 4

#: Radius of a face keypoint circle at the reference size: half a joint
#: circle, so that 70 points close together stay apart (chosen by eye; the
#: demo draws no face).
FACE_POINT_RADIUS_AT_REFERENCE = 2

#: Thickness of a hand bone line at the reference size: thinner than a limb,
#: as a hand is a few tens of pixels wide in a COCO image (chosen by eye).
HAND_BONE_THICKNESS_AT_REFERENCE = 2

#: Radius of a hand keypoint circle at the reference size: a little wider
#: than a bone, so the keypoints show on it (chosen by eye).
HAND_JOINT_RADIUS_AT_REFERENCE = 3

#: Weight of the limb colour when blended with the image (demo: 0.6).
LIMB_OPACITY = 0.6

#: Angular step, in degrees, of the polygon approximating a limb ellipse
#: (demo: ``cv2.ellipse2Poly(..., 0, 360, 1)``).
ELLIPSE_STEP_DEGREES = 1

#: Margin of the drawing area around the image, in image longer sides: more
#: than any joint radius or limb half width (a fraction of the longer side),
#: so nothing visible is lost, and small enough that every pixel position
#: given to OpenCV stays far from its integer limits.
DRAWING_MARGIN_SIDES = 1


def draw_person_pose(img: np.ndarray, poses: np.ndarray) -> np.ndarray:
    """Draw people's skeletons on a copy of an image.

    Only limbs of :data:`entity.DRAWN_LIMBS` whose two joints were found are
    drawn, and only found joints; missing joints (flag 0, stored at (0, 0))
    are never drawn.

    Args:
        img: (H, W, 3) uint8 BGR image; not modified.
        poses: (N, 18, 3) float32 (or float64): x, y in ``img`` pixels
            (any values: see the module's note on the drawing area) and a
            flag (> 0 where the joint was found), joints in
            :data:`entity.JOINT_NAMES` order.  N may be 0.

    Returns:
        A new (H, W, 3) uint8 BGR image.
    """
    _check_image(img)
    poses = np.asarray(poses, np.float64).reshape(-1, entity.NUM_JOINTS, 3)
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


def drawing_area(image_size: Tuple[int, int]
                 ) -> Tuple[Tuple[float, float], Tuple[float, float]]:
    """``((x_min, y_min), (x_max, y_max))`` pixels of the drawing area of an
    image ``(height, width)``: the image grown by
    :data:`DRAWING_MARGIN_SIDES` longer sides on every side."""
    height, width = image_size[:2]
    margin = DRAWING_MARGIN_SIDES * max(height, width)
    return (-margin, -margin), (width + margin, height + margin)


def drawable(points: np.ndarray, image_size: Tuple[int, int]) -> np.ndarray:
    """(N,) bool: which of the (N, 2) ``(x, y)`` pixel points are finite
    and inside the :func:`drawing_area` of an image ``(height, width)``."""
    points = np.asarray(points, np.float64).reshape(-1, 2)
    (x_min, y_min), (x_max, y_max) = drawing_area(image_size)
    return ((points[:, 0] >= x_min) & (points[:, 0] <= x_max)      # NaN:
            & (points[:, 1] >= y_min) & (points[:, 1] <= y_max))   # False


def clip_segment(start: Sequence[float], end: Sequence[float],
                 image_size: Tuple[int, int]
                 ) -> Optional[Tuple[Tuple[float, float],
                                     Tuple[float, float]]]:
    """The part inside the :func:`drawing_area` of an image ``(height,
    width)`` of the segment from ``start`` to ``end`` (``(x, y)`` pixels,
    any float values), as two ``(x, y)``; None when it misses the area or a
    point is not finite.  Segments inside are returned unchanged; for the
    others the segment's line is kept (Liang-Barsky clipping, on half the
    difference so that no value overflows)."""
    (x0, y0), (x1, y1) = (tuple(float(v) for v in start),
                          tuple(float(v) for v in end))
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)):
        return None
    low, high = drawing_area(image_size)
    if drawable(np.array([[x0, y0], [x1, y1]]), image_size).all():
        return (x0, y0), (x1, y1)
    origin, half = (x0, y0), (x1 / 2 - x0 / 2, y1 / 2 - y0 / 2)
    t_in, t_out = 0.0, 2.0                 # the segment is origin + t * half
    for axis in (0, 1):
        if half[axis] == 0:
            if not low[axis] <= origin[axis] <= high[axis]:
                return None
            continue
        ta = (low[axis] - origin[axis]) / half[axis]
        tb = (high[axis] - origin[axis]) / half[axis]
        t_in, t_out = max(t_in, min(ta, tb)), min(t_out, max(ta, tb))
    if t_in > t_out:
        return None

    def point(t: float) -> Tuple[float, float]:
        return tuple(min(max(o + t * h, lo), hi) for o, h, lo, hi
                     in zip(origin, half, low, high))
    return point(t_in), point(t_out)


def drawing_sizes(image_size: Tuple[int, int]) -> Tuple[int, int]:
    """``(limb_half_width, joint_radius)`` in pixels for an image size.

    Args:
        image_size: ``(height, width)`` in pixels.
    """
    return (_scaled(LIMB_HALF_WIDTH_AT_REFERENCE, image_size),
            _scaled(JOINT_RADIUS_AT_REFERENCE, image_size))


def part_drawing_sizes(image_size: Tuple[int, int]) -> Tuple[int, int, int]:
    """``(face_point_radius, hand_bone_thickness, hand_joint_radius)`` in
    pixels for an image size, scaled like :func:`drawing_sizes`.

    Args:
        image_size: ``(height, width)`` in pixels.
    """
    return (_scaled(FACE_POINT_RADIUS_AT_REFERENCE, image_size),
            _scaled(HAND_BONE_THICKNESS_AT_REFERENCE, image_size),
            _scaled(HAND_JOINT_RADIUS_AT_REFERENCE, image_size))


def draw_face(img: np.ndarray, face_keypoints: np.ndarray) -> np.ndarray:
    """Draw people's face keypoints on a copy of an image.

    Args:
        img: (H, W, 3) uint8 BGR image; not modified.
        face_keypoints: (N, 70, 3) float32 x, y in ``img`` pixels and
            confidence (all 0 where not found: not drawn).  N may be 0.

    Returns:
        A new (H, W, 3) uint8 BGR image with a filled circle in
        :data:`entity.FACE_COLOR_BGR` at each found keypoint.
    """
    _check_image(img)
    faces = np.asarray(face_keypoints, np.float64).reshape(
        -1, entity.NUM_FACE_KEYPOINTS, 3)
    canvas = img.copy()
    radius = part_drawing_sizes(img.shape[:2])[0]
    found = faces[faces[..., 2] > 0][:, :2]
    for point in found[drawable(found, img.shape)]:
        cv2.circle(canvas, _pixel(point), radius,
                   entity.FACE_COLOR_BGR, thickness=cv2.FILLED,
                   lineType=cv2.LINE_AA)
    return canvas


def draw_hands(img: np.ndarray, hand_keypoints: np.ndarray) -> np.ndarray:
    """Draw people's hands on a copy of an image.

    Bones are drawn only where both their keypoints were found, then the
    found keypoints as circles on top.

    Args:
        img: (H, W, 3) uint8 BGR image; not modified.
        hand_keypoints: (N, 2, 21, 3) float32 x, y in ``img`` pixels and
            confidence of the (left, right) hands (all 0 where not found:
            not drawn).  N may be 0.

    Returns:
        A new (H, W, 3) uint8 BGR image.
    """
    _check_image(img)
    hands = np.asarray(hand_keypoints, np.float64).reshape(
        -1, entity.NUM_HAND_KEYPOINTS, 3)
    canvas = img.copy()
    _, thickness, radius = part_drawing_sizes(img.shape[:2])
    for hand in hands:
        _draw_hand(canvas, hand, thickness, radius)
    return canvas


def draw_people(img: np.ndarray, poses: np.ndarray,
                faces: Optional[np.ndarray] = None,
                hands: Optional[np.ndarray] = None) -> np.ndarray:
    """Draw bodies, then faces and hands (when given) on a copy of an image.

    Args:
        img: (H, W, 3) uint8 BGR image; not modified.
        poses: (N, 18, 3) as in :func:`draw_person_pose`.
        faces: None or (N, 70, 3) as in :func:`draw_face`.
        hands: None or (N, 2, 21, 3) as in :func:`draw_hands`.

    Returns:
        A new (H, W, 3) uint8 BGR image.
    """
    canvas = draw_person_pose(img, poses)
    if faces is not None:
        canvas = draw_face(canvas, faces)
    if hands is not None:
        canvas = draw_hands(canvas, hands)
    return canvas


def _scaled(size_at_reference: float, image_size: Tuple[int, int]) -> int:
    """A drawing size (pixels, at least 1) scaled with the longer side."""
    scale = max(image_size) / DRAW_REFERENCE_SIDE
    return max(1, round(size_at_reference * scale))


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
            segment = clip_segment(pose[a, :2], pose[b, :2], canvas.shape)
            if segment is None:
                continue
            polygon = _limb_polygon(*segment, half_width)
            cv2.fillConvexPoly(canvas, polygon, entity.JOINT_COLORS_BGR[limb],
                               lineType=cv2.LINE_AA)


def _limb_polygon(start: Tuple[float, float], end: Tuple[float, float],
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
    shown = (pose[:, 2] > 0) & drawable(pose[:, :2], canvas.shape)
    for joint in np.flatnonzero(shown):
        cv2.circle(canvas, _pixel(pose[joint, :2]), radius,
                   entity.JOINT_COLORS_BGR[joint], thickness=cv2.FILLED,
                   lineType=cv2.LINE_AA)


def _draw_hand(canvas: np.ndarray, hand: np.ndarray, thickness: int,
               radius: int) -> None:
    """Draw the found bones and keypoints of one (21, 3) hand."""
    found = hand[:, 2] > 0
    for (a, b), colour in zip(entity.HAND_BONES,
                              entity.HAND_BONE_COLORS_BGR):
        if found[a] and found[b]:
            segment = clip_segment(hand[a, :2], hand[b, :2], canvas.shape)
            if segment is not None:
                cv2.line(canvas, *(_pixel(p) for p in segment), colour,
                         thickness, lineType=cv2.LINE_AA)
    for k in np.flatnonzero(found & drawable(hand[:, :2], canvas.shape)):
        cv2.circle(canvas, _pixel(hand[k, :2]), radius,
                   entity.HAND_JOINT_COLORS_BGR[k], thickness=cv2.FILLED,
                   lineType=cv2.LINE_AA)


def _pixel(point: Sequence[float]) -> Tuple[int, int]:
    """The integer pixel ``(x, y)`` nearest a point of the drawing area."""
    x, y = point
    return round(x), round(y)
