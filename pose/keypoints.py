"""The OpenPose keypoint representation and its files: the one owner.

Every keypoint file of the project is written and read here:

* **Image keypoints** (``<name>_keypoints.json`` of ``pose_detector.py``):
  OpenPose 1.3+ ``--write_json`` layout, one document per image:
  ``{"version": 1.3, "people": [{"person_id": [id], "pose_keypoints_2d":
  [x0, y0, c0, ...], "face_keypoints_2d": [...], "hand_left_keypoints_2d":
  [...], "hand_right_keypoints_2d": [...], ...3-D lists...}, ...]}``, joints
  in OpenPose's COCO-18 order (:data:`entity.JOINT_NAMES`), a missing
  keypoint as ``0, 0, 0``.
* **Keypoint lines** (``video_pose_detector.py --json``, read by the FMS
  analysis): JSON Lines, one such document per video frame with the frame's
  fields added: ``{"frame": index, "time": seconds, "carried": bool,
  ["decode_failed": true,] "version": 1.3, "people": [...]}``.  ``carried``
  frames (between the frames the network ran on) repeat the last people;
  ``decode_failed`` frames have none.
* **Keypoint frames** (``video_pose_detector.py --write-json DIR``):
  OpenPose's ``--write_json`` files of a video, one image document per
  frame, ``<name>_<frame index, 12 digits>_keypoints.json`` (a frame that
  failed to decode has no people), in a folder that appears whole
  (:class:`KeypointFramesWriter`).

:func:`openpose_json` and :func:`frame_record` encode, :func:`keypoint_array`
and :func:`person_id` decode, :func:`write_image_keypoints`,
:class:`KeypointLinesWriter`, :class:`KeypointFramesWriter` and
:func:`write_keypoint_lines` write
atomically (:mod:`common.files`), :func:`read_keypoint_lines` reads and
validates.
"""
from __future__ import annotations

import errno
import json
import math
import os
import shutil
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

import entity
from common.errors import ToolError
from common.files import (AtomicOutput, AtomicTextFile, atomic_file,
                          commit_file, flush_file, input_file_problem,
                          temporary_path,
                          write_atomic)
from pose.detection import check_poses

# ---------------------------------------------------------------------------
# Fields
# ---------------------------------------------------------------------------

#: ``version`` of the OpenPose layout written here.
OPENPOSE_JSON_VERSION = 1.3
VERSION_FIELD = 'version'
PEOPLE_FIELD = 'people'

#: A person's tracker id (``[id]``); OpenPose writes ``[-1]`` untracked.
PERSON_ID_FIELD = 'person_id'
UNTRACKED_PERSON_ID = -1

#: A person's body keypoints, face keypoints, and (left, right) hand
#: keypoints, the last in the order of the hand axis of hand arrays.
POSE_FIELD = 'pose_keypoints_2d'
FACE_FIELD = 'face_keypoints_2d'
HAND_FIELDS: Tuple[str, str] = ('hand_left_keypoints_2d',
                                'hand_right_keypoints_2d')
#: Every keypoint list of a person other than the body's: empty unless face
#: or hand keypoints are given (only the 2-D ones can be).
PART_FIELDS: Tuple[str, ...] = (
    FACE_FIELD, *HAND_FIELDS, 'pose_keypoints_3d', 'face_keypoints_3d',
    'hand_left_keypoints_3d', 'hand_right_keypoints_3d')

#: Fields of a keypoint line: frame index, seconds from the start, whether
#: the people were carried from the last detected frame, and the mark of a
#: frame that failed to decode.
FRAME_FIELD = 'frame'
TIME_FIELD = 'time'
CARRIED_FIELD = 'carried'
DECODE_FAILED_FIELD = 'decode_failed'

#: Values per keypoint in the flat lists: x, y, confidence.
VALUES_PER_KEYPOINT = 3

