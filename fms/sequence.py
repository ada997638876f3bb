"""One subject's keypoints over time, read from a keypoint file.

The keypoint files are those of ``video_pose_detector.py --json``, read and
validated by :func:`pose.keypoints.read_keypoint_lines` (the one owner of
their format).  This module makes the movement analysis' choices: which
frames to keep (:func:`read_keypoint_file`), which person is the subject
(:func:`select_subject`), and how the track is cleaned before measuring
(:func:`prepare_track`: gaps filled, then smoothed).
"""
from __future__ import annotations

import dataclasses
import math
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from entity import NUM_HAND_KEYPOINTS, NUM_JOINTS
from fms import FmsError
from pose.keypoints import (CARRIED_FIELD, DECODE_FAILED_FIELD, FRAME_FIELD,
                            HAND_FIELDS, PEOPLE_FIELD, POSE_FIELD, TIME_FIELD,
                            keypoint_array, read_keypoint_lines)
from pose.keypoints import person_id as person_id_of


@dataclasses.dataclass
class Track:
    """One subject's keypoints over the frames of a trial.

    Attributes:
        times: (T,) float64 seconds from the start of the video.
        frames: (T,) int64 frame indices in the video.
        xy: (T, 18, 2) float64 ``(x, y)`` image pixels (x right, y down),
            joints in :data:`entity.JOINT_NAMES` order; NaN where missing.
        confidence: (T, 18) float64 joint confidence, 0 where missing.
        hands: None, or (T, 2, 21, 2) float64 ``(x, y)`` of the hand
            keypoints, hands in :data:`pose.keypoints.HAND_FIELDS` order
            (left, right); NaN where missing.
        person_id: the tracker's id of the subject (-1 when untracked).
        source: the file the track was read from ('' when synthetic).
    """
    times: np.ndarray
    frames: np.ndarray
    xy: np.ndarray
    confidence: np.ndarray
    hands: Optional[np.ndarray] = None
    person_id: int = -1
    source: str = ''

    def __len__(self) -> int:
        return len(self.times)


# ---------------------------------------------------------------------------
# Reading keypoint files
# ---------------------------------------------------------------------------

def read_keypoint_file(path: str) -> List[dict]:
    """The frame records of a keypoint file that carry a detection, in file
    order.

    Frames whose image failed to decode (``decode_failed``) carry no
    detection and are skipped.  ``carried`` frames (between the frames the
    network ran on, with ``--every N``) repeat the last detection: they are
    dropped too, because repeated poses followed by a jump would distort
    velocities and the smoothing; the track then holds the detected frames
    only (every N-th frame), and :attr:`Track.frames` / :attr:`Track.times`
    say which they are.

    Returns:
        One dict per kept line, as written
        (:func:`pose.keypoints.frame_record`), frames and times strictly
        increasing.

    Raises:
        pose.keypoints.KeypointFileError: the file is missing or
            unreadable, a line is not a valid frame record (values beyond
            the bounds of :mod:`pose.keypoints`, a negative frame or time),
            or the frames do not increase from line to line (lines repeated
            or out of order are refused, not sorted).
        FmsError: no detected frame is left.
    """
    records = [record for record in read_keypoint_lines(path)
               if not record.get(DECODE_FAILED_FIELD)
               and not record.get(CARRIED_FIELD)]
    if not records:
        raise FmsError(f'{path} holds no detected frame: run '
                       f'video_pose_detector.py --json on the video again')
    return records


# ---------------------------------------------------------------------------
# Choosing the subject
# ---------------------------------------------------------------------------

def body_size(xy: np.ndarray) -> float:
    """Diagonal (pixels) of the bounding box of the found joints of one
    (18, 2) ``(x, y)`` pose; 0 with fewer than two joints."""
    found = xy[np.isfinite(xy).all(axis=1)]
    if len(found) < 2:
        return 0.0
    return float(np.hypot(*(found.max(axis=0) - found.min(axis=0))))


