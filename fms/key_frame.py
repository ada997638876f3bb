"""The key frame image of a trial: skeleton, measured values, criteria box.

:func:`key_frame_image` draws the subject's skeleton at the key frame (on
the video frame when there is one, else on a dark canvas), each measured
value beside its anchor joint (:func:`measurement_labels`, the anchors of
the :class:`fms.measurements.Measurement` records) and a box listing each
criterion's verdict and the suggested score.  The followed person
(:func:`fms.sequence.select_subject`) is marked: a ring at their neck and
their id in the box (:func:`followed_line`); the analysis holds no one
else's keypoints, so the other people are not drawn.  Coordinates are ``(x, y)``
image pixels (x right, y down) throughout; colours are BGR.
"""
from __future__ import annotations

import dataclasses
import math
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

import entity
from fms import FmsError
from fms.curve_plot import check_key_index
from fms.labels import (criterion_line, format_value, key_frame_line,
                        trial_title, words)
from fms.measurements import Anchor, joint_names
from fms.results import Analysis, CriterionResult
from fms.text_layout import (BGR, Lines, Style, ascii_line, box_layout,
                             draw_box, line_height, overlap, put_text,
                             text_corners, text_style)
from pose.draw import (draw_hands, draw_person_pose, drawable,
                       drawing_sizes)

#: Dark canvas used when there is no video frame, its margin around the
#: keypoints (fraction of the keypoints' larger extent, at least
#: ``CANVAS_MIN_MARGIN`` pixels), its smallest size ``(width, height)`` (room
#: for the text) and its largest side (keypoints beyond it are clipped).
CANVAS_BGR: BGR = (32, 32, 32)
CANVAS_MARGIN_FRACTION = 0.25
CANVAS_MIN_MARGIN = 20
CANVAS_MIN_SIZE: Tuple[int, int] = (640, 480)
CANVAS_MAX_SIDE = 4096

#: Text colours: headings and values no criterion judges, passed, failed,
#: and criteria that could not be judged.
TEXT_BGR: BGR = (255, 255, 255)
PASS_BGR: BGR = (80, 220, 80)
FAIL_BGR: BGR = (60, 60, 255)
UNJUDGED_BGR: BGR = (170, 170, 170)

#: The followed person's marker: a ring of this colour (yellow, unused by
#: the skeleton's joints at the neck), this many joint radii wide (outside
#: the neck's joint dot and the limbs' ends) and this many pixels thick.
FOLLOWED_BGR: BGR = (0, 255, 255)
FOLLOWED_RING_RADII = 2.5
FOLLOWED_RING_THICKNESS = 2

#: A measured value is written this many joint radii to the right of its
#: anchor joint (left of it at the image's right edge).
LABEL_OFFSET_RADII = 2.5


@dataclasses.dataclass
class Label:
    """A measured value written beside its joint: the measurement's name,
    the text, its origin (bottom-left), colour, and the anchor point
    ``(x, y)`` it was placed from."""
    name: str
    text: str
    origin: Tuple[int, int]
    colour: BGR
    anchor: Tuple[float, float]


def key_frame_image(analysis: Analysis, image: Optional[np.ndarray] = None,
                    size: Optional[Tuple[int, int]] = None) -> np.ndarray:
    """The key frame with the skeleton, measured values and criteria.

    Args:
        analysis: the trial's analysis; its track's keypoints at
            ``key_index`` are drawn.
        image: the video frame at the key frame, (H, W, 3) uint8 BGR (or
            (H, W) grayscale) in the keypoints' pixels; not modified.  None
            when only keypoints are known: a dark canvas is used instead.
        size: ``(width, height)`` of that canvas (the video's frame size,
            keypoints keep their pixels); None to fit the canvas around
            all the track's keypoints with a margin, at least
            :data:`CANVAS_MIN_SIZE`, plus a band on top for the criteria
            box (keypoints shifted).  Ignored when ``image`` is given.

    Returns:
        A new (H, W, 3) uint8 BGR image: ``image``'s size, else the canvas.
        The criteria box goes in the corner covering the fewest keypoints
        and value labels; the labels are written last, over everything.
    """
    check_key_index(analysis)
    track, key = analysis.track, analysis.key_index
    lines = box_lines(analysis)
    if image is not None:
        canvas, offset = _frame_canvas(image), np.zeros(2)
    else:
        canvas, offset = _blank_canvas(track.xy, track.hands, size)
    style = text_style(canvas.shape[:2])
    if image is None and size is None:
        canvas, offset = _add_box_band(canvas, offset, lines, style)
    xy = np.asarray(track.xy[key], np.float64) - offset
    canvas = draw_person_pose(canvas, pose_array(xy))
    if track.hands is not None:
        hands = np.asarray(track.hands[key], np.float64) - offset
        canvas = draw_hands(canvas, hand_array(hands))
    draw_followed_marker(canvas, xy)
    labels = measurement_labels(analysis, xy, canvas.shape[:2], style)
    occupied = [xy] + [text_corners(label.text, label.origin, style)
                       for label in labels]
    draw_box(canvas, lines, style, np.concatenate(occupied))
    for label in labels:
        put_text(canvas, label.text, label.origin, label.colour, *style)
    return canvas


