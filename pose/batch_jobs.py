"""The videos of a batch and their outputs, checked before any work.

:func:`list_videos` finds the videos of a folder (recursive, by
extension: :data:`pose.video_io.VIDEO_EXTENSIONS`), a glob pattern
(``**`` recursive) or a list file (``.txt``, one path per line); each gets
an output name (the path under the folder without its extension, else the
file's stem), unique in the batch.  :func:`plan_jobs` turns a
:class:`BatchRequest` into one :class:`VideoJob` per video, with its output
paths in the output folder, and checks all of them first.
"""
from __future__ import annotations

import dataclasses
import glob
import os
import re
import shutil
from typing import Dict, Iterable, List, Optional, Tuple

from common.errors import ToolError
from common.files import (input_file_problem, output_dir_problem,
                          remove_quietly)
from pose.batch_manifest import MANIFEST_NAME
from pose.options import VideoOptions
from pose.video_io import VIDEO_EXTENSIONS

#: Suffix of the annotated video's name (as the video command's default).
VIDEO_SUFFIX = '_pose.mp4'
#: Extension of the keypoint lines.
KEYPOINTS_EXTENSION = '.jsonl'
#: Extension of the keypoint table.
CSV_EXTENSION = '.csv'
#: The folder, in the output folder, of every video's per-frame files.
JSON_FOLDER = 'json'
#: Extension of a list of videos.
LIST_EXTENSION = '.txt'
#: Characters that make a ``--videos`` value a glob pattern.
GLOB_CHARACTERS = '*?['


class BatchError(ToolError):
    """A batch that cannot start: nothing to do, clashing names, an
    output that cannot be written."""


@dataclasses.dataclass(frozen=True)
class VideoJob:
    """One video of a batch.

    Attributes:
        video: the input video's path, as listed.
        name: output name, unique in the batch (relative path without
            extension, '/' kept for subfolders).
        options: this video's :class:`pose.options.VideoOptions`: the
            batch's detector and frame options with its output paths
            (``video_out``, ``keypoints_out``, ``json_dir``, ``csv_out``).
    """
    video: str
    name: str
    options: VideoOptions


@dataclasses.dataclass
class BatchRequest:
    """A batch as asked for.

    Attributes:
        videos: a folder, a glob pattern or a ``.txt`` list of videos.
        out_dir: the output folder (created when missing).
        options: the detector and frame options of every video (output
            paths ignored).
        video: write ``<name>_pose.mp4`` for each video.
        json: write every video's OpenPose per-frame files
            (``<stem>_<frame>_keypoints.json``) into ``<out_dir>/json/``
            (into its subfolders as the videos' names have them).
        csv: write ``<name>.csv`` for each video.
    """
    videos: str
    out_dir: str
    options: VideoOptions
    video: bool = True
    json: bool = False
    csv: bool = False


# ---------------------------------------------------------------------------
# Listing
# ---------------------------------------------------------------------------

def list_videos(source: str, exclude: Optional[str] = None
                ) -> List[Tuple[str, str]]:
    """``[(video path, output name)]`` of a folder, glob or list file.

    Hidden files, and annotated videos (``*_pose.mp4``) under ``exclude``
    (the output folder: an earlier run's outputs), are left out of
    folders and globs.

    Raises:
        BatchError: nothing matched, the list cannot be read, or two
            videos have one output name.
    """
    if os.path.isdir(source):
        found = _folder_videos(source, exclude)
    elif source.lower().endswith(LIST_EXTENSION):
        found = _listed_videos(source)
    else:
        found = _glob_videos(source, exclude)
    if not found:
        raise BatchError(f'{source}: no video found (a folder is searched '
                         f'for {" ".join(sorted(VIDEO_EXTENSIONS))} files);'
                         f' check the --videos path or pattern')
    _check_names(found)
    return found


