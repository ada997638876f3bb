"""Person ids that stay with the same person from frame to frame.

:class:`PoseTracker` gives every pose of a frame a ``person_id``: the id of
the track (the person seen in earlier frames) it continues, or a new id.
Frame by frame (:meth:`PoseTracker.update`):

1. :func:`predict` each track's pose at this frame: its last pose moved by
   its velocity (constant-velocity prediction; this is what keeps two people
   who cross each other apart: where they overlap, each one is where its own
   motion says, not where the other was a frame ago);
2. :func:`distance_matrix`: for every (track, detection) pair, the mean
   Euclidean distance over the joints found in both, divided by the
   track's size (:func:`pose_size`); pairs with too few joints in common
   cannot match;
3. :func:`greedy_assignment`: pairs by increasing distance, one detection
   per track and one track per detection, up to a maximum distance;
4. matched tracks take the detection's joints (joints the detection lacks
   keep the track's predicted value, so a track keeps its legs while the
   detector misses them), unmatched detections start new tracks, and
   unmatched tracks age and are dropped after
   :attr:`TrackerParams.max_missing_frames` frames.

Ids start at 0, each new person gets the next unused id and ids are never
reused.  Poses are the decoder's layout: (N, 18, 3) ``x, y, flag`` in
pixels, flag :data:`entity.JOINT_FOUND` or :data:`entity.JOINT_MISSING`
(then ``x = y = 0``, which is never taken as a position).  Pure NumPy.

Example::

    >>> def person(x):                  # 18 joints in a column at x
    ...     return np.array([[x, 50 + 10 * j, 2] for j in range(18)],
    ...                     np.float32)
    >>> tracker = PoseTracker()
    >>> a, b = person(100), person(400)
    >>> tracker.update(np.stack([a, b])).tolist()
    [0, 1]
    >>> b[:, 0] += 5
    >>> tracker.update(np.stack([b, a])).tolist()
    [1, 0]
"""
from __future__ import annotations

import dataclasses
from typing import List, Optional, Set, Tuple

import numpy as np

from entity import JOINT_MISSING, NUM_JOINTS

# ---------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------

#: Columns of a pose array: ``x, y`` then the flag.
XY = slice(0, 2)
FLAG = 2

#: dtype of the returned ids.
ID_DTYPE = np.int64

#: Fewest found joints that span a size (a bounding box); fewer give
#: :attr:`TrackerParams.min_size`.
MIN_JOINTS_FOR_SIZE = 2


