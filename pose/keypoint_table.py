"""The keypoint table: a video's body keypoints as CSV, for spreadsheets.

The one owner of the format (``video_pose_detector.py --csv``): a header
row, then one row per person per frame, in frame order::

    frame,time,carried,person_id,Nose_x,Nose_y,Nose_c,Neck_x,...,LEar_c

* ``frame``: the frame's index in the video; ``time``: its time in seconds.
* ``carried``: 1 where the people are those of the last frame the network
  ran on (``--every N``), 0 where they were detected on this frame.
* ``person_id``: the tracker id, following a person across frames (-1:
  untracked).
* ``<joint>_x``, ``<joint>_y`` (image pixels, x to the right, y down) and
  ``<joint>_c`` (the joint's confidence) for every joint of
  :data:`entity.JOINT_NAMES` in order.  A **missing joint** has empty x and
  y and a confidence of 0.

Frames without people (and frames that failed to decode) have no row.
Values are rounded as in the keypoint files (:mod:`pose.keypoints`).
:class:`KeypointTableWriter` writes it atomically, frame by frame;
:func:`read_keypoint_table` reads it back into arrays.
"""
from __future__ import annotations

import csv
import dataclasses
from typing import List, Optional, Sequence

import numpy as np

import entity
from common.files import AtomicTextFile, input_file_problem
from pose.detection import check_poses
from pose.keypoints import (CONFIDENCE_DECIMALS, COORDINATE_DECIMALS,
                            TIME_DECIMALS, UNTRACKED_PERSON_ID,
                            KeypointFileError)

#: The columns before the joints', and the suffixes of each joint's three.
FRAME_COLUMNS = ('frame', 'time', 'carried', 'person_id')
JOINT_SUFFIXES = ('_x', '_y', '_c')


def header() -> List[str]:
    """The table's column names."""
    return list(FRAME_COLUMNS) + [name + suffix
                                  for name in entity.JOINT_NAMES
                                  for suffix in JOINT_SUFFIXES]


def _rows(index: int, time: float, carried: bool, poses: np.ndarray,
          confidences: np.ndarray, ids: Sequence[int]) -> List[List]:
    """The rows of one frame's people (see :meth:`KeypointTableWriter.
    write_frame` for the arrays)."""
    poses, confidences = check_poses(poses, confidences)
    found = poses[:, :, 2] > 0                               # (N, 18)
    xy = np.round(poses[:, :, :2].astype(np.float64), COORDINATE_DECIMALS)
    conf = np.where(found, np.round(confidences.astype(np.float64),
                                    CONFIDENCE_DECIMALS), 0.0)
    start = [int(index), round(float(time), TIME_DECIMALS), int(carried)]
    rows = []
    for person in range(len(poses)):
        values: List = []
        for (x, y), c, ok in zip(xy[person].tolist(), conf[person].tolist(),
                                 found[person].tolist()):
            values += (x, y, c) if ok else ('', '', 0)
        rows.append(start + [int(ids[person])] + values)
    return rows


class KeypointTableWriter(AtomicTextFile):
    """A keypoint table written frame by frame, atomically
    (:class:`common.files.AtomicTextFile`: a hidden temporary file beside
    ``path``, the header first, renamed by :meth:`commit`, deleted by
    :meth:`abort`).

    Attributes:
        path: the destination.
        temp_path: the temporary file.
        rows: rows written so far (the header not counted).

    Raises (on creation):
        KeypointFileError: the folder is missing or not writable.
    """
    error = KeypointFileError

    def __init__(self, path: str):
        super().__init__(path, newline='')
        self.rows = 0
        self._csv = csv.writer(self._file, lineterminator='\n')
        self._csv.writerow(header())

    def write_frame(self, index: int, time: float, carried: bool,
                    poses: np.ndarray, confidences: np.ndarray,
                    ids: Optional[Sequence[int]] = None) -> None:
        """Append one frame's people.

        Args:
            index, time: the frame's index and time in seconds.
            carried: the people are those of the last detected frame.
            poses: (N, 18, 3) x, y, flag (> 0 where found).
            confidences: (N, 18) joint confidences.
            ids: (N,) track ids, or None (untracked, -1).

        Raises:
            KeypointFileError: the writer was committed or aborted.
            OSError: the disk is full...
        """
        self._check_open()
        if ids is None:
            ids = [UNTRACKED_PERSON_ID] * len(poses)
        rows = _rows(index, time, carried, poses, confidences, ids)
        self._csv.writerows(rows)
        self.rows += len(rows)


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------

@dataclasses.dataclass
class KeypointTable:
    """A keypoint table's R rows as arrays.

    Attributes:
        frames: (R,) int64 frame indices.
        times: (R,) float64 seconds.
        carried: (R,) bool.
        person_ids: (R,) int64.
        xy: (R, 18, 2) float64 pixels, NaN where the joint is missing.
        confidences: (R, 18) float64, 0 where missing.
    """
    frames: np.ndarray
    times: np.ndarray
    carried: np.ndarray
    person_ids: np.ndarray
    xy: np.ndarray
    confidences: np.ndarray

    def __len__(self) -> int:
        return len(self.frames)


_WRITTEN_BY = 'give a table written by video_pose_detector.py --csv'


def read_keypoint_table(path: str) -> KeypointTable:
    """Read a keypoint table back.

    Raises:
        KeypointFileError: the file is missing or unreadable, its header is
            not the table's, or a row is not numbers where numbers belong
            (one line: the file, the line and what to do).
    """
    problem = input_file_problem(path, 'keypoint table')
    if problem:
        raise KeypointFileError(problem)
    try:
        with open(path, encoding='utf-8', newline='') as stream:
            lines = list(csv.reader(stream))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise KeypointFileError(f'{path}: cannot read the table ({error}); '
                                f'{_WRITTEN_BY}') from error
    if not lines or lines[0] != header():
        raise KeypointFileError(f'{path}: line 1 is not the keypoint '
                                f'table\'s header; {_WRITTEN_BY}')
    width = len(FRAME_COLUMNS) + entity.NUM_JOINTS * len(JOINT_SUFFIXES)
    values = np.full((len(lines) - 1, width), np.nan)
    for number, row in enumerate(lines[1:], start=2):
        try:
            if len(row) != width:
                raise ValueError(f'{len(row)} columns, not {width}')
            if '' in row[:len(FRAME_COLUMNS)]:
                raise ValueError(f'{", ".join(FRAME_COLUMNS)} must all be '
                                 f'given')
            values[number - 2] = [float(v) if v != '' else np.nan
                                  for v in row]
        except ValueError as error:
            raise KeypointFileError(f'{path}, line {number}: {error}; '
                                    f'{_WRITTEN_BY}') from None
    joints = values[:, len(FRAME_COLUMNS):].reshape(
        -1, entity.NUM_JOINTS, len(JOINT_SUFFIXES))
    confidences = np.nan_to_num(joints[:, :, 2])
    xy = np.where((confidences > 0)[:, :, None], joints[:, :, :2], np.nan)
    return KeypointTable(
        frames=values[:, 0].astype(np.int64), times=values[:, 1],
        carried=values[:, 2] > 0, person_ids=values[:, 3].astype(np.int64),
        xy=xy, confidences=confidences)
