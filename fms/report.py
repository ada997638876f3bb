"""The report of one analysed trial: a JSON document, a plot, an image.

:func:`write_report` writes three files for an :class:`~fms.results.Analysis`:

* ``<stem>.json``: :func:`fms.results.result_document`, pretty-printed;
* ``<stem>_angles.png``: :func:`plot_curves`, the per-frame measures over
  time with their thresholds and the key frame marked;
* ``<stem>_key_frame.png``: :func:`key_frame_image`, the subject's skeleton
  at the key frame (on the video frame when there is one, else on a dark
  canvas), the measured values beside their joints and a box listing each
  criterion's verdict and the suggested score.

Every file is written atomically (:func:`pose.images.write_atomic`) and an
input file is never overwritten.  Plots use a
:class:`matplotlib.figure.Figure` with the Agg canvas, never pyplot.
Coordinates are ``(x, y)`` image pixels (x right, y down) throughout.
"""
from __future__ import annotations

import dataclasses
import io
import json
import math
import os
import re
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import entity
from fms import FmsError
from fms.angles import SIDE_PREFIX, other_side
from fms.protocol import MAX_SCORE, SIDES
from fms.results import Analysis, CriterionResult, result_document
from pose.draw import draw_hands, draw_person_pose, drawing_sizes
from pose.images import same_file, write_atomic
from pose.video_io import MAX_FAILED_RUN

# ---------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------

#: Suffixes of the three report files after the caller's stem.
JSON_SUFFIX = '.json'
PLOT_SUFFIX = '_angles.png'
KEY_FRAME_SUFFIX = '_key_frame.png'

#: Curve plot: figure width, height of one panel and of the title band, in
#: inches, and resolution (so one panel is 800 x 220 pixels).
PLOT_WIDTH_INCHES = 8.0
PANEL_HEIGHT_INCHES = 2.2
TITLE_HEIGHT_INCHES = 0.5
PLOT_DPI = 100

#: Curve plot colours (matplotlib names): the curve, the key frame line and
#: marker, and the threshold lines in turn.
CURVE_COLOR = 'tab:blue'
KEY_FRAME_COLOR = '#d62728'
THRESHOLD_COLORS: Tuple[str, ...] = ('tab:orange', 'tab:green',
                                     'tab:purple', 'tab:brown')
CURVE_LINE_WIDTH = 1.5
KEY_LINE_WIDTH = 1.5
THRESHOLD_LINE_WIDTH = 1.0
GRID_ALPHA = 0.3
#: Offset of the key frame value's annotation from its point, in points.
ANNOTATION_OFFSET_POINTS: Tuple[int, int] = (6, 6)

#: Dark canvas (BGR) used when there is no video frame, its margin around
#: the keypoints (fraction of the keypoints' larger extent, at least
#: ``CANVAS_MIN_MARGIN`` pixels), its smallest size ``(width, height)`` (room
#: for the text) and its largest side (keypoints beyond it are clipped).
CANVAS_BGR: Tuple[int, int, int] = (32, 32, 32)
CANVAS_MARGIN_FRACTION = 0.25
CANVAS_MIN_MARGIN = 20
CANVAS_MIN_SIZE: Tuple[int, int] = (640, 480)
CANVAS_MAX_SIDE = 4096

#: Text on the key frame image: Hershey font, its scale and stroke at an
#: image whose longer side is ``TEXT_REFERENCE_SIDE`` pixels (both grow
#: linearly with it), the smallest scale used when shrinking the criteria
#: box to fit, the extra stroke of the dark outline, and the gap between
#: lines as a fraction of the text height.
TEXT_FONT = cv2.FONT_HERSHEY_SIMPLEX
TEXT_REFERENCE_SIDE = 640
TEXT_SCALE_AT_REFERENCE = 0.45
TEXT_THICKNESS_AT_REFERENCE = 1
TEXT_MIN_SCALE = 0.3
TEXT_OUTLINE_EXTRA = 2
TEXT_LINE_GAP_FRACTION = 0.5
OUTLINE_BGR: Tuple[int, int, int] = (0, 0, 0)