#: Decimals kept for x, y (pixels), for confidences and scores, and for
#: frame times (seconds).
COORDINATE_DECIMALS = 3
CONFIDENCE_DECIMALS = 4
TIME_DECIMALS = 6

#: What to tell the user to do about a keypoint file that cannot be read.
_WRITTEN_BY = 'give a keypoint file written by video_pose_detector.py --json'


class KeypointFileError(ToolError, ValueError):
    """A keypoint file cannot be read or written; the message says why."""


# ---------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------

def openpose_json(poses: np.ndarray, confidences: np.ndarray,
                  faces: Optional[np.ndarray] = None,
                  hands: Optional[np.ndarray] = None,
                  person_ids: Optional[Sequence[int]] = None) -> Dict:
    """The OpenPose (1.3+) keypoint file content of one image.

    Args:
        poses: (N, 18, 3) float32: x, y in image pixels and a flag (> 0
            where the joint was found), joints in :data:`entity.JOINT_NAMES`
            order.
        confidences: (N, 18) float32 confidence of each joint.
        faces: None, or (N, 70, 3) float32 face keypoints: x, y,
            confidence (all 0 where not found).
        hands: None, or (N, 2, 21, 3) float32 hand keypoints of the
            (left, right) hand: x, y, confidence (all 0 where not found).
        person_ids: (N,) tracker ids, or None (untracked: ``-1``).

    Returns:
        ``{"version": 1.3, "people": [...]}`` ready for ``json.dump``: one
        entry per person with ``person_id`` ``[id]`` (``[-1]`` untracked),
        ``pose_keypoints_2d``
        as 18 * 3 plain floats ``[x0, y0, c0, x1, y1, c1, ...]`` (all three
        0 for a missing joint), ``face_keypoints_2d`` (70 * 3) and
        ``hand_left_keypoints_2d`` / ``hand_right_keypoints_2d`` (21 * 3
        each) the same way when ``faces`` / ``hands`` are given (a keypoint
        with confidence <= 0 is written as three zeros; a person without a
        face or hand gets all zeros, as OpenPose writes), else empty lists;
        the 3-D lists are always empty.
    """
    poses, confidences = check_poses(poses, confidences)
    parts = _part_fields(len(poses), faces, hands)
    ids = ([UNTRACKED_PERSON_ID] * len(poses) if person_ids is None
           else [int(i) for i in person_ids])
    if len(ids) != len(poses):
        raise ValueError(f'{len(poses)} poses but {len(ids)} person ids')
    return {VERSION_FIELD: OPENPOSE_JSON_VERSION,
            PEOPLE_FIELD: [_openpose_person(pose, conf, person_parts, pid)
                           for pose, conf, person_parts, pid
                           in zip(poses, confidences, parts, ids)]}


def _openpose_person(pose: np.ndarray, confidences: np.ndarray,
                     parts: Dict[str, List[float]], person_id: int) -> Dict:
    """One ``people`` entry for an (18, 3) pose and (18,) confidences;
    ``parts`` are the face and hand fields that are filled."""
    keypoints: List[float] = []
    for (x, y, flag), c in zip(pose, confidences):
        keypoints.extend(_xyc(x, y, c) if flag > 0 else (0.0, 0.0, 0.0))
    person = {PERSON_ID_FIELD: [person_id],
              POSE_FIELD: keypoints}
    person.update({field: parts.get(field, [])
                   for field in PART_FIELDS})
    return person


def _part_fields(num_people: int, faces: Optional[np.ndarray],
                 hands: Optional[np.ndarray]) -> List[Dict[str, List[float]]]:
    """Per person, the face and hand keypoint fields given (may be {})."""
    people: List[Dict[str, List[float]]] = [{} for _ in range(num_people)]
    if faces is not None:
        faces = _check_parts(faces, num_people, (entity.NUM_FACE_KEYPOINTS,),
                             'face')
        for person, face in zip(people, faces):
            person[FACE_FIELD] = _part_keypoints(face)
    if hands is not None:
        hands = _check_parts(hands, num_people,
                             (len(HAND_FIELDS),
                              entity.NUM_HAND_KEYPOINTS), 'hand')
        for person, person_hands in zip(people, hands):
            for field, hand in zip(HAND_FIELDS, person_hands):
                person[field] = _part_keypoints(hand)
    return people


