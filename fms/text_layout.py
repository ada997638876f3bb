"""Text on images: font size for an image, outlined text, boxes of lines.

Positions are ``(x, y)`` image pixels (x right, y down); a text's origin is
the bottom-left of its first character, as OpenCV writes it.  Colours are
BGR.  A *style* is ``(font_scale, thickness)``; a box of lines is a list of
``(text, colour)``.
"""
from __future__ import annotations

import dataclasses
from typing import List, Tuple

import cv2
import numpy as np

BGR = Tuple[int, int, int]
Style = Tuple[float, int]
Lines = List[Tuple[str, BGR]]

#: Hershey font, its scale and stroke at an image whose longer side is
#: ``TEXT_REFERENCE_SIDE`` pixels (both grow linearly with it), the
#: smallest scale used when shrinking a box to fit, the extra stroke of the
#: dark outline, and the gap between lines as a fraction of the text height.
TEXT_FONT = cv2.FONT_HERSHEY_SIMPLEX
TEXT_REFERENCE_SIDE = 640
TEXT_SCALE_AT_REFERENCE = 0.45
TEXT_THICKNESS_AT_REFERENCE = 1
TEXT_MIN_SCALE = 0.3
TEXT_OUTLINE_EXTRA = 2
TEXT_LINE_GAP_FRACTION = 0.5
OUTLINE_BGR: BGR = (0, 0, 0)

#: Box: background, its opacity over the image, and its padding in text
#: heights; lines longer than this many characters are cut with '...'.
BOX_BGR: BGR = (0, 0, 0)
BOX_OPACITY = 0.6
BOX_PADDING_LINES = 0.6
BOX_MAX_LINE_CHARS = 80


def text_style(image_size: Tuple[int, int]) -> Style:
    """``(font_scale, thickness)`` for an image ``(height, width)``."""
    factor = max(image_size) / TEXT_REFERENCE_SIDE
    return (max(TEXT_MIN_SCALE, TEXT_SCALE_AT_REFERENCE * factor),
            max(1, round(TEXT_THICKNESS_AT_REFERENCE * factor)))


def line_height(scale: float, thickness: int) -> int:
    """Pixels from one text line's baseline to the next."""
    (_, text_height), baseline = cv2.getTextSize('Ag', TEXT_FONT, scale,
                                                 thickness)
    return round((text_height + baseline) * (1 + TEXT_LINE_GAP_FRACTION))


def ascii_line(text: str) -> str:
    """``text`` in the Hershey fonts' ASCII, on one line, cut to
    :data:`BOX_MAX_LINE_CHARS`."""
    text = ' '.join(str(text).split())
    text = text.encode('ascii', 'replace').decode('ascii')
    if len(text) > BOX_MAX_LINE_CHARS:
        text = text[:BOX_MAX_LINE_CHARS - 3] + '...'
    return text


def put_text(canvas: np.ndarray, text: str, origin: Tuple[int, int],
             colour: BGR, scale: float, thickness: int) -> None:
    """Write ``text`` (bottom-left at ``origin``) with a dark outline on the
    (H, W, 3) uint8 BGR ``canvas``, in place."""
    text = ascii_line(text)
    cv2.putText(canvas, text, origin, TEXT_FONT, scale, OUTLINE_BGR,
                thickness + TEXT_OUTLINE_EXTRA, cv2.LINE_AA)
    cv2.putText(canvas, text, origin, TEXT_FONT, scale, colour, thickness,
                cv2.LINE_AA)


def text_corners(text: str, origin: Tuple[int, int],
                 style: Style) -> np.ndarray:
    """(2, 2) ``(x, y)`` of the top-left and bottom-right of written text."""
    (width, height), baseline = cv2.getTextSize(text, TEXT_FONT, *style)
    x, y = origin
    return np.array([[x, y - height], [x + width, y + baseline]], np.float64)


def overlap(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two boxes (2, 2) ``[[left, top], [right, bottom]]`` meet."""
    return bool((a[0] < b[1]).all() and (b[0] < a[1]).all())


@dataclasses.dataclass
class BoxLayout:
    """Font and size in pixels of a box of lines."""
    scale: float
    thickness: int
    line_height: int
    pad: int
    size: Tuple[int, int]      # (width, height)


def box_layout(lines: Lines, style: Style,
               image_size: Tuple[int, int]) -> BoxLayout:
    """The box's layout at ``style``, shrunk (down to
    :data:`TEXT_MIN_SCALE`) to fit an image ``(height, width)``."""
    height, width = image_size
    scale, thickness = style
    for _ in range(2):                 # measure, shrink once, measure again
        widest = max(cv2.getTextSize(text, TEXT_FONT, scale, thickness)[0][0]
                     for text, _ in lines)
        step = line_height(scale, thickness)
        pad = round(BOX_PADDING_LINES * step)
        fit = min((width - 4 * pad) / max(1, widest),
                  (height - 4 * pad) / max(1, step * len(lines)))
        if fit >= 1 or scale <= TEXT_MIN_SCALE:
            break
        scale = max(TEXT_MIN_SCALE, scale * fit)
    return BoxLayout(scale, thickness, step, pad,
                     (widest + 2 * pad, step * len(lines) + 2 * pad))


def draw_box(canvas: np.ndarray, lines: Lines, style: Style,
             occupied: np.ndarray) -> None:
    """Draw the box of ``lines`` on ``canvas`` (in place), in the image
    corner covering the fewest of the ``occupied`` (N, 2) ``(x, y)``
    points (keypoints, label corners)."""
    height, width = canvas.shape[:2]
    layout = box_layout(lines, style, (height, width))
    x0, y0 = emptiest_corner((width, height), layout.size, layout.pad,
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
        put_text(canvas, text, origin, colour, layout.scale,
                 layout.thickness)


def emptiest_corner(image_size: Tuple[int, int], box_size: Tuple[int, int],
                    pad: int, xy: np.ndarray) -> Tuple[int, int]:
    """Top-left ``(x, y)`` of the box in the image corner (top-left first)
    that covers the fewest of the (N, 2) ``(x, y)`` points ``xy``; image
    and box sizes are ``(width, height)``."""
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