#: Text colours (BGR): headings and unjudged values, passed, failed, and
#: criteria that could not be judged.
TEXT_BGR: Tuple[int, int, int] = (255, 255, 255)
PASS_BGR: Tuple[int, int, int] = (80, 220, 80)
FAIL_BGR: Tuple[int, int, int] = (60, 60, 255)
UNJUDGED_BGR: Tuple[int, int, int] = (170, 170, 170)

#: Criteria box: background (BGR), its opacity over the image, and its
#: padding and distance from the image border in text heights.
BOX_BGR: Tuple[int, int, int] = (0, 0, 0)
BOX_OPACITY = 0.6
BOX_PADDING_LINES = 0.6
#: Lines of the box longer than this many characters are cut with '...'.
BOX_MAX_LINE_CHARS = 80

#: A measured value is written this many joint radii to the right of its
#: anchor joint (left of it at the image's right edge).
LABEL_OFFSET_RADII = 2.5
#: Measured values in degrees are written without decimals, others with
#: this many.
VALUE_DECIMALS = 2

#: Where a measured value is written: the first word of the measurement's
#: name (split at '_' and other non-letters) found here names the joint
#: (without its L/R prefix), and whether the measure belongs to the trunk
#: (drawn between both sides unless the name says left or right) rather
#: than to the tested side's limb.  E.g. ``knee_flexion`` -> the knee of
#: the analysis' side, ``trunk_inclination`` -> between the hips.  The
#: words are those of the measurements of :mod:`fms.analysis`.
MEASUREMENT_ANCHORS: Dict[str, Tuple[str, bool]] = {
    'knee': ('Knee', False), 'femur': ('Knee', False),
    'hip': ('Hip', False),
    'trunk': ('Hip', True), 'torso': ('Hip', True),
    'ankle': ('Ankle', False), 'tibia': ('Ankle', False),
    'shoulder': ('Shoulder', False), 'arm': ('Shoulder', False),
    'elbow': ('Elbow', False),
    'hand': ('Wrist', False), 'fist': ('Wrist', False),
    'dowel': ('Wrist', True),
}
#: Words of a measurement's name that name the limb opposite the tested
#: side (e.g. the stance leg of the hurdle step, the back knee of the
#: lunge).
OPPOSITE_SIDE_WORDS: Tuple[str, ...] = ('stance', 'back', 'rear',
                                        'trailing', 'opposite', 'other')


# ---------------------------------------------------------------------------
# Curve plot
# ---------------------------------------------------------------------------


def plot_curves(analysis: Analysis) -> bytes:
    """The per-frame measures of a trial as a PNG plot.

    One panel per curve of ``analysis.curves`` (stacked, sharing the time
    axis in seconds from ``analysis.track.times``), y label with its unit,
    the lines of ``analysis.curve_thresholds`` dashed and labelled, the key
    frame as a vertical :data:`KEY_FRAME_COLOR` line on every panel with
    the curve's value there annotated; NaN frames are left as gaps.  The
    title gives the test, side, view and suggested score.

    Returns:
        PNG bytes of a ``PLOT_WIDTH_INCHES * PLOT_DPI`` (800) pixels wide
        image, 220 pixels high per panel (one empty panel without curves)
        plus the title band.
    """
    _check_key_index(analysis)
    names = list(analysis.curves)
    panels = max(1, len(names))
    fig = Figure(figsize=(PLOT_WIDTH_INCHES,
                          panels * PANEL_HEIGHT_INCHES + TITLE_HEIGHT_INCHES),
                 dpi=PLOT_DPI, layout='constrained')
    FigureCanvasAgg(fig)
    axes = fig.subplots(panels, 1, sharex=True, squeeze=False)[:, 0]
    times = np.asarray(analysis.track.times, np.float64)
    key_time = float(times[analysis.key_index])
    for ax, name in zip(axes, names):
        _plot_panel(ax, analysis, name, times, key_time)
    if not names:
        axes[0].axvline(key_time, color=KEY_FRAME_COLOR,
                        linewidth=KEY_LINE_WIDTH)
        axes[0].text(0.5, 0.5, 'no per-frame measures', ha='center',
                     va='center', transform=axes[0].transAxes)
    axes[-1].set_xlabel('time (s)')
    fig.suptitle(_plot_title(analysis))
    buffer = io.BytesIO()
    fig.savefig(buffer, format='png', dpi=PLOT_DPI)
    return buffer.getvalue()