def _part_keypoints(points: np.ndarray) -> List[float]:
    """``[x, y, c] * K`` from (K, 3) x, y, confidence; zeros where c <= 0."""
    keypoints: List[float] = []
    for x, y, c in points:
        keypoints.extend(_xyc(x, y, c) if c > 0 else (0.0, 0.0, 0.0))
    return keypoints


def _check_parts(parts: np.ndarray, num_people: int,
                 shape: Tuple[int, ...], what: str) -> np.ndarray:
    """``parts`` as (num_people, *shape, 3) float32, or ValueError."""
    parts = np.asarray(parts, np.float32)
    if parts.size == 0 and num_people == 0:
        return parts.reshape((0,) + shape + (3,))
    if parts.shape != (num_people,) + shape + (3,):
        raise ValueError(f'expected {what} keypoints of shape '
                         f'{(num_people,) + shape + (3,)}, got {parts.shape}')
    return parts


def rounded_xy(x: float, y: float) -> Tuple[float, float]:
    """Rounded plain-float (x, y)."""
    return (round(float(x), COORDINATE_DECIMALS),
            round(float(y), COORDINATE_DECIMALS))


def _xyc(x: float, y: float, c: float) -> Tuple[float, float, float]:
    """Rounded plain-float (x, y, confidence)."""
    return rounded_xy(x, y) + (round(float(c), CONFIDENCE_DECIMALS),)


def frame_record(index: int, time: float, document: Optional[Dict],
                 carried: bool = False) -> Dict:
    """One keypoint line: the frame's fields, then the people.

    Args:
        index: the frame's index in the video.
        time: its time in seconds.
        document: the frame's :func:`openpose_json`, or None for a frame
            that failed to decode (written with ``decode_failed`` and no
            people).
        carried: the people are those of the last detected frame.
    """
    record = {FRAME_FIELD: int(index),
              TIME_FIELD: round(float(time), TIME_DECIMALS),
              CARRIED_FIELD: bool(carried)}
    if document is None:
        record[DECODE_FAILED_FIELD] = True
        document = {VERSION_FIELD: OPENPOSE_JSON_VERSION, PEOPLE_FIELD: []}
    record.update(document)
    return record


# ---------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------

def keypoint_array(values: Sequence[float], count: int
                   ) -> Tuple[np.ndarray, np.ndarray]:
    """``(xy, confidence)`` of a flat ``[x0, y0, c0, ...]`` list.

    Returns:
        xy: (count, 2) float64 ``(x, y)`` pixels, NaN where the keypoint is
            missing (confidence <= 0, written as 0, 0, 0) or where the list
            is empty or short.
        confidence: (count,) float64, 0 where missing.
    """
    flat = np.zeros(count * VALUES_PER_KEYPOINT, np.float64)
    values = np.asarray(values, np.float64).ravel()[:flat.size]
    flat[:values.size] = values
    points = flat.reshape(count, VALUES_PER_KEYPOINT)
    found = (points[:, 2] > 0) & np.isfinite(points).all(axis=1)
    xy = np.where(found[:, None], points[:, :2], np.nan)
    return xy, np.where(found, points[:, 2], 0.0)


def person_id(person: Dict) -> int:
    """The tracker id of a ``people`` entry (``[id]`` or ``id``)."""
    value = person.get(PERSON_ID_FIELD, UNTRACKED_PERSON_ID)
    if isinstance(value, (list, tuple)):
        value = value[0] if value else UNTRACKED_PERSON_ID
    return int(value)


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------

