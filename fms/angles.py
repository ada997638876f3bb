"""Plane geometry of keypoints over time, in image pixels.

Every function takes (T, 2) float64 arrays of ``(x, y)`` image pixels (x to
the right, y down, as the keypoint files store them; a single (2,) point
works too) and returns (T,) float64 values; a NaN coordinate anywhere in
the inputs of a frame gives NaN for that frame.  Angles are in degrees.

"Up" is the image's up (decreasing y), so the camera must be level for
angles to the vertical or the horizontal to mean what they say.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from entity import JOINT_INDEX
from fms import FmsError
from fms.protocol import SIDES

#: The joint-name prefix of each side (entity.JOINT_NAMES: 'LHip', 'RHip').
SIDE_PREFIX = {'left': 'L', 'right': 'R'}


def _xy(points) -> np.ndarray:
    return np.asarray(points, np.float64)


def _norm(vectors: np.ndarray) -> np.ndarray:
    return np.hypot(vectors[..., 0], vectors[..., 1])


def other_side(side: str) -> str:
    """'left' for 'right' and the reverse."""
    return SIDES[1 - SIDES.index(side)]


def joint_name(name: str, side: Optional[str] = None) -> str:
    """The :data:`entity.JOINT_NAMES` name of ``name`` on ``side``.

    ``joint_name('Hip', 'left') == 'LHip'``; without a side, ``name`` must
    be a full joint name (``'Neck'``, ``'RKnee'``).
    """
    full = name if side is None else SIDE_PREFIX.get(side, '?') + name
    if full not in JOINT_INDEX:
        raise FmsError(f'unknown joint {name!r} (side {side!r}): use a name '
                       f'of entity.JOINT_NAMES, or Hip/Knee/... with side '
                       f'left or right')
    return full


def joint(track_xy: np.ndarray, name: str,
          side: Optional[str] = None) -> np.ndarray:
    """(T, 2) ``(x, y)`` of one joint from (T, 18, 2) keypoints; ``name``
    and ``side`` as for :func:`joint_name`."""
    return _xy(track_xy)[..., JOINT_INDEX[joint_name(name, side)], :]


def mean_point(*points: np.ndarray) -> np.ndarray:
    """(T, 2) mean of the given (T, 2) points that are found in each frame
    (NaN only where none is): e.g. the two hips of a side view."""
    stack = np.stack([_xy(p) for p in points])
    found = np.isfinite(stack).all(axis=-1, keepdims=True)
    count = found.sum(axis=0)
    total = np.where(found, stack, 0.0).sum(axis=0)
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def midpoint(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(T, 2) midpoint of ``a`` and ``b`` (NaN where either is missing)."""
    return (_xy(a) + _xy(b)) / 2.0


def distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(T,) Euclidean distance in pixels between ``a`` and ``b``."""
    return _norm(_xy(b) - _xy(a))


def interior_angle(a: np.ndarray, vertex: np.ndarray,
                   c: np.ndarray) -> np.ndarray:
    """(T,) angle at ``vertex`` between the rays vertex->a and vertex->c,
    in [0, 180] degrees (180 = the three points on a straight line)."""
    u, v = _xy(a) - _xy(vertex), _xy(c) - _xy(vertex)
    cross = u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0]
    dot = (u * v).sum(axis=-1)
    return np.degrees(np.arctan2(np.abs(cross), dot))


def flexion(a: np.ndarray, vertex: np.ndarray, c: np.ndarray) -> np.ndarray:
    """(T,) flexion at ``vertex``: 180 - :func:`interior_angle`, in [0, 180]
    degrees; 0 = straight (e.g. knee flexion = flexion(hip, knee, ankle))."""
    return 180.0 - interior_angle(a, vertex, c)


def segment_angle(a_start: np.ndarray, a_end: np.ndarray,
                  b_start: np.ndarray, b_end: np.ndarray) -> np.ndarray:
    """(T,) unsigned angle in [0, 180] degrees between the vectors
    a_start->a_end and b_start->b_end (e.g. the leg raise: raised hip->ankle
    against the down leg's hip->ankle)."""
    u, v = _xy(a_end) - _xy(a_start), _xy(b_end) - _xy(b_start)
    cross = u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0]
    return np.degrees(np.arctan2(np.abs(cross), (u * v).sum(axis=-1)))