#: Who can be the subject: a person present in fewer frames than this
#: fraction of the frames of the person seen most cannot be.  Half leaves
#: room for the detector missing the athlete in many frames (the old rule
#: lost the athlete to a bystander over three missed frames) while a
#: passer-by seen for a moment, whose walk across the image is a larger
#: displacement than any FMS movement, is never followed.
MIN_PRESENCE_FRACTION = 0.5
#: Each joint's range of motion is the diagonal of the box between these
#: percentiles of its ``x`` and of its ``y`` over the frames it is found
#: in: 5-95 and not min-max, so that one misplaced keypoint (a detection
#: that jumps to another person for a frame) does not make a still
#: bystander look like the one who moves.
RANGE_PERCENTILES = (5.0, 95.0)
#: Movements (body sizes) closer than this count as equal and the
#: tie-breakers decide: keypoint jitter moves the joints of a person
#: standing still by about 1-2 % of their body size (a few pixels), while
#: every FMS movement moves the mean joint by 10 % or more (a deep squat
#: about 20 %).
MOVEMENT_TIE = 0.05
#: Body sizes within this fraction of the largest count as equal (then the
#: most central person wins): the box of one person changes by more than
#: that as they move, so smaller differences do not say who is nearer the
#: camera.
SIZE_TIE = 0.1


@dataclasses.dataclass(frozen=True)
class Candidate:
    """What :func:`select_subject` weighs for one person.

    Attributes:
        person_id: the tracker's id (-1 untracked).
        frames: how many records the person is present in.
        movement: the mean over the joints of each joint's range of motion
            (:data:`RANGE_PERCENTILES`) divided by ``size``; 0 when the
            person is seen in one frame or ``size`` is 0.
        size: median body size (:func:`body_size`, pixels) over the frames
            the person is present in.
        centre_distance: pixels from the person's median centre (mean of
            the found joints) to the frame's centre.
        eligible: present in enough frames (:data:`MIN_PRESENCE_FRACTION`).
    """
    person_id: int
    frames: int
    movement: float
    size: float
    centre_distance: float
    eligible: bool = True


def subject_candidates(records: Sequence[dict],
                       frame_size: Optional[Tuple[int, int]] = None
                       ) -> List[Candidate]:
    """A :class:`Candidate` per person in the records, in id order.

    ``frame_size`` is the video's ``(width, height)``; the keypoint file
    does not record it, so without it the frame's centre is taken as the
    middle of the box around every keypoint of everyone in the records.
    """
    frames = [_frame_people(record) for record in records]
    return _candidates(frames, frame_size)


def _candidates(frames: Sequence[Dict[int, Tuple[np.ndarray, dict]]],
                frame_size: Optional[Tuple[int, int]]) -> List[Candidate]:
    poses: Dict[int, List[np.ndarray]] = {}
    for people in frames:
        for pid, (xy, _) in people.items():
            poses.setdefault(pid, []).append(xy)
    if not poses:
        return []
    centre = _frame_centre(poses, frame_size)
    most = max(len(p) for p in poses.values())
    candidates = []
    for pid in sorted(poses):
        xy = np.stack(poses[pid])                       # (F, 18, 2)
        size = float(np.median([body_size(pose) for pose in xy]))
        candidates.append(Candidate(
            person_id=pid, frames=len(xy),
            movement=_movement(xy, size), size=size,
            centre_distance=_centre_distance(xy, centre),
            eligible=len(xy) >= MIN_PRESENCE_FRACTION * most))
    return candidates


def _movement(xy: np.ndarray, size: float) -> float:
    """Mean joint range of motion of (F, 18, 2) poses over ``size``."""
    found = np.isfinite(xy).all(axis=2)                 # (F, 18)
    joints = found.sum(axis=0) >= 2
    if size <= 0 or not joints.any():
        return 0.0
    low, high = np.nanpercentile(xy[:, joints], RANGE_PERCENTILES, axis=0)
    ranges = np.hypot(*(high - low).T)                  # (J,)
    return float(ranges.mean() / size)


