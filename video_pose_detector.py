#!/usr/bin/env python3
"""Body poses on every frame of a video file or a camera.

    python video_pose_detector.py --video clip.mp4                # -> clip_pose.mp4
    python video_pose_detector.py --video clip.mp4 --json clip.jsonl --every 2
    python video_pose_detector.py --camera 0 --show
    python video_pose_detector.py --video clip.mp4 --write-json --csv --smooth
    python video_pose_detector.py --videos season/ --out-dir results/ --no-video

Writes the annotated video (same frame size, rate and count as the input;
skipped frames carry the last poses) and, with ``--json``, one JSON line per
frame with the people in OpenPose's keypoint format and a ``person_id`` that
follows each person across frames; with ``--write-json`` OpenPose's
per-frame keypoint files, with ``--csv`` a table of one row per person per
frame.  Every output is checked before any frame is read, and appears under
its final name only when complete (the video once it reads back whole: a
full disk keeps the earlier file).  Ctrl-C or SIGTERM stops after the
current frames, closes every output with the frames processed so far, and
exits with 130 / 143.
Bad input: one line on stderr and exit status 2.  The work is done by
:func:`pose.api.run_video`.

``--videos`` (a folder, a quoted glob or a ``.txt`` list) processes many
videos with the networks loaded once, into ``--out-dir``: per video
``<name>_pose.mp4`` and ``<name>.jsonl`` (and ``<name>.csv``, ``json/``
with ``--csv``, ``--write-json``), and ``batch.jsonl``, the record a rerun
resumes from (it skips the videos done).  A bad video is one failed line
and the others go on; exit status 0 when every video is done, 1 when some
failed, 130 / 143 when stopped (the rest is left for the rerun).  The work
is done by :func:`pose.api.run_batch`.
"""
from __future__ import annotations

import argparse
import math
import sys
from typing import Optional

from common.cli import Console, quiet_start, run_command

PROG = 'video_pose_detector.py'
if __name__ == '__main__':
    quiet_start(PROG)        # before the slow imports (Chainer)

from pose.api import run_batch, run_video  # noqa: E402
from pose.options import (BESIDE_INPUT,  # noqa: E402
                          add_detector_arguments, check_detector_arguments,
                          join_net_resolution, report_runtime, video_options)
from pose.video_io import default_output_path  # noqa: E402
from pose.batch_options import (add_batch_arguments,  # noqa: E402
                                batch_request, batch_runner,
                                check_batch_arguments,
                                check_single_video_arguments)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description='Detect and track body poses on every frame of a video.')
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument('--video', help='input video file')
    source.add_argument('--camera', type=int, metavar='N',
                        help='camera index (0: the first camera)')
    source.add_argument('--videos', metavar='DIR|GLOB|LIST.txt',
                        help='many videos: a folder (searched recursively), '
                             'a quoted glob pattern (** recursive) or a .txt '
                             'list (one path per line); needs --out-dir')
    add_detector_arguments(parser)
    parser.add_argument('--out', help='annotated video to write (default: '
                        'beside the input, <name>_pose.mp4)')
    parser.add_argument('--json', metavar='FILE',
                        help='keypoint lines to write (.jsonl, one per frame)')
    parser.add_argument('--write-json', nargs='?', const=BESIDE_INPUT,
                        metavar='DIR',
                        help='OpenPose keypoint files, one per frame '
                             '(<name>_<12-digit frame>_keypoints.json), into '
                             'DIR (default: beside the input, <name>_json)')
    parser.add_argument('--csv', nargs='?', const=BESIDE_INPUT,
                        metavar='FILE',
                        help='keypoint table: one row per person per frame '
                             '(default: beside the input, <name>.csv)')
    parser.add_argument('--smooth', action='store_true',
                        help='smooth the keypoints over time (One-Euro '
                             'filter per tracked person)')
    parser.add_argument('--start', type=float, default=0.0, metavar='SEC',
                        help='first second to process (default 0)')
    parser.add_argument('--end', type=float, metavar='SEC',
                        help='second to stop at (default, or inf: the end)')
    parser.add_argument('--every', type=int, default=1, metavar='N',
                        help='run the network on every N-th frame')
    parser.add_argument('--batch', type=int, default=1, metavar='B',
                        help='frames per network pass (useful on a GPU)')
    parser.add_argument('--no-video', action='store_true',
                        help='write keypoints only')
    parser.add_argument('--show', action='store_true',
                        help='show the frames in a window (q quits)')
    add_batch_arguments(parser)
    args = parser.parse_args(join_net_resolution(argv))
    check_detector_arguments(parser, args)
    if args.every < 1 or args.batch < 1:
        parser.error('--every and --batch must be at least 1')
    if not (math.isfinite(args.start) and args.start >= 0):
        parser.error(f'--start must be a number of seconds >= 0, not '
                     f'{args.start:g}')
    if args.end == math.inf:
        args.end = None                 # to the end
    if args.end is not None and not args.end > args.start:
        parser.error(f'--end must come after --start ({args.start:g} s), '
                     f'not {args.end:g}; leave it out (or give inf) to go '
                     f'to the end')
    if args.videos is not None:
        check_batch_arguments(parser, args)
        return args
    check_single_video_arguments(parser, args)
    if args.no_video and not (args.json or args.write_json or args.csv
                              or args.show):
        parser.error('--no-video writes nothing without --json, --write-json '
                     'or --csv (or --show)')
    return args


def output_video_path(args: argparse.Namespace) -> Optional[str]:
    """The annotated video to write: --out, else beside the input."""
    if args.no_video:
        return None
    if args.out:
        return args.out
    if args.camera is not None:
        return f'camera{args.camera}_pose.mp4'
    return default_output_path(args.video)


def output_beside(args: argparse.Namespace, value, suffix: str,
                  extension: str) -> Optional[str]:
    """An output option's path: its value, or without one beside the input
    (``<stem><suffix><extension>``; ``camera<N>...`` for a camera)."""
    if value is not BESIDE_INPUT:
        return value
    if args.camera is not None:
        return f'camera{args.camera}{suffix}{extension}'
    return default_output_path(args.video, suffix, extension)


def run(args: argparse.Namespace, console: Console) -> int:
    if args.videos is not None:
        return run_videos(args, console)
    options = video_options(
        args, start=args.start, end=args.end, every=args.every,
        batch=args.batch, video_out=output_video_path(args),
        keypoints_out=args.json, show=args.show, smooth=args.smooth,
        json_dir=output_beside(args, args.write_json, '_json', ''),
        csv_out=output_beside(args, args.csv, '', '.csv'))
    source = args.video if args.camera is None else args.camera
    report_runtime(console, args.gpu, args.verbose)
    summary = run_video(source, options)
    for warning in summary.warnings:
        console.warning(warning)
    for line in summary.lines():
        print(line)
    for path in summary.outputs:
        print(f'wrote {path}')
    return summary.exit_status()


def run_videos(args: argparse.Namespace, console: Console) -> int:
    """--videos: every video into --out-dir (pose.batch.run_batch)."""
    options = video_options(args, start=args.start, end=args.end,
                            every=args.every, batch=args.batch,
                            smooth=args.smooth)
    report_runtime(console, args.gpu, args.verbose)
    summary = run_batch(batch_request(args, options),
                        runner=batch_runner(args, options))
    for line in summary.lines():
        print(line)
    for video, reason in summary.failed:
        console.error(f'{video} failed: {reason}')
    return summary.exit_status()


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_command(PROG, lambda: run(args, Console(PROG)))


if __name__ == '__main__':
    sys.exit(main())