def _plot_panel(ax, analysis: Analysis, name: str, times: np.ndarray,
                key_time: float) -> None:
    """Draw one curve, its thresholds and the key frame on ``ax``."""
    values = np.asarray(analysis.curves[name], np.float64)
    unit = analysis.curve_units.get(name, '')
    ax.plot(times, values, color=CURVE_COLOR, linewidth=CURVE_LINE_WIDTH)
    thresholds = analysis.curve_thresholds.get(name, [])
    for i, (label, value) in enumerate(thresholds):
        ax.axhline(value, linestyle='--', linewidth=THRESHOLD_LINE_WIDTH,
                   color=THRESHOLD_COLORS[i % len(THRESHOLD_COLORS)],
                   label=f'{label}: {_format_value(value, unit)}')
    ax.axvline(key_time, color=KEY_FRAME_COLOR, linewidth=KEY_LINE_WIDTH)
    key_value = values[analysis.key_index]
    if np.isfinite(key_value):
        ax.plot([key_time], [key_value], 'o', color=KEY_FRAME_COLOR)
        ax.annotate(_format_value(key_value, unit), (key_time, key_value),
                    xytext=ANNOTATION_OFFSET_POINTS,
                    textcoords='offset points')
    else:
        ax.annotate('not found at the key frame', (key_time, 1.0),
                    xycoords=('data', 'axes fraction'),
                    xytext=(ANNOTATION_OFFSET_POINTS[0], 0),
                    textcoords='offset points', va='top')
    ax.set_ylabel(f'{_words(name)}\n({unit})' if unit else _words(name))
    ax.grid(alpha=GRID_ALPHA)
    if thresholds:
        ax.legend(loc='best', fontsize='small')


def _plot_title(analysis: Analysis) -> str:
    """``deep squat (left), side view: suggested score 2/3``."""
    side = f' ({analysis.side})' if analysis.side else ''
    return (f'{_words(analysis.test)}{side}, {analysis.view} view: '
            f'suggested score {analysis.score}/{MAX_SCORE}')


# ---------------------------------------------------------------------------
# Key frame image
# ---------------------------------------------------------------------------


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
    _check_key_index(analysis)
    track, key = analysis.track, analysis.key_index
    lines = _box_lines(analysis)
    if image is not None:
        canvas, offset = _frame_canvas(image), np.zeros(2)
    else:
        canvas, offset = _blank_canvas(track.xy, track.hands, size)
    style = _text_style(canvas.shape[:2])
    if image is None and size is None:
        canvas, offset = _add_box_band(canvas, offset, lines, style)
    xy = np.asarray(track.xy[key], np.float64) - offset
    canvas = draw_person_pose(canvas, pose_array(xy))
    if track.hands is not None:
        hands = np.asarray(track.hands[key], np.float64) - offset
        canvas = draw_hands(canvas, hand_array(hands))
    labels = _measurement_labels(analysis, xy, canvas.shape[:2], style)
    occupied = [xy] + [_text_corners(text, origin, style)
                       for text, origin, _ in labels]
    _draw_box(canvas, lines, style, np.concatenate(occupied))
    for text, origin, colour in labels:
        _put_text(canvas, text, origin, colour, *style)
    return canvas


def pose_array(xy: np.ndarray) -> np.ndarray:
    """The (1, 18, 3) float32 pose array of :func:`pose.draw.draw_person_pose`
    for one frame's (18, 2) ``(x, y)`` keypoints (NaN where missing): found
    joints get :data:`entity.JOINT_FOUND`, missing ones x = y = 0 and
    :data:`entity.JOINT_MISSING`."""
    xy = np.asarray(xy, np.float64).reshape(entity.NUM_JOINTS, 2)
    found = np.isfinite(xy).all(axis=1)
    pose = np.zeros((1, entity.NUM_JOINTS, 3), np.float32)
    pose[0, found, :2] = xy[found]
    pose[0, :, 2] = np.where(found, entity.JOINT_FOUND, entity.JOINT_MISSING)
    return pose