def write_image_keypoints(path: str, document: Dict) -> None:
    """Write one image's :func:`openpose_json` to ``path`` atomically.

    Raises:
        OSError: the folder is missing or not writable, the disk is full.
    """
    write_atomic(path, _document_bytes(document))


def _document_bytes(document: Dict) -> bytes:
    """One image's document as written in its file."""
    return json.dumps(document, allow_nan=False).encode()


def _line(record: Dict) -> str:
    return json.dumps(record, allow_nan=False)


#: Digits of the frame number in a keypoint frame's file name, and the
#: name's end (OpenPose's ``--write_json`` for a video).
FRAME_NUMBER_DIGITS = 12
FRAME_FILE_SUFFIX = '_keypoints.json'


def frame_file_name(name: str, index: int) -> str:
    """``<name>_<index, 12 digits>_keypoints.json``, OpenPose's name of a
    video frame's keypoint file."""
    return f'{name}_{int(index):0{FRAME_NUMBER_DIGITS}d}{FRAME_FILE_SUFFIX}'


#: ``errno`` of renaming a folder onto an existing one that is not empty
#: (POSIX allows either).
_FOLDER_EXISTS_ERRNOS = (errno.EEXIST, errno.ENOTEMPTY)


def _missing_folders(folder: str) -> List[str]:
    """``folder`` and its parents that do not exist, deepest first."""
    missing = []
    folder = os.path.abspath(folder)
    while not os.path.exists(folder) and os.path.dirname(folder) != folder:
        missing.append(folder)
        folder = os.path.dirname(folder)
    return missing


class KeypointFramesWriter(AtomicOutput):
    """A folder of OpenPose keypoint files, one per video frame, that
    appears whole.

    The files (:func:`frame_file_name`, each an :func:`openpose_json`
    document) go into a hidden temporary folder beside ``folder``.
    :meth:`commit` renames that folder to ``folder`` when there is none
    (in one step: the folder appears with all its files), else moves the
    files into the existing folder one by one, as OpenPose writes into
    existing folders (other files there are kept; files of the same names
    are replaced); :meth:`abort` deletes the temporary folder
    (:class:`AtomicOutput`).

    Attributes:
        path: the destination folder.
        temp_path: the temporary folder.
        name: the file names' prefix (the video's stem, ``camera0``...).
        frames: files written so far.
    """
    error = KeypointFileError

    def __init__(self, folder: str, name: str):
        """Create the temporary folder.

        Raises:
            KeypointFileError: the folder cannot be created.
        """
        self.name, self.frames = name, 0
        self.temp_path = temporary_path(os.path.normpath(folder))
        self._made = _missing_folders(os.path.dirname(self.temp_path))
        try:
            os.makedirs(os.path.dirname(self.temp_path), exist_ok=True)
            os.mkdir(self.temp_path)
        except OSError as e:
            raise KeypointFileError(f'{folder}: cannot create the folder '
                                    f'({e.strerror}); choose another path'
                                    ) from e
        self._names: List[str] = []
        super().__init__(folder)

    def write_frame(self, index: int, document: Optional[Dict]) -> None:
        """Write frame ``index``'s :func:`openpose_json` (None: a frame
        that failed to decode, written with no people).

        Raises:
            KeypointFileError: the writer was committed or aborted.
            OSError: the disk is full, ...
        """
        self._check_open()
        if document is None:
            document = {VERSION_FIELD: OPENPOSE_JSON_VERSION,
                        PEOPLE_FIELD: []}
        name = frame_file_name(self.name, index)
        with open(os.path.join(self.temp_path, name), 'xb') as stream:
            stream.write(_document_bytes(document))
        self._names.append(name)
        self.frames += 1

    def _finish(self) -> None:
        """Rename the temporary folder to :attr:`path`, or move its files
        into :attr:`path` when that folder exists."""
        if not self._renamed_into_place():
            self._move_files_in()

    def _renamed_into_place(self) -> bool:
        """Flush the files to disk and rename the temporary folder to
        :attr:`path`; False (nothing renamed) when :attr:`path` exists,
        also when it was created meanwhile."""
        if os.path.lexists(self.path):
            return False
        for name in self._names:
            flush_file(os.path.join(self.temp_path, name))
        try:
            os.rename(self.temp_path, self.path)
        except OSError as error:
            if error.errno in _FOLDER_EXISTS_ERRNOS:
                return False
            raise
        return True

    def _move_files_in(self) -> None:
        """Create :attr:`path` if missing and move every file into it."""
        os.makedirs(self.path, exist_ok=True)
        for name in self._names:
            commit_file(os.path.join(self.temp_path, name),
                        os.path.join(self.path, name))
        shutil.rmtree(self.temp_path, ignore_errors=True)

    def _discard(self) -> None:
        """Delete the temporary folder and the folders made for it."""
        shutil.rmtree(self.temp_path, ignore_errors=True)
        for folder in self._made:
            try:
                os.rmdir(folder)
            except OSError:
                break