def followed_point(xy: np.ndarray) -> Optional[Tuple[float, float]]:
    """``(x, y)`` of the followed person's marker in one frame's (18, 2)
    keypoints: the neck, else the mean of the found joints; None when no
    joint is found."""
    xy = np.asarray(xy, np.float64).reshape(entity.NUM_JOINTS, 2)
    neck = xy[entity.JOINT_INDEX['Neck']]
    if np.isfinite(neck).all():
        return float(neck[0]), float(neck[1])
    found = xy[np.isfinite(xy).all(axis=1)]
    if len(found) == 0:
        return None
    x, y = found.mean(axis=0)
    return float(x), float(y)


def draw_followed_marker(canvas: np.ndarray, xy: np.ndarray) -> None:
    """Draw the ring that marks the followed person (:data:`FOLLOWED_BGR`)
    on ``canvas`` in place, around :func:`followed_point` of the (18, 2)
    keypoints; nothing when that point is unknown or outside the drawing
    area."""
    point = followed_point(xy)
    if point is None or not drawable(np.array(point), canvas.shape[:2])[0]:
        return
    radius = max(3, round(FOLLOWED_RING_RADII
                          * drawing_sizes(canvas.shape[:2])[1]))
    cv2.circle(canvas, (round(point[0]), round(point[1])), radius,
               FOLLOWED_BGR, FOLLOWED_RING_THICKNESS, cv2.LINE_AA)


def pose_array(xy: np.ndarray) -> np.ndarray:
    """The (1, 18, 3) float64 pose array of :func:`pose.draw.draw_person_pose`
    for one frame's (18, 2) ``(x, y)`` keypoints (NaN where missing): found
    joints get :data:`entity.JOINT_FOUND`, missing ones x = y = 0 and
    :data:`entity.JOINT_MISSING` (float64: any finite value is kept)."""
    xy = np.asarray(xy, np.float64).reshape(entity.NUM_JOINTS, 2)
    found = np.isfinite(xy).all(axis=1)
    pose = np.zeros((1, entity.NUM_JOINTS, 3), np.float64)
    pose[0, found, :2] = xy[found]
    pose[0, :, 2] = np.where(found, entity.JOINT_FOUND, entity.JOINT_MISSING)
    return pose


def hand_array(hands: np.ndarray) -> np.ndarray:
    """The (1, 2, 21, 3) float64 array of :func:`pose.draw.draw_hands` for
    one frame's (2, 21, 2) ``(x, y)`` hand keypoints (hands in
    (:data:`entity.LEFT_HAND`, :data:`entity.RIGHT_HAND`) order, NaN where
    missing): confidence 1 where found, all 0 where missing."""
    hands = np.asarray(hands, np.float64).reshape(
        2, entity.NUM_HAND_KEYPOINTS, 2)
    found = np.isfinite(hands).all(axis=-1)
    out = np.zeros((1, 2, entity.NUM_HAND_KEYPOINTS, 3), np.float64)
    out[0, found, :2] = hands[found]
    out[0, found, 2] = 1.0
    return out


def _frame_canvas(image: np.ndarray) -> np.ndarray:
    """A BGR uint8 copy of the caller's frame, or FmsError."""
    image = np.asarray(image)
    if image.dtype == np.uint8 and image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise FmsError(f'the key frame image must be (H, W, 3) uint8 BGR, '
                       f'got {image.dtype} {image.shape}; read it with '
                       'OpenCV')
    return image.copy()


def _blank_canvas(xy: np.ndarray, hands: Optional[np.ndarray],
                  size: Optional[Tuple[int, int]]
                  ) -> Tuple[np.ndarray, np.ndarray]:
    """``(canvas, offset)``: a dark (H, W, 3) uint8 canvas and the ``(x, y)``
    to subtract from keypoints to draw them on it (see key_frame_image)."""
    if size is not None:
        width, height = (min(int(s), CANVAS_MAX_SIDE) for s in size)
        if width < 1 or height < 1:
            raise FmsError(f'frame size {size} is not a (width, height) in '
                           'pixels; give positive numbers')
        return _dark(width, height), np.zeros(2)
    points = np.asarray(xy, np.float64).reshape(-1, 2)
    if hands is not None:
        points = np.concatenate([points, np.reshape(hands, (-1, 2))])
    points = points[np.isfinite(points).all(axis=1)]
    min_width, min_height = CANVAS_MIN_SIZE
    if len(points) == 0:
        return _dark(min_width, min_height), np.zeros(2)
    low, high = points.min(axis=0), points.max(axis=0)
    # Halves first, and the spread capped at the largest canvas, so that no
    # value overflows whatever the keypoints (far outliers included).
    spread = 2 * np.minimum(high / 2 - low / 2, CANVAS_MAX_SIDE / 2)
    margin = max(CANVAS_MIN_MARGIN, CANVAS_MARGIN_FRACTION * spread.max())
    extent = spread + 2 * margin
    width = int(min(CANVAS_MAX_SIDE, max(min_width, math.ceil(extent[0]))))
    height = int(min(CANVAS_MAX_SIDE, max(min_height, math.ceil(extent[1]))))
    centre = low / 2 + high / 2
    offset = np.floor(centre - np.array([width, height]) / 2)
    return _dark(width, height), offset