@dataclasses.dataclass(frozen=True)
class TrackerParams:
    """Parameters of :class:`PoseTracker`; create changed copies with
    :func:`dataclasses.replace`.

    Distances are relative to a person's size: the larger side (height or
    width) of the bounding box of the track's known joints
    (:func:`pose_size`), which is the body height for an upright person and
    stays meaningful when they bend, lie down or raise their arms.  A track
    keeps the joints that a detection lacks, so its size does not shrink
    while the detector misses the legs; a person first seen with fewer than
    :data:`MIN_JOINTS_FOR_SIZE` joints, or a bounding box smaller than
    :attr:`min_size`, gets :attr:`min_size`.

    Frames are frames of the video: with ``--every N``, ``update`` is called
    with ``frames_elapsed = N`` and both the prediction and the ageing count
    the frames skipped in between.
    """

    #: Largest mean joint distance, as a fraction of the track's size, at
    #: which a detection can continue a track.  Half a body: a walking
    #: person moves about 3 % of their height per frame at 30 fps, a running
    #: one or a fast exercise move (burpee, jumping jack) about 5-10 %, and
    #: the prediction removes most of it, so 0.5 leaves room for several
    #: missed or skipped frames (``--every``) and for sudden changes of
    #: direction; while two people side by side (about 0.3 apart) are both
    #: detected, each track takes its own, nearer, detection first.
    max_distance: float = 0.5
    #: A track not matched for more than this many frames is dropped; a
    #: person missed or hidden for up to this long keeps their id.  One
    #: second at 30 fps: enough for detector misses and for someone walking
    #: past in front of the subject, short enough that a track left behind
    #: by someone who walked away does not wait long for a newcomer.  Joints
    #: of a track not seen for longer are forgotten too.
    max_missing_frames: int = 30
    #: Fewest joints found in both a detection and a track for the pair to
    #: be compared at all: one or two joints make a mean distance that a
    #: single misplaced joint decides.  Three is below the decoder's
    #: ``InferenceParams.min_person_parts`` (4), so every person the decoder
    #: returns can continue a track that knows their joints.
    min_common_joints: int = 3
    #: Predict each track's pose at the new frame with its velocity
    #: (constant-velocity model); False compares with the last pose seen.
    constant_velocity: bool = True
    #: Weight of the newest measured velocity in the track's exponential
    #: average (1: the last displacement only).  Averaging over about two
    #: frames damps the detector's jitter and still follows a person who
    #: starts, stops or turns within a few frames.
    velocity_smoothing: float = 0.5
    #: Size, in pixels, of people too small or with too few joints to
    #: measure: about the smallest person the network finds at its
    #: 368-pixel input (a few cells of its stride-8 maps).
    min_size: float = 32.0

    def __post_init__(self):
        if self.max_distance <= 0 or self.min_size <= 0:
            raise ValueError('max_distance and min_size must be positive')
        if self.max_missing_frames < 0 or self.min_common_joints < 1:
            raise ValueError('max_missing_frames must be >= 0 and '
                             'min_common_joints >= 1')
        if not 0 < self.velocity_smoothing <= 1:
            raise ValueError('velocity_smoothing must be in (0, 1]')


DEFAULT_TRACKER_PARAMS = TrackerParams()


# ---------------------------------------------------------------------------
# Pure functions
# ---------------------------------------------------------------------------


def found_joints(poses: np.ndarray) -> np.ndarray:
    """(..., 18) bool: which joints of ``poses`` ((..., 18, 3)) have a
    position (flag other than :data:`entity.JOINT_MISSING`)."""
    return poses[..., FLAG] != JOINT_MISSING


def pose_size(xy: np.ndarray, found: np.ndarray, min_size: float) -> float:
    """The larger side of the bounding box of the found joints, in pixels,
    at least ``min_size`` (also with fewer than
    :data:`MIN_JOINTS_FOR_SIZE` joints).

    Args:
        xy: (18, 2) float joint positions.
        found: (18,) bool, which of them to use.
        min_size: the floor, in pixels.
    """
    if found.sum() < MIN_JOINTS_FOR_SIZE:
        return float(min_size)
    points = xy[found]
    extent = points.max(axis=0) - points.min(axis=0)
    return float(max(extent.max(), min_size))


def predict(xy: np.ndarray, velocity: np.ndarray, frames: int) -> np.ndarray:
    """(18, 2) positions ``xy`` (18, 2) moved by ``velocity`` (2,), pixels
    per frame, over ``frames`` frames."""
    return xy + velocity * frames


def distance_matrix(track_xy: np.ndarray, track_found: np.ndarray,
                    track_sizes: np.ndarray, detection_xy: np.ndarray,
                    detection_found: np.ndarray,
                    min_common_joints: int) -> np.ndarray:
    """(T, N) float64 relative distances between T tracks and N detections.

    Entry ``[t, n]``: the mean Euclidean distance between the joints found
    in both track ``t`` and detection ``n``, divided by
    ``track_sizes[t]``; ``inf`` where fewer than ``min_common_joints``
    joints are shared.

    Args:
        track_xy: (T, 18, 2) predicted joint positions of the tracks.
        track_found: (T, 18) bool, their known joints.
        track_sizes: (T,) sizes in pixels (positive).
        detection_xy: (N, 18, 2) joint positions of the detections.
        detection_found: (N, 18) bool, their found joints.
        min_common_joints: fewest shared joints for a finite distance.
    """
    offsets = track_xy[:, None] - detection_xy[None]          # (T, N, 18, 2)
    joint_distances = np.hypot(offsets[..., 0], offsets[..., 1])
    common = track_found[:, None] & detection_found[None]     # (T, N, 18)
    counts = common.sum(axis=-1)
    total = np.where(common, joint_distances, 0.0).sum(axis=-1)
    mean = total / np.maximum(counts, 1)
    distances = mean / np.asarray(track_sizes, np.float64)[:, None]
    return np.where(counts >= max(min_common_joints, 1), distances, np.inf)


