"""What the measuring functions of the FMS tests share: the record of what
a test measures (:class:`Measures`), the checks that the clip holds the
movement and the side given, the key frames and repetitions of a driving
curve, and the anchors of the trunk measures.

Points are (T, 2) float64 arrays of image ``(x, y)`` per frame, NaN where
the joint is missing; curves are (T,) float64.
"""
from __future__ import annotations

import dataclasses
from typing import Dict, List, Mapping, Optional, Tuple

import numpy as np

from common.numbers import finite_or_none
from fms import FmsError
from fms import angles as geo
from fms.measurements import CENTRAL, Anchor, Measurement, Measurements
from fms.repetitions import Span, find_repetitions, separation_frames
from fms.sequence import Track

#: The detected moving side must do the movement at least this many times
#: more than the other side for a ``--side`` mismatch to be an error.
SIDE_MARGIN = 2.0
#: Least movement of a trial, else the clip is refused (our choice, well
#: below the movements of a real trial): the hip lowers this many trunk
#: lengths (deep squat, in-line lunge).
MIN_HIP_DROP_TRUNKS = 0.15

#: Anchors of the trunk measures: between the hips, and at the neck (for a
#: second trunk value of the same trial).
TRUNK = Anchor('Hip', CENTRAL)
NECK = Anchor('Neck', CENTRAL)

FULL_BODY = 'film the whole body, feet included, from the {view}'

#: Threshold lines of curves: curve -> [(label, threshold key)].
Lines = Dict[str, List[Tuple[str, str]]]


@dataclasses.dataclass
class Measures:
    """What a test's measuring function finds (see
    :data:`fms.movements.MEASURES`): curves (name -> (T,) float64) with
    their units, the repetitions (:class:`fms.repetitions.Span`) and how
    their key frames were chosen, the measurement records of each
    repetition (in the same order), and the threshold lines of the curves
    (curve -> [(label, threshold key)])."""
    curves: Dict[str, np.ndarray]
    units: Dict[str, str]
    spans: List[Span]
    key_reason: str
    measurements: List[Measurements]
    lines: Lines
    notes: List[str] = dataclasses.field(default_factory=list)


def mid(xy: np.ndarray, name: str) -> np.ndarray:
    """(T, 2) mean of the left and right ``name`` joints found."""
    return geo.mean_point(geo.joint(xy, name, 'left'),
                          geo.joint(xy, name, 'right'))


def require(points: Mapping[str, np.ndarray], test: str, view: str,
            framing: str) -> None:
    """FmsError naming the points (name -> (T, 2)) never found."""
    missing = [name for name, p in points.items()
               if not np.isfinite(p).all(axis=-1).any()]
    if missing:
        raise FmsError(f'{test} ({view} view): {", ".join(missing)} never '
                       f'found: {framing}')


def find_key(curve: np.ndarray, largest: bool, what: str) -> int:
    """Index of the largest (or smallest) finite value of ``curve``."""
    if not np.isfinite(curve).any():
        raise FmsError(f'cannot find the key frame: {what} never measured; '
                       f'check the joints are in the frame')
    filled = np.where(np.isfinite(curve), curve,
                      -np.inf if largest else np.inf)
    return int(np.argmax(filled) if largest else np.argmin(filled))


def repetitions(track: Track, curve: np.ndarray, largest: bool,
                what: str) -> List[Span]:
    """The repetitions of the clip from its driving ``curve`` (extreme:
    ``largest`` or smallest), :func:`fms.repetitions.find_repetitions`;
    FmsError (as :func:`find_key`'s) when the curve is never measured."""
    find_key(curve, largest, what)
    return find_repetitions(curve, largest, separation_frames(track.times))


def at(curves: Mapping[str, np.ndarray], units: Mapping[str, str],
       key: int, anchors: Mapping[str, Anchor]) -> Measurements:
    """The records of the curves named in ``anchors`` at frame ``key``,
    each with its curve's unit and its anchor."""
    return {name: Measurement(curves[name][key], units[name], anchor)
            for name, anchor in anchors.items()}


def nan_stat(function, values: np.ndarray) -> Optional[float]:
    """``function`` (np.nanmax, ...) of the finite values, None if none."""
    finite = values[np.isfinite(values)]
    return finite_or_none(function(finite)) if finite.size else None


def trunk_length(xy: np.ndarray) -> float:
    """Median hip-to-shoulder distance (mid points) in pixels, the scale of
    the movement checks (NaN when never found)."""
    d = geo.distance(mid(xy, 'Hip'), mid(xy, 'Shoulder'))
    return float(np.nanmedian(d)) if np.isfinite(d).any() else float('nan')


def farthest_travel(points: np.ndarray, length: float) -> float:
    """How far (T, 2) ``points`` get from their median position, in units
    of ``length`` pixels (0 when never found)."""
    centre = np.nanmedian(points, axis=0)
    return (nan_stat(np.max, geo.distance(points, centre)) or 0.0) / length


def moved(test: str, amount: Optional[float], least: float,
          missing: str) -> None:
    """FmsError naming the movement ``missing`` when ``amount`` (None: not
    measured) is below ``least``: a clip without the tested pattern."""
    if amount is not None and np.isfinite(amount) and amount < least:
        raise FmsError(f'{test}: {missing} in this clip: give a keypoint '
                       f'file or video of the whole trial')


def check_moving_side(test: str, given: str, scores: Mapping[str, float],
                      what: str, least: float = 0.1) -> None:
    """FmsError when the movement shows the other side than ``given``:
    ``scores`` (side -> how much that side does the movement, in body
    units) must favour the other side clearly (:data:`SIDE_MARGIN` times,
    and by at least ``least``) for the check to speak."""
    other = geo.other_side(given)
    mine, theirs = scores.get(given), scores.get(other)
    if mine is None or theirs is None or not np.isfinite(theirs):
        return
    mine = mine if np.isfinite(mine) else 0.0
    if theirs > SIDE_MARGIN * max(mine, 0.0) and theirs - mine > least:
        raise FmsError(f'{test}: the movement shows the {other} side ({what} '
                       f'is the {other} one), but --side {given} was given: '
                       f'run with --side {other}')