def _frame_centre(poses: Dict[int, List[np.ndarray]],
                  frame_size: Optional[Tuple[int, int]]) -> np.ndarray:
    """``(x, y)`` of the frame's centre (see :func:`subject_candidates`)."""
    if frame_size is not None:
        return np.asarray(frame_size, np.float64) / 2
    points = np.concatenate([np.reshape(p, (-1, 2))
                             for p in poses.values()])
    points = points[np.isfinite(points).all(axis=1)]
    if len(points) == 0:
        return np.zeros(2)
    return points.min(axis=0) / 2 + points.max(axis=0) / 2


def _centre_distance(xy: np.ndarray, centre: np.ndarray) -> float:
    """Pixels from the median of the per-frame centres of (F, 18, 2) poses
    (mean of the found joints) to ``centre``; inf when no joint is
    found."""
    found = np.isfinite(xy).all(axis=2)
    if not found.any():
        return math.inf
    centres = np.array([pose[ok].mean(axis=0)
                        for pose, ok in zip(xy, found) if ok.any()])
    return float(np.hypot(*(np.median(centres, axis=0) - centre)))


def choose_subject(candidates: Sequence[Candidate]) -> Candidate:
    """The subject among the candidates (see :func:`select_subject`)."""
    pool = [c for c in candidates if c.eligible]
    most = max(c.movement for c in pool)
    pool = [c for c in pool if c.movement >= most - MOVEMENT_TIE]
    largest = max(c.size for c in pool)
    pool = [c for c in pool if c.size >= (1 - SIZE_TIE) * largest]
    return min(pool, key=lambda c: (c.centre_distance, c.person_id))


def _frame_people(record: dict) -> Dict[int, Tuple[np.ndarray, dict]]:
    """Person id -> ``((18, 2) xy, entry)`` in one frame; when an id
    appears more than once (untracked files: every id is -1) the largest
    body is kept."""
    people: Dict[int, Tuple[float, np.ndarray, dict]] = {}
    for person in record[PEOPLE_FIELD]:
        xy, _ = keypoint_array(person.get(POSE_FIELD) or [], NUM_JOINTS)
        size = body_size(xy)
        pid = person_id_of(person)
        if pid not in people or size > people[pid][0]:
            people[pid] = (size, xy, person)
    return {pid: (xy, entry) for pid, (_, xy, entry) in people.items()}


def select_subject(records: Sequence[dict], person_id: Optional[int] = None,
                   source: str = '',
                   frame_size: Optional[Tuple[int, int]] = None) -> Track:
    """The track of one person through the frame records.

    The subject is the person ``person_id`` when given.  Otherwise it is
    the person who performs the test, taken as the one who moves most,
    not the one present longest (a bystander standing in view throughout
    must not be followed when the detector misses the athlete in a few
    frames):

    1. Only people present in at least :data:`MIN_PRESENCE_FRACTION` (0.5)
       of the frames of the person seen most can be chosen.
    2. Among them, the one who moves most: the mean over the joints of each
       joint's range of motion (the diagonal of the box between the
       :data:`RANGE_PERCENTILES` (5th and 95th) of its ``x`` and ``y`` over
       the frames the person is present in) divided by the person's median
       body size (:func:`body_size`), so that a person far from the camera
       is not penalised.  Movements within :data:`MOVEMENT_TIE` (0.05 body
       sizes, keypoint jitter) of the largest are ties.
    3. Ties: the larger median body size (sizes within :data:`SIZE_TIE`,
       10 %, of the largest are ties), then the person nearest the frame's
       centre (``frame_size``, or the middle of all the keypoints:
       :func:`subject_candidates`), then the lower id.

    :func:`subject_candidates` gives the numbers weighed.  Frames where the
    subject is absent become all-NaN rows, so the track keeps one row per
    record.  Hand keypoints are filled when the file has them for the
    subject (else ``hands`` is None).

    Raises:
        FmsError: no person in any frame, ``person_id`` absent (the
            message lists the ids present), or frames that are negative or
            do not increase strictly (records not as read by
            :func:`read_keypoint_file`).
    """
    times, frame_indices = _frame_times(records, source)
    frames = [_frame_people(record) for record in records]
    candidates = _candidates(frames, frame_size)
    if not candidates:
        raise FmsError(f'no person was found in any frame of '
                       f'{source or "the keypoints"}: check the video shows '
                       f'the whole body')
    if person_id is None:
        person_id = choose_subject(candidates).person_id
    elif person_id not in {c.person_id for c in candidates}:
        present = ', '.join(str(c.person_id) for c in candidates)
        raise FmsError(f'person id {person_id} is not in '
                       f'{source or "the keypoints"}: use one of {present}')
    return _build_track(
        times, frame_indices,
        [people[person_id][1] if person_id in people else None
         for people in frames], person_id, source)