def _folder_videos(folder: str, exclude: Optional[str]
                   ) -> List[Tuple[str, str]]:
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith('.'))
        for name in sorted(files):
            path = os.path.join(root, name)
            extension = os.path.splitext(name)[1]
            if (extension.lower() in VIDEO_EXTENSIONS
                    and not name.startswith('.')
                    and not _is_output(path, exclude)):
                relative = os.path.relpath(path, folder)
                found.append((path, os.path.splitext(relative)[0]
                              .replace(os.sep, '/')))
    return found


def _glob_videos(pattern: str, exclude: Optional[str]
                 ) -> List[Tuple[str, str]]:
    if not any(c in pattern for c in GLOB_CHARACTERS) and not (
            os.path.exists(pattern)):
        raise BatchError(f'{pattern}: no such folder, list ({LIST_EXTENSION})'
                         f' or file; check the --videos path')
    return [(path, _stem(path))
            for path in sorted(glob.glob(pattern, recursive=True))
            if os.path.isfile(path) and not _is_output(path, exclude)]


def _is_output(path: str, out_dir: Optional[str]) -> bool:
    """Whether ``path`` is an annotated video in ``out_dir`` (or below)."""
    return bool(out_dir) and path.endswith(VIDEO_SUFFIX) and (
        _real(path).startswith(_real(out_dir) + os.sep))


def _listed_videos(path: str) -> List[Tuple[str, str]]:
    problem = input_file_problem(path, 'list', allow_empty=True)
    if problem:
        raise BatchError(problem)
    try:
        with open(path, encoding='utf-8-sig') as stream:
            lines = stream.read().splitlines()
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, 'strerror', None) or error
        raise BatchError(f'{path}: cannot read the list of videos '
                         f'({reason}); give a UTF-8 text file, one video '
                         f'path per line') from error
    folder = os.path.dirname(path)
    videos = [os.path.join(folder, os.path.expanduser(line.strip()))
              for line in lines
              if line.strip() and not line.strip().startswith('#')]
    return [(video, _stem(video)) for video in videos]