def write_keypoint_lines(path: str, records: Iterable[Dict]) -> None:
    """Write :func:`frame_record` dicts as a keypoint-lines file at
    ``path``, atomically (all lines or nothing)."""
    with atomic_file(path, 'w', encoding='utf-8', newline='\n') as stream:
        for record in records:
            stream.write(_line(record) + '\n')


class KeypointLinesWriter(AtomicTextFile):
    """A keypoint-lines file written frame by frame, atomically
    (:class:`common.files.AtomicTextFile`: a hidden temporary file beside
    ``path``, renamed by :meth:`commit`, deleted by :meth:`abort`).

    Each line is flushed as it is written, so a crash loses at most the
    line being written.

    Attributes:
        path: the destination.
        temp_path: the temporary file.
        lines: lines written so far.

    Raises (on creation):
        KeypointFileError: the folder is missing or not writable.
    """
    error = KeypointFileError

    def __init__(self, path: str):
        super().__init__(path, newline='\n')
        self.lines = 0

    def write_frame(self, record: Dict) -> None:
        """Append one :func:`frame_record` as a line, and flush.

        Raises:
            KeypointFileError: the writer was committed or aborted.
        """
        self._check_open()
        self._file.write(_line(record) + '\n')
        self._file.flush()
        self.lines += 1


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------

#: Bounds of the values a keypoint line may hold; anything else is refused
#: with the file, line and field (the README's "bad input").
#:
#: * Keypoint coordinates (pixels): within +-MAX_ABS_COORDINATE, far beyond
#:   any video frame, so that every reader and drawer can work with them.
#: * Keypoint confidences: from 0 to MAX_CONFIDENCE.  They are confidence-map
#:   values: the networks are trained toward [0, 1] and their peaks exceed 1
#:   only a little (bicubic upsampling overshoots; synthesized test weights
#:   reach about 2); 0 marks a missing keypoint.
#: * ``frame``: a whole number from 0 to MAX_FRAME_INDEX (OpenCV's frame
#:   positions are 32-bit), strictly increasing from line to line.
#: * ``time``: seconds from 0 to MAX_TIME (31 years), strictly increasing
#:   with the frames.
#: * ``person_id``: a whole number from -1 (untracked) to MAX_PERSON_ID.
#: * ``carried`` and ``decode_failed``: true or false.
MAX_ABS_COORDINATE = 1e6
MAX_CONFIDENCE = 100.0
MAX_FRAME_INDEX = 2 ** 31 - 1
MAX_TIME = 1e9
MAX_PERSON_ID = 2 ** 31 - 1

#: The keypoint lists whose values are checked (the 3-D lists are not read).
KEYPOINT_FIELDS: Tuple[str, ...] = (POSE_FIELD, FACE_FIELD, *HAND_FIELDS)

#: Characters of a refused value shown in an error message.
_SHOWN_CHARS = 40
#: The types of JSON numbers (``bool``, a subclass of ``int``, is not one).
_NUMBER_TYPES = frozenset((int, float))