def inclination(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """(T,) unsigned angle in [0, 180] degrees between the vector
    lower->upper and the image's up direction (0, -1): 0 = ``upper``
    straight above ``lower``, 90 = level.  E.g. trunk inclination =
    inclination(hip, shoulder), tibia inclination = inclination(ankle,
    knee).  Leaning forward and backward give the same value."""
    d = _xy(upper) - _xy(lower)
    return np.degrees(np.arctan2(np.abs(d[..., 0]), -d[..., 1]))


def angle_below_horizontal(point: np.ndarray,
                           reference: np.ndarray) -> np.ndarray:
    """(T,) signed angle in [-90, 90] degrees of the segment reference->point
    to the horizontal, positive when ``point`` is lower in the image (larger
    y) than ``reference``.  Femur angle = angle_below_horizontal(hip, knee):
    positive when the hip is below the knee ("femur below horizontal"),
    0 with the thigh level, -90 standing.  Its absolute value is the tilt of
    any segment from the horizontal (e.g. the shoulder line)."""
    d = _xy(point) - _xy(reference)
    return np.degrees(np.arctan2(d[..., 1], np.abs(d[..., 0])))


def projection_fraction(point: np.ndarray, start: np.ndarray,
                        end: np.ndarray) -> np.ndarray:
    """(T,) where the perpendicular from ``point`` meets the line through
    start->end, as a fraction of the segment: 0 at ``start``, 1 at ``end``,
    below 0 or above 1 outside the segment; NaN for a zero-length segment.
    E.g. the ASLR ankle position = projection_fraction(raised ankle, down
    knee, down hip): 0 at the knee joint line, 0.5 mid-thigh, 1 the hip."""
    p, s, e = _xy(point), _xy(start), _xy(end)
    d = e - s
    length2 = (d * d).sum(axis=-1)
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(length2 > 0, ((p - s) * d).sum(axis=-1) / length2,
                        np.nan)


def horizontal_offset(a: np.ndarray, b: np.ndarray, start: np.ndarray,
                      end: np.ndarray) -> np.ndarray:
    """(T,) unsigned horizontal distance ``|x_a - x_b|`` in lengths of the
    reference segment start->end (e.g. the dowel-over-feet offset: wrists'
    midpoint from the ankle, in tibia lengths)."""
    length = distance(start, end)
    offset = np.abs(_xy(a)[..., 0] - _xy(b)[..., 0])
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(length > 0, offset / length, np.nan)


def medial_offset(knee: np.ndarray, ankle: np.ndarray, hip: np.ndarray,
                  other_hip: np.ndarray) -> np.ndarray:
    """(T,) frontal-plane horizontal offset of the knee from the ankle
    toward the body's midline, in hip widths: ``(x_knee - x_ankle) *
    sign(x_other_hip - x_hip) / |x_other_hip - x_hip|``.  Positive = knee
    inside the foot (valgus), negative = outside (varus); NaN where the hip
    width is 0."""
    knee, ankle, hip, other_hip = map(_xy, (knee, ankle, hip, other_hip))
    across = other_hip[..., 0] - hip[..., 0]
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(across != 0, (knee[..., 0] - ankle[..., 0])
                        * np.sign(across) / np.abs(across), np.nan)


def frontal_knee_deviation(hip: np.ndarray, knee: np.ndarray,
                           ankle: np.ndarray,
                           other_hip: np.ndarray) -> np.ndarray:
    """(T,) signed frontal-plane deviation of the knee from the hip-ankle
    line, in degrees: magnitude = :func:`flexion` (hip, knee, ankle), sign
    positive when the knee lies on the same side of the line hip->ankle as
    ``other_hip`` (toward the midline: valgus) and negative when it lies
    outside (varus).  0 = hip, knee and ankle aligned."""
    hip, knee, ankle, other_hip = map(_xy, (hip, knee, ankle, other_hip))
    line = ankle - hip

    def side_of(point):
        rel = point - hip
        return np.sign(line[..., 0] * rel[..., 1] - line[..., 1] * rel[..., 0])
    sign = np.where(side_of(knee) == side_of(other_hip), 1.0, -1.0)
    return sign * flexion(hip, knee, ankle)
