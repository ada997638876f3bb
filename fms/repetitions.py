"""The repetitions of a trial: separate excursions of its driving curve.

FMS gives up to three repetitions of a test (per side) and scores the best
one, so a clip is cut into its repetitions before they are judged.  Each
test has one *driving curve*, the one its key frame comes from (hip height
for the squat and lunge, the stepping ankle's height for the hurdle step,
the fist distance for shoulder mobility, ...: :mod:`fms.movements`), and
an *extreme* direction (largest, or smallest for the fist distance).

The rule (:func:`find_repetitions`), all array operations:

1. The curve is oriented so that the extreme is the largest value, its
   missing frames are interpolated and it is smoothed with a centred moving
   average of :data:`SMOOTH_FRAMES` frames (for finding repetitions only:
   the measurements use the analysis' own curves).
2. It is normalised to its range over the clip: 0 at the least extreme
   frame, 1 at the most extreme one.
3. Hysteresis: a repetition begins where the level reaches
   :data:`ENTER_LEVEL` and lasts until it falls to :data:`EXIT_LEVEL`
   (each frame takes the state of the last frame that was at or beyond
   either level: a running maximum of indices).  A repetition must thus
   come back at least ``ENTER_LEVEL - EXIT_LEVEL`` of the clip's range
   before the next one counts, which noise and a pause or bounce at the
   bottom do not do.
4. Two repetitions whose extremes are closer than the minimum separation
   (:data:`MIN_SEPARATION_S`, in frames by :func:`separation_frames`) are
   one.
5. Each repetition spans from the frame after the previous repetition's
   boundary to its own boundary: the least extreme frame (of the smoothed
   curve) between it and the next repetition; the first starts at frame 0,
   the last ends at the last frame.  Its key index is the most extreme
   finite frame of the unsmoothed curve in its span (so a clip of one
   repetition keeps the key frame of the whole clip).

A clip whose curve never changes (or has one finite value) is one
repetition over all its frames.
"""
from __future__ import annotations

import dataclasses
import math
from typing import List

import numpy as np

#: Frames of the moving average that smooths the driving curve before
#: repetitions are looked for (about 0.17 s at 30 fps: removes the
#: keypoints' frame-to-frame jitter, far shorter than a repetition).
SMOOTH_FRAMES = 5
#: Level (fraction of the clip's range, from the least extreme frame) a
#: repetition must reach: a repetition at least 60% as deep as the deepest
#: one of the clip.  A shallower excursion is not a repetition of the
#: pattern but a partial one, which could look falsely clean (a smaller
#: lift sags less), so it is not a candidate for the best repetition.
ENTER_LEVEL = 0.6
#: Level the curve must come back to between two repetitions (the subject
#: returns most of the way to the start position, as FMS repetitions do):
#: the 0.3 of the range between this and :data:`ENTER_LEVEL` is far more
#: than keypoint noise or a bounce at the bottom.
EXIT_LEVEL = 0.3
#: Least time between the extremes of two repetitions, in seconds: a
#: repetition of any FMS test takes well over a second, so two extremes
#: closer than this are one repetition seen twice (a glitch).
MIN_SEPARATION_S = 0.5


@dataclasses.dataclass(frozen=True)
class Span:
    """One repetition: indices into the track's arrays of its first and
    last frames (inclusive) and of its key frame."""
    first: int
    last: int
    key: int


def separation_frames(times: np.ndarray) -> int:
    """:data:`MIN_SEPARATION_S` in frames at the clip's frame rate (the
    median time step; 1 when the times do not tell)."""
    steps = np.diff(np.asarray(times, np.float64))
    steps = steps[np.isfinite(steps) & (steps > 0)]
    if not steps.size:
        return 1
    # rounded first: 0.5 s / (1/30 s) is 15.000000000000002 in floats
    frames = round(MIN_SEPARATION_S / float(np.median(steps)), 6)
    return max(1, int(math.ceil(frames)))


def _smoothed(curve: np.ndarray) -> np.ndarray:
    """``curve`` with its NaN interpolated (ends held) and smoothed by a
    centred moving average of :data:`SMOOTH_FRAMES` (edges held)."""
    t = np.arange(len(curve))
    finite = np.isfinite(curve)
    filled = np.interp(t, t[finite], curve[finite])
    half = SMOOTH_FRAMES // 2
    padded = np.pad(filled, half, mode='edge')
    kernel = np.full(SMOOTH_FRAMES, 1.0 / SMOOTH_FRAMES)
    return np.convolve(padded, kernel, mode='valid')


def _cores(level: np.ndarray) -> List[List[int]]:
    """``[start, end]`` (inclusive) of each run of frames inside a
    repetition by the hysteresis of :data:`ENTER_LEVEL` and
    :data:`EXIT_LEVEL`."""
    label = np.where(level >= ENTER_LEVEL, 1,
                     np.where(level <= EXIT_LEVEL, 0, -1))
    index = np.where(label >= 0, np.arange(len(level)), -1)
    last = np.maximum.accumulate(index)
    inside = np.where(last >= 0, label[np.maximum(last, 0)], 0) == 1
    edges = np.diff(np.concatenate([[0], inside.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [[int(s), int(e) - 1] for s, e in zip(starts, ends)]


def find_repetitions(curve: np.ndarray, largest: bool,
                     min_separation: int = 1) -> List[Span]:
    """The repetitions of a clip from its driving ``curve`` ((T,), NaN
    where not measured), the extreme being its ``largest`` (else smallest)
    values, by the rule of the module docstring; ``min_separation`` is the
    least number of frames between two repetitions' extremes
    (:func:`separation_frames`).

    Returns:
        The :class:`Span` of each repetition in time order (at least one:
        the whole clip when the curve never changes).

    Raises:
        ValueError: a curve without a finite value.
    """
    curve = np.asarray(curve, np.float64)
    oriented = curve if largest else -curve
    finite = np.isfinite(oriented)
    if not finite.any():
        raise ValueError('the driving curve has no finite value')
    raw = np.where(finite, oriented, -np.inf)
    frames = len(curve)
    smooth = _smoothed(oriented)
    low, high = smooth.min(), smooth.max()
    if not high > low:
        return [Span(0, frames - 1, int(np.argmax(raw)))]
    cores = _cores((smooth - low) / (high - low))
    merged = [cores[0]]
    for start, end in cores[1:]:
        previous = merged[-1]
        peak_a = previous[0] + int(np.argmax(smooth[previous[0]:
                                                    previous[1] + 1]))
        peak_b = start + int(np.argmax(smooth[start:end + 1]))
        if peak_b - peak_a < min_separation:
            previous[1] = end
        else:
            merged.append([start, end])
    bounds = [int(end + np.argmin(smooth[end:start + 1]))
              for (_, end), (start, _) in zip(merged, merged[1:])]
    firsts = [0] + [b + 1 for b in bounds]
    lasts = bounds + [frames - 1]
    spans = []
    for first, last in zip(firsts, lasts):
        window = raw[first:last + 1]
        if np.isfinite(window).any():
            key = first + int(np.argmax(window))
        else:
            key = first + int(np.argmax(smooth[first:last + 1]))
        spans.append(Span(first, last, key))
    return spans