def read_keypoint_lines(path: str) -> List[Dict]:
    """Every frame record of a keypoint-lines file, in file order, checked.

    Each line must be a JSON object with a ``frame``, a ``time`` and a
    ``people`` list of people whose values are within the bounds above
    (:data:`MAX_ABS_COORDINATE`, ...); frames and times must increase
    strictly from line to line.  Lines out of order or repeated are an
    error, not sorted: the file was not written by one run of
    ``video_pose_detector.py --json``.  Blank lines are skipped.

    Returns:
        One dict per non-blank line, as written (:func:`frame_record`).

    Raises:
        KeypointFileError: the file is missing or unreadable, or a line is
            not such a record (one line: the file, the line number, the
            field and what it must be).
    """
    problem = input_file_problem(path, 'keypoint')
    if problem:
        raise KeypointFileError(problem)
    try:
        with open(path, encoding='utf-8') as stream:
            lines = stream.readlines()
    except (OSError, UnicodeDecodeError) as error:
        raise KeypointFileError(f'{path}: cannot read the keypoint file '
                                f'({error}); {_WRITTEN_BY}')
    records: List[Dict] = []
    previous: Optional[Tuple[int, Dict]] = None    # (line number, record)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        record = _parse_line(line, number, path)
        if previous is not None:
            problem = _order_problem(record, *previous)
            if problem:
                raise KeypointFileError(f'{path}, line {number}: {problem}')
        previous = number, record
        records.append(record)
    return records


def _parse_line(line: str, number: int, path: str) -> Dict:
    """The checked record of line ``number`` (1-based) of ``path``."""
    try:
        record = json.loads(line)
    except RecursionError:
        raise KeypointFileError(f'{path}, line {number} is not JSON (nested '
                                f'too deeply): {_WRITTEN_BY}') from None
    except ValueError as error:      # JSONDecodeError, a number too long
        why = getattr(error, 'msg', str(error).split(':')[0])
        raise KeypointFileError(f'{path}, line {number} is not JSON ({why}): '
                                f'{_WRITTEN_BY}') from None
    if not isinstance(record, dict) or not isinstance(
            record.get(PEOPLE_FIELD), list):
        raise KeypointFileError(f'{path}, line {number} has no "people" '
                                f'list: {_WRITTEN_BY}')
    if FRAME_FIELD not in record or TIME_FIELD not in record:
        raise KeypointFileError(
            f'{path}, line {number} has no "frame" and "time" (a single '
            f'image\'s keypoints?): give the keypoint file of a video, '
            f'written by video_pose_detector.py --json')
    problem = _frame_problem(record)
    if problem:
        raise KeypointFileError(f'{path}, line {number}: {problem}; '
                                f'{_WRITTEN_BY}')
    for index, person in enumerate(record[PEOPLE_FIELD], start=1):
        problem = _person_problem(person)
        if problem:
            raise KeypointFileError(f'{path}, line {number}, person {index}: '
                                    f'{problem}; {_WRITTEN_BY}')
    return record


def _frame_problem(record: Dict) -> Optional[str]:
    """What is wrong with a record's frame fields, or None."""
    frame, time = record[FRAME_FIELD], record[TIME_FIELD]
    if not (_is_whole(frame) and 0 <= frame <= MAX_FRAME_INDEX):
        return (f'"frame" is {_shown(frame)}; it must be a whole number '
                f'from 0 to {MAX_FRAME_INDEX}')
    if not (_is_number(time) and 0 <= time <= MAX_TIME):
        return (f'"time" is {_shown(time)}; it must be a number of seconds '
                f'from 0 to {MAX_TIME:g}')
    for field in (CARRIED_FIELD, DECODE_FAILED_FIELD):
        if not isinstance(record.get(field, False), bool):
            return f'"{field}" is {_shown(record[field])}; give true or false'
    return None