def _stem(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def _real(path: str) -> str:
    return os.path.normcase(os.path.realpath(path))


def _check_names(found: List[Tuple[str, str]]) -> None:
    """BatchError naming both videos when two share an output name (also
    differing only in case, which clash on many file systems)."""
    seen: Dict[str, str] = {}
    for video, name in found:
        other = seen.setdefault(name.casefold(), video)
        if other != video:
            raise BatchError(
                f'{other} and {video} would both write the outputs named '
                f'"{name}"; rename one of them or run them in separate '
                f'batches')


# ---------------------------------------------------------------------------
# Jobs and their checks
# ---------------------------------------------------------------------------

def plan_jobs(request: BatchRequest) -> List[VideoJob]:
    """The checked jobs of ``request``, in listing order.

    Raises:
        BatchError: see :func:`list_videos` and :func:`check_jobs`.
        ToolError: bad options.
    """
    found = list_videos(request.videos, exclude=request.out_dir)
    jobs = [make_job(video, name, request) for video, name in found]
    jobs[0].options.check()
    check_jobs(jobs, request.out_dir)
    return jobs


def make_job(video: str, name: str, request: BatchRequest) -> VideoJob:
    """The job of one video: its outputs named after ``name`` in the
    output folder."""
    base = os.path.join(request.out_dir, *name.split('/'))
    options = dataclasses.replace(
        request.options, show=False,
        video_out=base + VIDEO_SUFFIX if request.video else None,
        keypoints_out=base + KEYPOINTS_EXTENSION,
        json_dir=(os.path.join(request.out_dir, JSON_FOLDER,
                               *name.split('/')[:-1])
                  if request.json else None),
        csv_out=base + CSV_EXTENSION if request.csv else None)
    return VideoJob(video, name, options)


def job_outputs(job: VideoJob) -> List[str]:
    """The output files of ``job`` (the per-frame folder, shared by the
    batch's videos, is not one)."""
    options = job.options
    return [path for path in (options.video_out, options.keypoints_out,
                              options.csv_out) if path]


def check_jobs(jobs: List[VideoJob], out_dir: str) -> None:
    """BatchError, before any work, for an output folder that cannot be
    used, an output that is an input (a video, the weights) or another
    output (the manifest included), or exists as a folder, and for
    missing weights."""
    options = jobs[0].options
    weights = [options.weights] + [
        path for path, used in ((options.face_weights, options.face),
                                (options.hand_weights, options.hands))
        if used]
    for path in weights:
        problem = input_file_problem(path, 'weights')
        if problem:
            raise BatchError(problem)
    problem = output_dir_problem(out_dir, [job.video for job in jobs]
                                 + weights)
    if problem:
        raise BatchError(problem)
    inputs = {_real(path): path for path in
              [job.video for job in jobs] + weights}
    outputs = {_real(os.path.join(out_dir, MANIFEST_NAME)):
               os.path.join(out_dir, MANIFEST_NAME)}
    for job in jobs:
        for path in job_outputs(job):
            _check_output(path, inputs, outputs)
    for folder in sorted({os.path.dirname(p) for p in outputs.values()}
                         | _json_folders(jobs)):
        problem = output_dir_problem(folder)
        if problem:
            raise BatchError(problem)


def _check_output(path: str, inputs: Dict[str, str],
                  outputs: Dict[str, str]) -> None:
    real = _real(path)
    if real in inputs:
        raise BatchError(f'{path} would overwrite the input {inputs[real]};'
                         f' choose another --out-dir')
    if real in outputs:
        raise BatchError(f'{path} would be written twice (also as '
                         f'{outputs[real]}); rename one of the videos or '
                         f'choose another --out-dir')
    if os.path.isdir(path):
        raise BatchError(f'{path}: is a folder; move it away or choose '
                         f'another --out-dir')
    outputs[real] = path


def _json_folders(jobs: Iterable[VideoJob]) -> set:
    return {job.options.json_dir for job in jobs if job.options.json_dir}


def prepare_job(job: VideoJob) -> Optional[str]:
    """Before (re)doing ``job``: why its video cannot be read (then it
    fails without being opened), or None after making its output folders
    and deleting hidden temporaries left by an interrupted try."""
    problem = input_file_problem(job.video, 'video')
    if problem:
        return problem
    for path in job_outputs(job) + list(_json_folders([job])):
        os.makedirs(os.path.dirname(path) if path != job.options.json_dir
                    else path, exist_ok=True)
    remove_temporaries(job)
    return None


def remove_temporaries(job: VideoJob) -> None:
    """Delete the hidden temporaries of ``job``'s output files (named by
    :func:`common.files.temporary_path`: ``.<name>.<8 hex>.part<ext>``
    beside each output), left by an interrupted try.  The per-frame
    files' temporary folders are shared by the videos of a folder:
    :func:`remove_shared_temporaries` deletes them before a batch."""
    for path in job_outputs(job):
        for leftover in _temporaries(path):
            remove_quietly(leftover)


def remove_shared_temporaries(jobs: Iterable[VideoJob]) -> None:
    """Delete the temporary per-frame folders of the jobs' ``json_dir``
    (only while no video of theirs is being processed)."""
    for folder in _json_folders(jobs):
        for leftover in _temporaries(os.path.normpath(folder)):
            shutil.rmtree(leftover, ignore_errors=True)


def _temporaries(path: str) -> List[str]:
    """The existing :func:`common.files.temporary_path` names of
    ``path``."""
    folder, name = os.path.split(os.path.abspath(path))
    pattern = re.compile(re.escape(f'.{name}.') + r'[0-9a-f]{8}'
                         + re.escape(f'.part{os.path.splitext(name)[1]}'))
    return [candidate for candidate in glob.glob(os.path.join(
                glob.escape(folder), f'.{glob.escape(name)}.*'))
            if pattern.fullmatch(os.path.basename(candidate))]