def hand_array(hands: np.ndarray) -> np.ndarray:
    """The (1, 2, 21, 3) float32 array of :func:`pose.draw.draw_hands` for
    one frame's (2, 21, 2) ``(x, y)`` hand keypoints (NaN where missing):
    confidence 1 where found, all 0 where missing."""
    hands = np.asarray(hands, np.float64).reshape(
        2, entity.NUM_HAND_KEYPOINTS, 2)
    found = np.isfinite(hands).all(axis=-1)
    out = np.zeros((1, 2, entity.NUM_HAND_KEYPOINTS, 3), np.float32)
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
    margin = max(CANVAS_MIN_MARGIN,
                 CANVAS_MARGIN_FRACTION * float((high - low).max()))
    extent = high - low + 2 * margin
    width = int(min(CANVAS_MAX_SIDE, max(min_width, math.ceil(extent[0]))))
    height = int(min(CANVAS_MAX_SIDE, max(min_height, math.ceil(extent[1]))))
    centre = (low + high) / 2
    offset = np.floor(centre - np.array([width, height]) / 2)
    return _dark(width, height), offset


def _dark(width: int, height: int) -> np.ndarray:
    """A (height, width, 3) uint8 canvas of :data:`CANVAS_BGR`."""
    canvas = np.empty((height, width, 3), np.uint8)
    canvas[:] = CANVAS_BGR
    return canvas


def _add_box_band(canvas: np.ndarray, offset: np.ndarray,
                  lines: List[Tuple[str, Tuple[int, int, int]]],
                  style: Tuple[float, int]) -> Tuple[np.ndarray, np.ndarray]:
    """The canvas with a dark band on top, tall enough for the criteria box
    so that it covers no keypoint, and the offset moved accordingly."""
    height, width = canvas.shape[:2]
    layout = _box_layout(lines, style, (height, width))
    band = min(CANVAS_MAX_SIDE - height, layout.size[1] + layout.pad)
    if band <= 0:
        return canvas, offset
    return (np.concatenate([_dark(width, band), canvas]),
            offset - np.array([0.0, band]))


def _measurement_labels(analysis: Analysis, xy: np.ndarray,
                        image_size: Tuple[int, int], style: Tuple[float, int]
                        ) -> List[Tuple[str, Tuple[int, int],
                                        Tuple[int, int, int]]]:
    """``(text, origin, colour)`` of each measured value to write beside its
    anchor joint (origin: bottom-left of the text), in the colour of the
    first criterion that judges it (white if none; values that neither a
    criterion judges nor a curve shows are left out); ``image_size`` is
    (height, width).  A label that would run past the right edge goes to
    the left of its joint, and one that would cover a label already placed
    moves down a line at a time until it does not."""
    line_height = _line_height(*style)
    shift = LABEL_OFFSET_RADII * drawing_sizes(image_size)[1]
    placed: List[np.ndarray] = []
    labels = []
    for name, value in analysis.measurements.items():
        criterion = _criterion_of(analysis.criteria, name)
        if (value is None or not np.isfinite(float(value))
                or (criterion is None and name not in analysis.curves)):
            continue                    # bookkeeping values: not labelled
        anchor = measurement_anchor(name, analysis.side, xy)
        if anchor is None:
            continue
        unit = (criterion.unit if criterion is not None
                else analysis.curve_units.get(name, ''))
        text = _ascii_line(f'{_words(name)} '
                           f'{_format_value(float(value), unit)}')
        origin = (round(anchor[0] + shift), round(anchor[1]))
        box = _text_corners(text, origin, style)
        if box[1, 0] > image_size[1]:       # past the right edge: go left
            width = box[1, 0] - box[0, 0]
            origin = (max(0, round(anchor[0] - shift - width)), origin[1])
            box = _text_corners(text, origin, style)
        while any(_overlap(box, other) for other in placed):
            origin = (origin[0], origin[1] + line_height)
            box = _text_corners(text, origin, style)
        placed.append(box)
        labels.append((text, origin, _verdict_colour(criterion)))
    return labels


