"""Temporal smoothing of tracked keypoints: the One-Euro filter.

The One-Euro filter (Casiez, Roussel and Vogel, "1 Euro Filter: A Simple
Speed-based Low-pass Filter for Noisy Input in Interactive Systems", CHI
2012) is a first-order low-pass filter whose cutoff frequency rises with
the speed of the signal: slow movements are smoothed hard (little jitter),
fast ones lightly (little lag).  Per sample, with ``dt`` the seconds since
the last one::

    alpha(fc) = 1 / (1 + tau / dt),  tau = 1 / (2 pi fc)
    dx_hat = alpha(d_cutoff) * (x - x_hat_prev) / dt
             + (1 - alpha(d_cutoff)) * dx_hat_prev
    fc     = min_cutoff + beta * |dx_hat|
    x_hat  = alpha(fc) * x + (1 - alpha(fc)) * x_hat_prev

Units here: positions in image pixels, times in seconds (the frames'
times, so a video's frame rate and skipped frames are taken into account),
cutoffs in hertz, ``beta`` in hertz per pixel/second.

:class:`OneEuroFilter` filters the (x, y) of all keypoints of one person
at once; :class:`PoseSmoother` keeps one filter per tracked person id for
the body joints, one for the face and one for the hands.  A keypoint that
goes missing is left missing (never invented) and its filter restarts from
its next measurement; a person who disappears loses their filters.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from pose.detection import Detection

#: Cutoff frequency (Hz) at zero speed: the smoothing of a still joint.
#: 1 Hz is the starting value Casiez et al. recommend (CHI 2012, section
#: "Parameter tuning"; the defaults of their reference implementation).
MIN_CUTOFF_HZ = 1.0

#: Increase of the cutoff per pixel/second of speed (Hz per px/s).  The
#: authors' reference demo uses 0.007 for pointer positions in pixels;
#: a joint moving at 300 px/s then gets a 3.1 Hz cutoff (about 50 ms lag).
BETA = 0.007

#: Cutoff frequency (Hz) of the speed estimate itself: 1 Hz as in the paper.
D_CUTOFF_HZ = 1.0


def smoothing_factor(cutoff: np.ndarray, dt: float) -> np.ndarray:
    """``alpha`` of an exponential filter with cutoff frequency ``cutoff``
    (Hz, any shape) sampled every ``dt`` seconds."""
    tau = 1.0 / (2.0 * math.pi * np.asarray(cutoff, np.float64))
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """One-Euro filter over K points of 2 coordinates, each point
    independent (its own speed, its own restarts).

    Args:
        min_cutoff: cutoff at zero speed, Hz.
        beta: cutoff increase per unit of speed, Hz per (pixel / second).
        d_cutoff: cutoff of the speed estimate, Hz.
    """

    def __init__(self, min_cutoff: float = MIN_CUTOFF_HZ,
                 beta: float = BETA, d_cutoff: float = D_CUTOFF_HZ):
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self._x: Optional[np.ndarray] = None       # (K, 2) filtered
        self._dx: Optional[np.ndarray] = None      # (K, 2) speed, px/s
        self._valid: Optional[np.ndarray] = None   # (K,) has a state
        self._time: Optional[float] = None

    def __call__(self, points: np.ndarray, found: np.ndarray,
                 time: float) -> np.ndarray:
        """Filter one sample.

        Args:
            points: (K, 2) float positions.
            found: (K,) bool: the points measured in this sample; the
                others are returned as given and their state is dropped.
            time: the sample's time in seconds.

        Returns:
            (K, 2) float64 filtered positions (the measurement itself where
            a point starts or restarts).
        """
        points = np.asarray(points, np.float64)
        found = np.asarray(found, bool)
        dt = None if self._time is None else time - self._time
        if dt is None or dt <= 0 or self._x is None \
                or self._x.shape != points.shape:
            self._restart(points, found, time)
            return points.copy()
        going = found & self._valid
        speed = (points - self._x) / dt
        a_d = smoothing_factor(self.d_cutoff, dt)
        dx = a_d * speed + (1 - a_d) * self._dx
        cutoff = self.min_cutoff + self.beta * np.linalg.norm(dx, axis=1)
        a = smoothing_factor(cutoff, dt)[:, None]
        smoothed = a * points + (1 - a) * self._x
        out = np.where(going[:, None], smoothed, points)
        self._x = out
        self._dx = np.where(going[:, None], dx, 0.0)
        self._valid = found.copy()
        self._time = time
        return out.copy()

    def _restart(self, points: np.ndarray, found: np.ndarray,
                 time: float) -> None:
        self._x = points.copy()
        self._dx = np.zeros_like(points)
        self._valid = found.copy()
        self._time = time


class _PersonFilters:
    """One :class:`OneEuroFilter` per tracked person id over the K
    keypoints of one part (body joints, face or hands).

    Args:
        settings: the filters' ``(min_cutoff, beta, d_cutoff)``.
    """

    def __init__(self, settings: Tuple[float, float, float]):
        self._settings = settings
        self._filters: Dict[int, OneEuroFilter] = {}

    def update(self, points: np.ndarray, ids: Sequence[int],
               time: float) -> np.ndarray:
        """The smoothed keypoints of one frame.

        Args:
            points: (N, K, 3) float32 x, y, flag or confidence (> 0 where
                found).
            ids: (N,) track ids; a negative id (untracked) is not smoothed.
            time: the frame's time in seconds.

        Returns:
            (N, K, 3) float32: a copy of ``points`` with the x, y of found
            keypoints filtered; missing keypoints and the third values
            unchanged.  People absent from this frame lose their filter.
        """
        points = np.asarray(points, np.float32)
        out = points.copy()
        filters: Dict[int, OneEuroFilter] = {}
        for row, person in enumerate(np.asarray(ids, np.int64).tolist()):
            if person < 0 or person in filters:
                continue
            one = self._filters.get(person) or OneEuroFilter(*self._settings)
            found = points[row, :, 2] > 0
            smoothed = one(points[row, :, :2], found, time)
            out[row, found, :2] = smoothed[found]
            filters[person] = one
        self._filters = filters
        return out

    def forget(self) -> None:
        """Drop every filter (a frame without this part)."""
        self._filters = {}


class PoseSmoother:
    """Smooths the keypoints of tracked people from frame to frame: body
    joints (:meth:`update`), faces and hands (:meth:`update_parts`), or
    all of a :class:`Detection` (:meth:`smooth`).

    Args:
        min_cutoff, beta, d_cutoff: the :class:`OneEuroFilter`'s.
    """

    def __init__(self, min_cutoff: float = MIN_CUTOFF_HZ,
                 beta: float = BETA, d_cutoff: float = D_CUTOFF_HZ):
        settings = (min_cutoff, beta, d_cutoff)
        self._body = _PersonFilters(settings)
        self._faces = _PersonFilters(settings)
        self._hands = _PersonFilters(settings)

    def update(self, poses: np.ndarray, ids: np.ndarray,
               time: float) -> np.ndarray:
        """The smoothed poses of one frame.

        Args:
            poses: (N, 18, 3) float32 x, y, flag (> 0 where found).
            ids: (N,) track ids; a negative id (untracked) is not smoothed.
            time: the frame's time in seconds.

        Returns:
            (N, 18, 3) float32: a copy of ``poses`` with the x, y of found
            joints filtered; missing joints and flags unchanged.  People
            absent from this frame lose their filter.
        """
        return self._body.update(poses, ids, time)

    def update_parts(self, faces: Optional[np.ndarray],
                     hands: Optional[np.ndarray], ids: np.ndarray,
                     time: float
                     ) -> Tuple[Optional[np.ndarray], Optional[np.ndarray]]:
        """The smoothed faces and hands of one frame, like :meth:`update`
        (a keypoint of score 0 is missing: left as is, its filter
        restarts).

        Args:
            faces: (N, 70, 3) float32 x, y, score, or None (not detected:
                the face filters are dropped).
            hands: (N, 2, 21, 3) float32 x, y, score of the (left, right)
                hands, or None (likewise).
            ids: (N,) track ids; a negative id (untracked) is not smoothed.
            time: the frame's time in seconds.

        Returns:
            ``(faces, hands)``: smoothed copies of the same shapes, or None
            where given None.
        """
        return (_update_part(self._faces, faces, ids, time),
                _update_part(self._hands, hands, ids, time))

    def smooth(self, detection: Detection, ids: np.ndarray,
               time: float) -> Detection:
        """``detection`` with its body joints, faces and hands smoothed
        (:meth:`update`, :meth:`update_parts`); its other fields as they
        are."""
        faces, hands = self.update_parts(detection.faces, detection.hands,
                                         ids, time)
        return dataclasses.replace(
            detection, poses=self.update(detection.poses, ids, time),
            faces=faces, hands=hands)


def _update_part(filters: _PersonFilters, points: Optional[np.ndarray],
                 ids: np.ndarray, time: float) -> Optional[np.ndarray]:
    """``filters.update`` of (N, ..., 3) ``points`` seen as (N, K, 3)
    (both hands as one set of 42 keypoints), in their own shape; None, and
    the filters dropped, for None."""
    if points is None:
        filters.forget()
        return None
    points = np.asarray(points, np.float32)
    keypoints = int(np.prod(points.shape[1:-1]))    # explicit: N may be 0
    flat = points.reshape(len(points), keypoints, points.shape[-1])
    return filters.update(flat, ids, time).reshape(points.shape)