def _dark(width: int, height: int) -> np.ndarray:
    """A (height, width, 3) uint8 canvas of :data:`CANVAS_BGR`."""
    canvas = np.empty((height, width, 3), np.uint8)
    canvas[:] = CANVAS_BGR
    return canvas


def _add_box_band(canvas: np.ndarray, offset: np.ndarray, lines: Lines,
                  style: Style) -> Tuple[np.ndarray, np.ndarray]:
    """The canvas with a dark band on top, tall enough for the criteria box
    so that it covers no keypoint, and the offset moved accordingly."""
    height, width = canvas.shape[:2]
    layout = box_layout(lines, style, (height, width))
    band = min(CANVAS_MAX_SIDE - height, layout.size[1] + layout.pad)
    if band <= 0:
        return canvas, offset
    return (np.concatenate([_dark(width, band), canvas]),
            offset - np.array([0.0, band]))


def anchor_point(anchor: Anchor, side: Optional[str], xy: np.ndarray
                 ) -> Optional[Tuple[float, float]]:
    """``(x, y)`` of an anchor in one frame's (18, 2) keypoints (NaN where
    missing): its joint on the side the anchor says
    (:func:`fms.measurements.joint_names`), or the mean of the found
    joints of both sides; None when none is found."""
    names = joint_names(anchor, side)
    points = np.array([xy[entity.JOINT_INDEX[n]] for n in names])
    points = points[np.isfinite(points).all(axis=1)]
    if len(points) == 0:
        return None
    x, y = points.mean(axis=0)
    return float(x), float(y)


def measurement_labels(analysis: Analysis, xy: np.ndarray,
                       image_size: Tuple[int, int], style: Style
                       ) -> List[Label]:
    """A :class:`Label` for each measurement with an anchor and a value,
    beside its anchor joint in the (18, 2) ``xy`` of the key frame, in the
    colour of the first criterion that judges it (white if none);
    ``image_size`` is (height, width).  A label that would run past the
    right edge goes to the left of its joint, and one that would cover a
    label already placed moves down a line at a time until it does not.
    Values whose joints were not found, or lie beyond the drawing area
    (:func:`pose.draw.drawing_area`), are left out."""
    step = line_height(*style)
    shift = LABEL_OFFSET_RADII * drawing_sizes(image_size)[1]
    placed: List[np.ndarray] = []
    labels = []
    for name, measured in analysis.measurements.items():
        if measured.anchor is None or measured.value is None:
            continue
        anchor = anchor_point(measured.anchor, analysis.side, xy)
        if anchor is None or not drawable(np.array(anchor), image_size)[0]:
            continue
        text = ascii_line(f'{words(name)} '
                          f'{format_value(measured.value, measured.unit)}')
        origin = (round(anchor[0] + shift), round(anchor[1]))
        box = text_corners(text, origin, style)
        if box[1, 0] > image_size[1]:       # past the right edge: go left
            width = box[1, 0] - box[0, 0]
            origin = (max(0, round(anchor[0] - shift - width)), origin[1])
            box = text_corners(text, origin, style)
        while any(overlap(box, other) for other in placed):
            origin = (origin[0], origin[1] + step)
            box = text_corners(text, origin, style)
        placed.append(box)
        criterion = _criterion_of(analysis.criteria, name)
        labels.append(Label(name, text, origin, _verdict_colour(criterion),
                            anchor))
    return labels


def _criterion_of(criteria: Sequence[CriterionResult], measurement: str
                  ) -> Optional[CriterionResult]:
    """The first criterion judging ``measurement``, or None."""
    return next((c for c in criteria if c.measurement == measurement), None)


def _verdict_colour(criterion: Optional[CriterionResult]) -> BGR:
    """Text colour of a criterion's verdict (white without a criterion)."""
    if criterion is None:
        return TEXT_BGR
    if criterion.passed is None:
        return UNJUDGED_BGR
    return PASS_BGR if criterion.passed else FAIL_BGR


def followed_line(analysis: Analysis) -> str:
    """``followed: person 3 (ring at the neck)``, or ``untracked person``
    for a keypoint file without tracking (id -1)."""
    pid = int(analysis.track.person_id)
    who = f'person {pid}' if pid >= 0 else 'untracked person'
    return f'followed: {who} (ring at the neck)'


def box_lines(analysis: Analysis) -> Lines:
    """``(text, colour)`` of each line of the criteria box: the title, the
    key frame, who was followed (:func:`followed_line`, in the marker's
    colour), then one line per criterion in its verdict's colour."""
    lines = [(trial_title(analysis), TEXT_BGR),
             (key_frame_line(analysis), TEXT_BGR),
             (followed_line(analysis), FOLLOWED_BGR)]
    lines += [(criterion_line(c), _verdict_colour(c))
              for c in analysis.criteria]
    return [(ascii_line(text), colour) for text, colour in lines]