def _frame_times(records: Sequence[dict], source: str
                 ) -> Tuple[np.ndarray, np.ndarray]:
    """``(times, frames)`` of the records: (T,) float64 seconds and (T,)
    int64 indices, both >= 0 and strictly increasing, or FmsError."""
    where = source or 'the keypoints'
    try:
        times = np.array([float(r[TIME_FIELD]) for r in records], np.float64)
        frames = np.array([int(r[FRAME_FIELD]) for r in records], np.int64)
    except (KeyError, TypeError, ValueError, OverflowError) as error:
        raise FmsError(f'{where}: a frame record has no usable "frame" and '
                       f'"time" ({error}); read the file with '
                       f'read_keypoint_file') from None
    if not (np.isfinite(times).all() and (times >= 0).all()
            and (frames >= 0).all() and (np.diff(frames) > 0).all()
            and (np.diff(times) > 0).all()):
        raise FmsError(f'{where}: frames and times must be >= 0 and increase '
                       f'strictly from record to record; read the file with '
                       f'read_keypoint_file')
    return times, frames


def _build_track(times: np.ndarray, frames: np.ndarray,
                 people: Sequence[Optional[dict]], person_id: int,
                 source: str) -> Track:
    """A :class:`Track` of the subject's entries (None where absent) at
    ``frames`` and ``times``."""
    count = len(people)
    xy = np.full((count, NUM_JOINTS, 2), np.nan)
    confidence = np.zeros((count, NUM_JOINTS))
    hands = np.full((count, len(HAND_FIELDS), NUM_HAND_KEYPOINTS, 2), np.nan)
    for row, person in enumerate(people):
        if person is None:
            continue
        xy[row], confidence[row] = keypoint_array(
            person.get(POSE_FIELD) or [], NUM_JOINTS)
        for hand, field in enumerate(HAND_FIELDS):
            hands[row, hand] = keypoint_array(person.get(field) or [],
                                              NUM_HAND_KEYPOINTS)[0]
    return Track(
        times=times, frames=frames, xy=xy, confidence=confidence,
        hands=hands if np.isfinite(hands).any() else None,
        person_id=int(person_id), source=source)


# ---------------------------------------------------------------------------
# Gaps and smoothing
# ---------------------------------------------------------------------------

def fill_gaps(values: np.ndarray, max_gap: int) -> np.ndarray:
    """Linear interpolation over short runs of NaN along time (axis 0).

    Args:
        values: (T, ...) float array (e.g. (T, 18, 2) ``(x, y)`` pixels),
            NaN where missing; rows are taken as equally spaced in time.
        max_gap: longest run of missing rows (frames) that is filled.

    Returns:
        A (T, ...) float64 copy where every NaN run of at most ``max_gap``
        rows with valid values on both sides is replaced by the straight
        line between those values, each column on its own; longer runs and
        runs at either end stay NaN.
    """
    values = np.array(values, np.float64)
    if values.ndim == 0 or len(values) < 3 or max_gap < 1:
        return values
    flat = values.reshape(len(values), -1)
    valid = np.isfinite(flat)
    rows = np.arange(len(flat))[:, None]
    before = np.maximum.accumulate(np.where(valid, rows, -1), axis=0)
    after = np.minimum.accumulate(
        np.where(valid, rows, len(flat))[::-1], axis=0)[::-1]
    fill = (~valid & (before >= 0) & (after < len(flat))
            & (after - before - 1 <= max_gap))
    start = np.take_along_axis(flat, np.clip(before, 0, None), axis=0)
    end = np.take_along_axis(flat, np.clip(after, None, len(flat) - 1),
                             axis=0)
    with np.errstate(invalid='ignore', divide='ignore'):
        weight = (rows - before) / (after - before)
    flat[fill] = (start + (end - start) * weight)[fill]
    return flat.reshape(values.shape)