def _order_problem(record: Dict, line: int, previous: Dict) -> Optional[str]:
    """What is wrong with a record following ``previous`` (of line
    ``line``), or None: frames and times must increase."""
    frame, before = int(record[FRAME_FIELD]), int(previous[FRAME_FIELD])
    if frame <= before:
        return (f'frame {frame} does not come after frame {before} of line '
                f'{line}: the frames must increase from line to line (lines '
                f'repeated or out of order?); {_WRITTEN_BY}, or put its '
                f'lines back in order')
    time, earlier = record[TIME_FIELD], previous[TIME_FIELD]
    if time <= earlier:
        return (f'time {_shown(time)} s of frame {frame} does not come after '
                f'time {_shown(earlier)} s of frame {before} (line {line}): '
                f'the times must increase with the frames; {_WRITTEN_BY}')
    return None


def _person_problem(person) -> Optional[str]:
    """What is wrong with a ``people`` entry, or None: it must be an object
    with a whole ``person_id`` (or a list of one) and keypoint lists of
    numbers within the bounds."""
    if not isinstance(person, dict):
        return f'{_shown(person)} is not an object'
    pid = person.get(PERSON_ID_FIELD, UNTRACKED_PERSON_ID)
    if isinstance(pid, list):
        pid = pid[0] if pid else UNTRACKED_PERSON_ID
    if not (isinstance(pid, int) and not isinstance(pid, bool)
            and UNTRACKED_PERSON_ID <= pid <= MAX_PERSON_ID):
        return (f'"person_id" is {_shown(person[PERSON_ID_FIELD])}; it must '
                f'be a whole number from {UNTRACKED_PERSON_ID} (untracked) to '
                f'{MAX_PERSON_ID}')
    for field in KEYPOINT_FIELDS:
        problem = _keypoints_problem(person.get(field))
        if problem:
            return f'"{field}" {problem}'
    return None


def _keypoints_problem(values) -> Optional[str]:
    """What is wrong with a flat ``[x0, y0, c0, ...]`` list (None: absent),
    or None."""
    if values is None or values == []:
        return None
    if not isinstance(values, list):
        return f'is {_shown(values)}, not a list of numbers'
    if not _NUMBER_TYPES.issuperset(map(type, values)):
        index, value = next((i, v) for i, v in enumerate(values)
                            if type(v) not in _NUMBER_TYPES)
        return f'value {index} is {_shown(value)}, not a number'
    try:
        array = np.array(values, np.float64)
    except OverflowError:                      # an integer beyond float64
        array = np.array([v if isinstance(v, float) or abs(v) < 2 ** 1023
                          else math.inf for v in values], np.float64)
    is_confidence = np.arange(len(array)) % VALUES_PER_KEYPOINT == 2
    good = np.where(is_confidence,                     # NaN: not good
                    (array >= 0) & (array <= MAX_CONFIDENCE),
                    np.abs(array) <= MAX_ABS_COORDINATE)
    if good.all():
        return None
    index = int(np.flatnonzero(~good)[0])
    what, bound = (('confidence', f'from 0 to {MAX_CONFIDENCE:g}')
                   if is_confidence[index] else
                   ('xy'[index % VALUES_PER_KEYPOINT],
                    f'within +-{MAX_ABS_COORDINATE:g} pixels'))
    return (f'value {index} ({what} of keypoint '
            f'{index // VALUES_PER_KEYPOINT}) is {_shown(values[index])}; '
            f'it must be {bound}')


def _is_number(value) -> bool:
    """Whether ``value`` is a finite JSON number (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return isinstance(value, int) or math.isfinite(value)


def _is_whole(value) -> bool:
    """Whether ``value`` is a finite JSON number with no fraction."""
    return _is_number(value) and (isinstance(value, int)
                                  or value.is_integer())


def _shown(value) -> str:
    """``value`` as JSON (NaN, Infinity included), cut for a message."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    if len(text) > _SHOWN_CHARS:
        text = text[:_SHOWN_CHARS - 3] + '...'
    return text