def _overlap(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two boxes (2, 2) ``[[left, top], [right, bottom]]`` meet."""
    return bool((a[0] < b[1]).all() and (b[0] < a[1]).all())


def _text_corners(text: str, origin: Tuple[int, int],
                  style: Tuple[float, int]) -> np.ndarray:
    """(2, 2) ``(x, y)`` of the top-left and bottom-right of written text."""
    (width, height), baseline = cv2.getTextSize(text, TEXT_FONT, *style)
    x, y = origin
    return np.array([[x, y - height], [x + width, y + baseline]], np.float64)


def measurement_anchor(name: str, side: Optional[str], xy: np.ndarray
                       ) -> Optional[Tuple[float, float]]:
    """Where to write a measured value: ``(x, y)`` of its joint, or None.

    The joint comes from :data:`MEASUREMENT_ANCHORS`; its side is the one
    the name says (``left``/``right``, or a word of
    :data:`OPPOSITE_SIDE_WORDS` for the side opposite ``side``), else
    ``side`` for limb measures; without a side (and for trunk measures)
    the value goes between the found joints of both sides.

    Args:
        name: the measurement's name, e.g. ``'knee_flexion'``.
        side: the analysis' side (``'left'``, ``'right'`` or None).
        xy: (18, 2) float64 ``(x, y)`` keypoints, NaN where missing.

    Returns:
        The anchor, or None when the name names no joint or the joint (or
        both sides' joints) was not found.
    """
    words = [w for w in re.split('[^a-z]+', name.lower()) if w]
    found = next((MEASUREMENT_ANCHORS[w] for w in words
                  if w in MEASUREMENT_ANCHORS), None)
    if found is None:
        return None
    joint, central = found
    chosen = _named_side(words, None if central else side)
    candidates = [SIDE_PREFIX[s] + joint
                  for s in ([chosen] if chosen else SIDES)]
    points = np.array([xy[entity.JOINT_INDEX[c]] for c in candidates])
    points = points[np.isfinite(points).all(axis=1)]
    if len(points) == 0:
        return None
    x, y = points.mean(axis=0)
    return float(x), float(y)


def _named_side(words: List[str], side: Optional[str]) -> Optional[str]:
    """The side a measurement's name words mean (see measurement_anchor)."""
    for word in words:
        if word in SIDES:
            return word
    if side in SIDES and any(w in OPPOSITE_SIDE_WORDS for w in words):
        return other_side(side)
    return side if side in SIDES else None


def _criterion_of(criteria: Sequence[CriterionResult], measurement: str
                  ) -> Optional[CriterionResult]:
    """The first criterion judging ``measurement``, or None."""
    return next((c for c in criteria if c.measurement == measurement), None)


def _verdict_colour(criterion: Optional[CriterionResult]
                    ) -> Tuple[int, int, int]:
    """Text colour of a criterion's verdict (white without a criterion)."""
    if criterion is None:
        return TEXT_BGR
    if criterion.passed is None:
        return UNJUDGED_BGR
    return PASS_BGR if criterion.passed else FAIL_BGR


def criterion_line(criterion: CriterionResult) -> str:
    """One line of the criteria box, e.g.
    ``PASS femur below horizontal: 8 deg (limit >= 0 deg)`` or
    ``n/a  knees over feet: not observable in the side view: ...``."""
    label = _words(criterion.name)
    if not criterion.observable or criterion.passed is None:
        why = criterion.note or ('not observable' if not criterion.observable
                                 else 'not measured')
        return f'n/a  {label}: {why}'
    verdict = 'PASS' if criterion.passed else 'FAIL'
    threshold = ('' if criterion.threshold is None else
                 f' (limit {criterion.comparison} '
                 f'{_format_value(criterion.threshold, criterion.unit)})')
    value = ('?' if criterion.value is None else
             _format_value(criterion.value, criterion.unit))
    return f'{verdict} {label}: {value}{threshold}'


def _box_lines(analysis: Analysis) -> List[Tuple[str, Tuple[int, int, int]]]:
    """``(text, colour)`` of each line of the criteria box."""
    track, key = analysis.track, analysis.key_index
    lines = [(_plot_title(analysis), TEXT_BGR),
             (f'key frame {int(track.frames[key])} at '
              f'{float(track.times[key]):.2f} s: {analysis.key_reason}',
              TEXT_BGR)]
    for criterion in analysis.criteria:
        lines.append((criterion_line(criterion), _verdict_colour(criterion)))
    return [(_ascii_line(text), colour) for text, colour in lines]


@dataclasses.dataclass
class _BoxLayout:
    """Font and size in pixels of the criteria box."""
    scale: float
    thickness: int
    line_height: int
    pad: int
    size: Tuple[int, int]      # (width, height)


def _box_layout(lines: List[Tuple[str, Tuple[int, int, int]]],
                style: Tuple[float, int], image_size: Tuple[int, int]
                ) -> _BoxLayout:
    """The box's layout at ``style``, shrunk (down to
    :data:`TEXT_MIN_SCALE`) to fit an image ``(height, width)``."""
    height, width = image_size
    scale, thickness = style
    for _ in range(2):                 # measure, shrink once, measure again
        widest = max(cv2.getTextSize(text, TEXT_FONT, scale, thickness)[0][0]
                     for text, _ in lines)
        line_height = _line_height(scale, thickness)
        pad = round(BOX_PADDING_LINES * line_height)
        fit = min((width - 4 * pad) / max(1, widest),
                  (height - 4 * pad) / max(1, line_height * len(lines)))
        if fit >= 1 or scale <= TEXT_MIN_SCALE:
            break
        scale = max(TEXT_MIN_SCALE, scale * fit)
    return _BoxLayout(scale, thickness, line_height, pad,
                      (widest + 2 * pad, line_height * len(lines) + 2 * pad))


def _draw_box(canvas: np.ndarray,
              lines: List[Tuple[str, Tuple[int, int, int]]],
              style: Tuple[float, int], occupied: np.ndarray) -> None:
    """Draw the criteria box in the image corner covering the fewest of the
    ``occupied`` (N, 2) ``(x, y)`` points (keypoints, label corners)."""
    height, width = canvas.shape[:2]
    layout = _box_layout(lines, style, (height, width))
    x0, y0 = _emptiest_corner((width, height), layout.size, layout.pad,
                              occupied)
    x1 = min(width, x0 + layout.size[0])
    y1 = min(height, y0 + layout.size[1])
    region = canvas[y0:y1, x0:x1]
    region[:] = np.round(region * (1.0 - BOX_OPACITY)
                         + np.array(BOX_BGR) * BOX_OPACITY).astype(np.uint8)
    gap = round(TEXT_LINE_GAP_FRACTION * layout.line_height / 2)
    for row, (text, colour) in enumerate(lines):
        origin = (x0 + layout.pad,
                  y0 + layout.pad + (row + 1) * layout.line_height - gap)
        _put_text(canvas, text, origin, colour, layout.scale,
                  layout.thickness)


def _emptiest_corner(image_size: Tuple[int, int], box_size: Tuple[int, int],
                     pad: int, xy: np.ndarray) -> Tuple[int, int]:
    """Top-left ``(x, y)`` of the box in the image corner (top-left first)
    that covers the fewest of the (N, 2) ``(x, y)`` points ``xy``."""
    (width, height), (box_w, box_h) = image_size, box_size
    right = max(0, width - pad - box_w)
    bottom = max(0, height - pad - box_h)
    corners = [(pad, pad), (right, pad), (pad, bottom), (right, bottom)]
    points = xy[np.isfinite(xy).all(axis=1)]

    def covered(corner: Tuple[int, int]) -> int:
        x, y = corner
        inside = ((points[:, 0] >= x) & (points[:, 0] <= x + box_w)
                  & (points[:, 1] >= y) & (points[:, 1] <= y + box_h))
        return int(inside.sum())
    return min(corners, key=covered)


# ---------------------------------------------------------------------------
# Text helpers
# ---------------------------------------------------------------------------


def _text_style(image_size: Tuple[int, int]) -> Tuple[float, int]:
    """``(font_scale, thickness)`` for an image ``(height, width)``."""
    factor = max(image_size) / TEXT_REFERENCE_SIDE
    return (max(TEXT_MIN_SCALE, TEXT_SCALE_AT_REFERENCE * factor),
            max(1, round(TEXT_THICKNESS_AT_REFERENCE * factor)))


def _line_height(scale: float, thickness: int) -> int:
    """Pixels from one text line's baseline to the next."""
    (_, text_height), baseline = cv2.getTextSize('Ag', TEXT_FONT, scale,
                                                 thickness)
    return round((text_height + baseline) * (1 + TEXT_LINE_GAP_FRACTION))


def _put_text(canvas: np.ndarray, text: str, origin: Tuple[int, int],
              colour: Tuple[int, int, int], scale: float,
              thickness: int) -> None:
    """Write ``text`` (bottom-left at ``origin``) with a dark outline."""
    text = _ascii_line(text)
    cv2.putText(canvas, text, origin, TEXT_FONT, scale, OUTLINE_BGR,
                thickness + TEXT_OUTLINE_EXTRA, cv2.LINE_AA)
    cv2.putText(canvas, text, origin, TEXT_FONT, scale, colour, thickness,
                cv2.LINE_AA)


def _ascii_line(text: str) -> str:
    """``text`` in the Hershey fonts' ASCII, on one line, cut to
    :data:`BOX_MAX_LINE_CHARS`."""
    text = ' '.join(str(text).split())
    text = text.encode('ascii', 'replace').decode('ascii')
    if len(text) > BOX_MAX_LINE_CHARS:
        text = text[:BOX_MAX_LINE_CHARS - 3] + '...'
    return text


def _format_value(value: float, unit: str) -> str:
    """``97 deg``, ``0.25 fraction``: degrees whole, others 2 decimals."""
    decimals = 0 if unit == 'deg' else VALUE_DECIMALS
    return f'{float(value):.{decimals}f} {unit}'.rstrip()


def _words(name: str) -> str:
    """``knee_flexion`` -> ``knee flexion``."""
    return name.replace('_', ' ')


def _check_key_index(analysis: Analysis) -> None:
    """ValueError unless the key index is inside the track."""
    if not 0 <= analysis.key_index < len(analysis.track.times):
        raise ValueError(f'key index {analysis.key_index} is outside the '
                         f'track ({len(analysis.track.times)} frames)')


# ---------------------------------------------------------------------------
# Video frame
# ---------------------------------------------------------------------------


def read_video_frame(path: str, frame_index: int) -> Optional[np.ndarray]:
    """One frame of a video file, numbered like the keypoint files.

    Seeks with ``CAP_PROP_POS_FRAMES``; when the capture reports a position
    other than ``frame_index`` after the seek, or the read fails, reads
    from the start instead, counting one frame per ``grab()`` like
    :class:`pose.video_io.FrameReader` counts one per ``read()``.  Frames
    are turned upright like the reader's (``CAP_PROP_ORIENTATION_AUTO``).

    Returns:
        (H, W, 3) uint8 BGR, or None when the file cannot be opened or has
        no such (decodable) frame.
    """
    if frame_index < 0 or not os.path.isfile(path):
        return None
    capture = _open_video(path)
    if capture is None:
        return None
    try:
        capture.set(cv2.CAP_PROP_POS_FRAMES, frame_index)
        if int(capture.get(cv2.CAP_PROP_POS_FRAMES)) == frame_index:
            ok, image = capture.read()
            if ok and image is not None:
                return image
    finally:
        capture.release()
    return _read_sequentially(path, frame_index)


def _open_video(path: str):
    """An opened FFmpeg capture of ``path`` (frames upright), or None."""
    capture = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
    if not capture.isOpened():
        capture.release()
        return None
    capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    return capture


def _read_sequentially(path: str, frame_index: int) -> Optional[np.ndarray]:
    """Frame ``frame_index`` by grabbing every frame before it, or None."""
    capture = _open_video(path)
    if capture is None:
        return None
    try:
        failed_run = 0
        for _ in range(frame_index):
            if capture.grab():
                failed_run = 0
                continue
            failed_run += 1
            if failed_run > MAX_FAILED_RUN:
                return None
        ok, image = capture.read()
        return image if ok and image is not None else None
    finally:
        capture.release()


# ---------------------------------------------------------------------------
# Writing the report
# ---------------------------------------------------------------------------


def report_paths(out_dir: str, stem: str) -> Dict[str, str]:
    """``{'json', 'plot', 'image'}`` -> the report's file paths in
    ``out_dir``; FmsError unless ``stem`` is a plain file name stem."""
    if (not stem or stem in ('.', '..') or os.sep in stem
            or (os.altsep and os.altsep in stem)):
        raise FmsError(f'report name {stem!r} must be a file name without '
                       'folders; give the folder as the output directory')
    return {'json': os.path.join(out_dir, stem + JSON_SUFFIX),
            'plot': os.path.join(out_dir, stem + PLOT_SUFFIX),
            'image': os.path.join(out_dir, stem + KEY_FRAME_SUFFIX)}


def write_report(analysis: Analysis, subject: str, out_dir: str, stem: str,
                 image: Optional[np.ndarray] = None,
                 frame_size: Optional[Tuple[int, int]] = None, *,
                 input_paths: Sequence[str] = ()) -> Dict[str, str]:
    """Write the JSON result, the curve plot and the key frame image.

    Files (``out_dir`` is created if needed): ``<stem>.json``
    (:func:`fms.results.result_document`, indented, UTF-8),
    ``<stem>_angles.png`` (:func:`plot_curves`) and ``<stem>_key_frame.png``
    (:func:`key_frame_image` of ``image`` or a canvas of ``frame_size``).
    Everything is rendered before anything is written; each file is
    written atomically, and when one fails the files this call had
    created are removed again.

    Args:
        analysis, subject: what :func:`fms.results.result_document` takes.
        out_dir: the output folder.
        stem: file name stem of the three files, e.g. ``'anna_deep_squat'``.
        image: the key frame's video frame, (H, W, 3) uint8 BGR, or None.
        frame_size: ``(width, height)`` of the video frames, or None.
        input_paths: further input files (the video) that must not be
            overwritten; the track's source file is always protected.

    Returns:
        ``{'json': path, 'plot': path, 'image': path}``.

    Raises:
        FmsError: a bad stem, an output that would overwrite an input, or
            a folder or file that cannot be created or written.
    """
    paths = report_paths(out_dir, stem)
    protected = [p for p in (analysis.track.source, *input_paths) if p]
    for path in paths.values():
        for source in protected:
            if same_file(path, source):
                raise FmsError(f'{path} would overwrite the input {source}; '
                               'choose another output directory or name')
    document = result_document(analysis, subject)
    contents = {
        'json': (json.dumps(document, indent=2, ensure_ascii=False,
                            allow_nan=False) + '\n').encode('utf-8'),
        'plot': plot_curves(analysis),
        'image': _png(key_frame_image(analysis, image, frame_size)),
    }
    _make_folder(out_dir)
    _write_all(paths, contents)
    return paths


def _png(image: np.ndarray) -> bytes:
    """PNG bytes of a BGR uint8 image."""
    ok, encoded = cv2.imencode('.png', image)
    if not ok:
        raise FmsError('cannot encode the key frame image as PNG')
    return encoded.tobytes()


def _make_folder(out_dir: str) -> None:
    """Create ``out_dir`` (and its parents) or raise FmsError."""
    try:
        os.makedirs(out_dir, exist_ok=True)
    except FileExistsError as e:
        raise FmsError(f'{out_dir}: exists and is not a folder; choose '
                       'another output directory') from e
    except OSError as e:
        raise FmsError(f'{out_dir}: cannot create the output folder '
                       f'({e.strerror}); choose another one') from e


def _write_all(paths: Dict[str, str], contents: Dict[str, bytes]) -> None:
    """Write each ``contents[key]`` to ``paths[key]`` atomically; on a
    failure remove the files created so far and raise FmsError."""
    created: List[str] = []
    try:
        for key, path in paths.items():
            existed = os.path.exists(path)
            write_atomic(path, contents[key])
            if not existed:
                created.append(path)
    except OSError as e:
        for path in created:
            try:
                os.remove(path)
            except OSError:
                pass
        raise FmsError(f'{e.filename or path}: cannot write the report '
                       f'({e.strerror}); check the output directory and '
                       'free space') from e