def savgol_coefficients(window: int, order: int) -> np.ndarray:
    """(window,) float64 weights of the centred Savitzky-Golay smoother.

    The smoothed value at the centre of the window is the value at 0 of the
    least-squares polynomial of degree ``order`` through the ``window``
    samples at offsets ``-m .. m`` (m = window // 2): the first row of the
    pseudo-inverse of the Vandermonde matrix.  The weights are symmetric,
    so the filter has zero phase.
    """
    _check_savgol(window, order)
    offsets = np.arange(window) - window // 2
    vandermonde = offsets[:, None] ** np.arange(order + 1)[None, :]
    return np.linalg.pinv(vandermonde.astype(np.float64))[0]


def _check_savgol(window: int, order: int) -> None:
    if window < 3 or window % 2 == 0:
        raise FmsError(f'smoothing window {window} must be an odd number of '
                       f'frames >= 3: e.g. 9 at 30 fps')
    if not 0 <= order < window - 1:
        raise FmsError(f'smoothing order {order} must be >= 0 and below '
                       f'window - 1 = {window - 1}: e.g. 2')


def smooth(values: np.ndarray, window: int, order: int) -> np.ndarray:
    """Zero-phase (centred) Savitzky-Golay smoothing along time (axis 0).

    Each smoothed value is the centre value of the least-squares polynomial
    of degree ``order`` fitted to the ``window`` samples centred on it
    (:func:`savgol_coefficients`).  The window is centred, so the filter has
    no lag: a peak stays at the same frame, and polynomials of degree <=
    ``order`` pass unchanged.

    NaN handling: a value is smoothed only where its whole window is valid;
    values whose window holds a NaN, and the first and last ``window // 2``
    rows, are returned as they are (NaN stays NaN).

    Args:
        values: (T, ...) float array, e.g. (T, 18, 2) ``(x, y)`` pixels.
        window: odd number of rows (frames) >= 3.
        order: polynomial degree, below ``window - 1``.

    Returns:
        (T, ...) float64 smoothed copy.
    """
    coefficients = savgol_coefficients(window, order)
    values = np.array(values, np.float64)
    if len(values) < window:
        return values
    flat = values.reshape(len(values), -1)
    windows = np.lib.stride_tricks.sliding_window_view(flat, window, axis=0)
    smoothed = windows @ coefficients           # (T - window + 1, columns)
    inner = flat[window // 2:len(flat) - window // 2]
    flat[window // 2:len(flat) - window // 2] = np.where(
        np.isfinite(smoothed), smoothed, inner)
    return flat.reshape(values.shape)


@dataclasses.dataclass(frozen=True)
class TrackParams:
    """How a track is prepared before measuring (:func:`prepare_track`).

    Defaults are sized for 30 fps video: gaps up to 10 frames (1/3 s, a
    limb briefly hidden behind the body or the dowel) are bridged, longer
    ones are not guessed; the 9-frame (0.3 s) quadratic Savitzky-Golay
    window removes the frame-to-frame keypoint jitter while keeping the
    movement itself (FMS repetitions take 1-3 s, well below the filter's
    -3 dB cut-off of about 5 Hz at this window and order, Schafer 2011,
    "What is a Savitzky-Golay filter?").
    """
    max_gap_frames: int = 10
    window: int = 9
    order: int = 2


DEFAULT_TRACK_PARAMS = TrackParams()


def prepare_track(track: Track,
                  params: TrackParams = DEFAULT_TRACK_PARAMS) -> Track:
    """A copy of ``track`` with short gaps filled (:func:`fill_gaps`) and
    then smoothed (:func:`smooth`), for ``xy`` and ``hands``; times,
    frames and confidences are unchanged."""
    def prepare(values):
        return smooth(fill_gaps(values, params.max_gap_frames),
                      params.window, params.order)
    return dataclasses.replace(
        track, xy=prepare(track.xy),
        hands=None if track.hands is None else prepare(track.hands))
