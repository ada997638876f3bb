"""The manifest of a batch of videos: its resume state, one line per video.

``<out-dir>/batch.jsonl`` is JSON Lines: a header line
``{"format": "pose-batch-manifest", "version": 1}``, then one object per
video::

    {"name": "club/a", "video": "videos/club/a.mp4", "status": "done",
     "reason": "", "frames": 120, "seconds": 31.2, "network_seconds": 30.1,
     "worker": "local", "attempts": 1, "warnings": [],
     "outputs": ["out/club/a_pose.mp4", "out/club/a.jsonl"],
     "fingerprint": {"video": "/abs/videos/club/a.mp4", "size": 1234567,
                     "mtime_ns": 1700000000000000000, "options": {...}},
     "finished": "2026-11-26T10:00:00+00:00"}

``status`` is ``done``, ``failed`` (``reason`` says why) or ``stopped``
(by a signal; the video is redone).  A run appends each video's line as it
finishes (flushed and synced, so a crash loses at most the video in hand)
and rewrites the file atomically with one line per video (the latest) when
it starts and when it ends; a torn last line, left by a crash in the middle
of a write, is ignored.  A video is done for a later run when its line says
``done``, its fingerprint (the file's absolute path, size and modification
time, and the options that change the outputs) is the same, and its
outputs are all there.
"""
from __future__ import annotations

import dataclasses
import datetime
import json
import os
from typing import Any, Dict, IO, List, Optional

from common.errors import ToolError
from common.files import write_atomic
from pose.options import VideoOptions

#: The manifest's file name in the output folder.
MANIFEST_NAME = 'batch.jsonl'
#: The header line's ``format`` value, which tells our manifest from any
#: other file of that name.
FORMAT = 'pose-batch-manifest'
#: The version of the line format written (a newer one is refused).
VERSION = 1

#: The statuses a video's line can have.
DONE = 'done'
FAILED = 'failed'
STOPPED = 'stopped'
STATUSES = (DONE, FAILED, STOPPED)

#: :class:`pose.options.VideoOptions` fields that do not change a video's
#: outputs (where the network runs, how many frames go to it at once,
#: the window), left out of the fingerprint.
NEUTRAL_FIELDS = frozenset(('device', 'batch', 'show'))
#: Output path fields: the fingerprint records whether each output is
#: written, not where (the outputs' names come from the video's name).
OUTPUT_FIELDS = frozenset(('video_out', 'keypoints_out', 'json_dir',
                           'csv_out'))
#: Weights fields, and the option that makes each one used (None: always).
WEIGHTS_FIELDS = {'weights': None, 'face_weights': 'face',
                  'hand_weights': 'hands'}


class ManifestError(ToolError):
    """The batch manifest is not ours, unreadable or damaged."""


def file_stamp(path: str) -> Dict[str, Any]:
    """``{"path", "size", "mtime_ns"}`` of ``path`` (absolute; size and
    time None when it cannot be read)."""
    try:
        info = os.stat(path)
        size, mtime = info.st_size, info.st_mtime_ns
    except (OSError, ValueError):
        size = mtime = None
    return {'path': os.path.abspath(path), 'size': size, 'mtime_ns': mtime}


def fingerprint(video: str, options: VideoOptions) -> Dict[str, Any]:
    """What a video's outputs depend on: the video file's stamp
    (:func:`file_stamp`) and the options that change the outputs (the
    weights by their stamps, each output as written or not)."""
    fields = dataclasses.asdict(options)
    chosen: Dict[str, Any] = {}
    for key, value in sorted(fields.items()):
        if key in NEUTRAL_FIELDS:
            continue
        if key in OUTPUT_FIELDS:
            chosen[key] = bool(value)
        elif key in WEIGHTS_FIELDS:
            needed = WEIGHTS_FIELDS[key]
            chosen[key] = (file_stamp(value)
                           if needed is None or fields.get(needed) else None)
        else:
            chosen[key] = value
    stamp = file_stamp(video)
    found = {'video': stamp['path'], 'size': stamp['size'],
             'mtime_ns': stamp['mtime_ns'], 'options': chosen}
    return json.loads(_dumps(found))     # as read back (tuples: lists)


