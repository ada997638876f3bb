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


def _frame_people(record: dict) -> Dict[int, dict]:
    """Person id -> its entry in one frame; when an id appears more than
    once (untracked files: every id is -1) the largest body is kept."""
    people: Dict[int, Tuple[float, dict]] = {}
    for person in record[PEOPLE_FIELD]:
        xy, _ = keypoint_array(person.get(POSE_FIELD) or [], NUM_JOINTS)
        size = body_size(xy)
        pid = person_id_of(person)
        if pid not in people or size > people[pid][0]:
            people[pid] = (size, person)
    return {pid: entry for pid, (_, entry) in people.items()}


def select_subject(records: Sequence[dict], person_id: Optional[int] = None,
                   source: str = '') -> Track:
    """The track of one person through the frame records.

    The subject is the person ``person_id`` when given, else the person
    present in most frames (ties: the larger mean body size, the
    bounding-box diagonal of the found joints).  Frames where the subject is
    absent become all-NaN rows, so the track keeps one row per record.
    Hand keypoints are filled when the file has them for the subject (else
    ``hands`` is None).

    Raises:
        FmsError: no person in any frame, ``person_id`` absent (the
            message lists the ids present), or frames that are negative or
            do not increase strictly (records not as read by
            :func:`read_keypoint_file`).
    """
    times, frame_indices = _frame_times(records, source)
    frames = [_frame_people(record) for record in records]
    counts: Dict[int, int] = {}
    sizes: Dict[int, float] = {}
    for people in frames:
        for pid, person in people.items():
            xy, _ = keypoint_array(person.get(POSE_FIELD) or [], NUM_JOINTS)
            counts[pid] = counts.get(pid, 0) + 1
            sizes[pid] = sizes.get(pid, 0.0) + body_size(xy)
    if not counts:
        raise FmsError(f'no person was found in any frame of '
                       f'{source or "the keypoints"}: check the video shows '
                       f'the whole body')
    if person_id is None:
        person_id = max(counts, key=lambda pid: (counts[pid],
                                                  sizes[pid] / counts[pid]))
    elif person_id not in counts:
        present = ', '.join(str(pid) for pid in sorted(counts))
        raise FmsError(f'person id {person_id} is not in '
                       f'{source or "the keypoints"}: use one of {present}')
    return _build_track(times, frame_indices,
                        [people.get(person_id) for people in frames],
                        person_id, source)


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