def greedy_assignment(distances: np.ndarray,
                      max_distance: float) -> List[Tuple[int, int]]:
    """``(row, column)`` pairs of ``distances`` (R, C), taken by increasing
    distance, each row and each column at most once, only distances
    ``<= max_distance``."""
    remaining = np.where(distances <= max_distance, distances, np.inf)
    pairs = []
    while remaining.size and np.isfinite(remaining).any():
        row, column = np.unravel_index(np.argmin(remaining), remaining.shape)
        pairs.append((int(row), int(column)))
        remaining[row, :] = np.inf
        remaining[:, column] = np.inf
    return pairs


def body_displacement(old_xy: np.ndarray, old_found: np.ndarray,
                      new_xy: np.ndarray,
                      new_found: np.ndarray) -> Optional[np.ndarray]:
    """(2,) median displacement from ``old_xy`` to ``new_xy`` (both (18, 2))
    over the joints found in both, or None when none is.

    The median of the joints (per axis) measures how the body moved,
    ignoring a swinging arm or a misplaced joint.
    """
    common = old_found & new_found
    if not common.any():
        return None
    return np.median(new_xy[common] - old_xy[common], axis=0)


# ---------------------------------------------------------------------------
# Tracker
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class _Track:
    """One person's state.

    ``xy`` (18, 2) float64 are the positions at the last match (joints the
    detection lacked are the prediction), ``known`` (18,) bool the joints
    with a position, ``joint_age`` (18,) int64 frames since each joint was
    detected, ``velocity`` (2,) pixels per frame, ``missing`` frames since
    the last match.
    """

    track_id: int
    xy: np.ndarray
    known: np.ndarray
    joint_age: np.ndarray
    velocity: np.ndarray = dataclasses.field(
        default_factory=lambda: np.zeros(2))
    has_velocity: bool = False
    missing: int = 0