def entry(outcome, fingerprint_: Dict[str, Any],
          outputs: List[str]) -> Dict[str, Any]:
    """A video's manifest line from its
    :class:`pose.batch.VideoOutcome`."""
    line = {field.name: getattr(outcome, field.name)
            for field in dataclasses.fields(outcome)
            if field.name != 'fatal'}
    line['warnings'] = list(line.get('warnings', ()))
    line.update(outputs=list(outputs), fingerprint=fingerprint_,
                finished=datetime.datetime.now(datetime.timezone.utc)
                .isoformat(timespec='seconds'))
    return line


class Manifest:
    """The manifest of an output folder, read (checked), rewritten with one
    line per video, and open for appending.

    Attributes:
        path: the file.
        entries: video name -> its latest line (a dict), in first-seen
            order.
    """

    def __init__(self, path: str):
        """Read ``path`` (missing or empty: a new manifest) and rewrite it
        with one line per video.

        Raises:
            ManifestError: the file is not a manifest of this tool, is
                unreadable or damaged (nothing is changed then).
            OSError: it cannot be rewritten (the disk is full...).
        """
        self.path = path
        self.entries = read_manifest(path)
        self._stream: Optional[IO[str]] = None
        self.compact()

    def done(self, name: str, fingerprint_: Dict[str, Any]) -> bool:
        """Whether video ``name`` is done with this fingerprint and its
        outputs are all there."""
        line = self.entries.get(name)
        return bool(line and line['status'] == DONE
                    and line['fingerprint'] == fingerprint_
                    and all(os.path.exists(p) for p in line['outputs']))

    def record(self, line: Dict[str, Any]) -> None:
        """Append a video's line (flushed and synced to disk)."""
        if self._stream is None:
            self._stream = open(self.path, 'a', encoding='utf-8',
                                newline='\n')
        self._stream.write(_dumps(line) + '\n')
        self._stream.flush()
        os.fsync(self._stream.fileno())
        self.entries.pop(line['name'], None)     # the latest goes last
        self.entries[line['name']] = line

    def compact(self) -> None:
        """Rewrite the file atomically: the header and one line per
        video."""
        self.close()
        lines = [_dumps({'format': FORMAT, 'version': VERSION})]
        lines += [_dumps(line) for line in self.entries.values()]
        write_atomic(self.path, ('\n'.join(lines) + '\n').encode('utf-8'))

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None


def _dumps(value: Dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def read_manifest(path: str) -> Dict[str, Dict[str, Any]]:
    """Video name -> its latest line, in first-seen order; ``{}`` for a
    missing or empty file.  A last line that does not parse (torn by a
    crash) is ignored.

    Raises:
        ManifestError: not a manifest of this tool, unreadable, or a
            damaged line other than the last.
    """
    try:
        with open(path, encoding='utf-8') as stream:
            text = stream.read()
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, 'strerror', None) or error
        raise ManifestError(
            f'{path}: cannot read the batch manifest ({reason}); fix it, '
            f'move it away or choose another --out-dir') from error
    lines = text.split('\n')
    if lines[-1] == '':
        lines.pop()                  # the last line's end
    if not lines:
        return {}
    _check_header(path, lines[0])
    entries: Dict[str, Dict[str, Any]] = {}
    for number, text_line in enumerate(lines[1:], start=2):
        line = _parse_entry(text_line)
        if line is None:
            if number == len(lines):
                break                # torn by a crash: that video is redone
            raise ManifestError(
                f'{path}: line {number} is damaged; delete that line (its '
                f'video is then redone) or the whole file')
        entries.pop(line['name'], None)
        entries[line['name']] = line
    return entries


def _check_header(path: str, text: str) -> None:
    """ManifestError unless ``text`` is our header line."""
    try:
        header = json.loads(text)
    except ValueError:
        header = None
    if not (isinstance(header, dict) and header.get('format') == FORMAT):
        raise ManifestError(
            f'{path}: this file is not a batch manifest of this tool; move '
            f'it away or choose another --out-dir (it was left untouched)')
    version = header.get('version')
    if not isinstance(version, int) or version > VERSION:
        raise ManifestError(
            f'{path}: batch manifest version {version!r} is newer than this '
            f'tool reads ({VERSION}); update the tool or choose another '
            f'--out-dir')


def _parse_entry(text: str) -> Optional[Dict[str, Any]]:
    """A video's line, or None when it is not one."""
    try:
        line = json.loads(text)
    except ValueError:
        return None
    valid = (isinstance(line, dict) and isinstance(line.get('name'), str)
             and line.get('status') in STATUSES
             and isinstance(line.get('fingerprint'), dict)
             and isinstance(line.get('outputs'), list))
    return line if valid else None