class PoseTracker:
    """Frame-to-frame person ids (see the module docstring).

    Args:
        params: matching thresholds and the motion model.
    """

    def __init__(self, params: TrackerParams = DEFAULT_TRACKER_PARAMS):
        self.params = params
        self._tracks: List[_Track] = []
        self._next_id = 0

    @property
    def num_tracks(self) -> int:
        """The number of people tracked now (seen or briefly missing)."""
        return len(self._tracks)

    def update(self, poses: np.ndarray,
               image_size: Optional[Tuple[int, int]] = None,
               frames_elapsed: int = 1) -> np.ndarray:
        """(N,) int64 ids of the N poses of the next processed frame.

        Args:
            poses: (N, 18, 3) ``x, y, flag`` of this frame (any float
                dtype; N may be 0).
            image_size: ``(height, width)`` of the frame, optional: a track
                not matched in this frame whose predicted joints all lie
                outside the image has left it and is dropped at once, so a
                newcomer entering where they left gets a new id.
            frames_elapsed: video frames since the previous call (``N``
                with ``--every N``), at least 1: scales the prediction and
                the ageing.
        """
        if int(frames_elapsed) != frames_elapsed or frames_elapsed < 1:
            raise ValueError(f'frames_elapsed must be a positive integer, '
                             f'not {frames_elapsed!r}')
        elapsed = int(frames_elapsed)
        poses = np.asarray(poses, np.float64).reshape(-1, NUM_JOINTS, 3)
        xy, found = poses[..., XY], found_joints(poses)
        predicted = [self._predicted(track, elapsed)
                     for track in self._tracks]
        pairs = self._match(predicted, xy, found)
        ids = np.full(len(poses), -1, ID_DTYPE)
        for t, n in pairs:
            track = self._tracks[t]
            self._continue(track, predicted[t], xy[n], found[n], elapsed)
            ids[n] = track.track_id
        self._age_unmatched({t for t, _ in pairs}, predicted, image_size,
                            elapsed)
        for n in np.flatnonzero(ids < 0):
            ids[n] = self._start(xy[n], found[n])
        return ids

    # -- steps ---------------------------------------------------------------

    def _predicted(self, track: _Track, frames_elapsed: int) -> np.ndarray:
        """(18, 2) the track's pose predicted at this frame."""
        if not self.params.constant_velocity:
            return track.xy
        return predict(track.xy, track.velocity,
                       track.missing + frames_elapsed)

    def _match(self, predicted: List[np.ndarray], xy: np.ndarray,
               found: np.ndarray) -> List[Tuple[int, int]]:
        """(track index, detection index) pairs for this frame."""
        if not self._tracks or not len(xy):
            return []
        sizes = np.array([pose_size(track.xy, track.known,
                                    self.params.min_size)
                          for track in self._tracks])
        known = np.stack([track.known for track in self._tracks])
        distances = distance_matrix(np.stack(predicted), known, sizes, xy,
                                    found, self.params.min_common_joints)
        return greedy_assignment(distances, self.params.max_distance)

    def _continue(self, track: _Track, predicted: np.ndarray,
                  xy: np.ndarray, found: np.ndarray,
                  frames_elapsed: int) -> None:
        """Update ``track`` with the detection ``xy`` (18, 2), ``found``
        (18,) matched to it; ``predicted`` (18, 2) is its prediction."""
        frames = track.missing + frames_elapsed
        displacement = body_displacement(track.xy, track.known, xy, found)
        if displacement is not None:
            measured = displacement / frames
            if track.has_velocity:
                weight = self.params.velocity_smoothing
                measured = (1 - weight) * track.velocity + weight * measured
            track.velocity, track.has_velocity = measured, True
        track.joint_age = np.where(found, 0, track.joint_age + frames)
        recent = track.joint_age <= self.params.max_missing_frames
        track.known = found | (track.known & recent)
        track.xy = np.where(found[:, None], xy, predicted)
        track.missing = 0

    def _age_unmatched(self, matched: Set[int], predicted: List[np.ndarray],
                       image_size: Optional[Tuple[int, int]],
                       frames_elapsed: int) -> None:
        """Age the tracks not in ``matched`` (indices) and drop those
        missing too long or, with ``image_size``, predicted outside it."""
        kept = []
        for index, track in enumerate(self._tracks):
            if index not in matched:
                track.missing += frames_elapsed
                if (track.missing > self.params.max_missing_frames
                        or _outside(predicted[index], track.known,
                                    image_size)):
                    continue
            kept.append(track)
        self._tracks = kept

    def _start(self, xy: np.ndarray, found: np.ndarray) -> int:
        """A new track from the detection ``xy`` (18, 2), ``found`` (18,);
        its id.  A pose without any joint gets an id but no track (it could
        never be matched)."""
        track_id = self._next_id
        self._next_id += 1
        if found.any():
            self._tracks.append(_Track(
                track_id, np.where(found[:, None], xy, 0.0), found.copy(),
                np.zeros(NUM_JOINTS, np.int64)))
        return track_id


def _outside(xy: np.ndarray, known: np.ndarray,
             image_size: Optional[Tuple[int, int]]) -> bool:
    """Whether every known joint of ``xy`` (18, 2) lies outside an image of
    ``image_size`` ``(height, width)`` (False without one)."""
    if image_size is None or not known.any():
        return False
    height, width = image_size
    x, y = xy[known, 0], xy[known, 1]
    inside = (x >= 0) & (x < width) & (y >= 0) & (y < height)
    return not inside.any()
