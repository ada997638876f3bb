#!/usr/bin/env python3
"""Body poses on every frame of a video file or a camera.

    python video_pose_detector.py --video clip.mp4                # -> clip_pose.mp4
    python video_pose_detector.py --video clip.mp4 --json clip.jsonl --every 2
    python video_pose_detector.py --camera 0 --show

Writes the annotated video (same frame size, rate and count as the input;
skipped frames carry the last poses) and, with ``--json``, one JSON line per
frame with the people in OpenPose's keypoint format and a ``person_id`` that
follows each person across frames.  Both outputs are checked before any
frame is read, and appear under their final names only when complete (the
video once it reads back whole: a full disk keeps the earlier file).  Ctrl-C or SIGTERM stops after the current frames, closes
both outputs with every frame processed so far, and exits with 130 / 143.
Bad input: one line on stderr and exit status 2.  The work is done by
:func:`pose.api.run_video`.
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

from pose.api import run_video  # noqa: E402
from pose.options import (add_detector_arguments,  # noqa: E402
                          check_detector_arguments, report_runtime,
                          video_options)
from pose.video_io import default_output_path  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description='Detect and track body poses on every frame of a video.')
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument('--video', help='input video file')
    source.add_argument('--camera', type=int, metavar='N',
                        help='camera index (0: the first camera)')
    add_detector_arguments(parser)
    parser.add_argument('--out', help='annotated video to write (default: '
                        'beside the input, <name>_pose.mp4)')
    parser.add_argument('--json', metavar='FILE',
                        help='keypoint lines to write (.jsonl, one per frame)')
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
    args = parser.parse_args(argv)
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
    if args.no_video and not args.json and not args.show:
        parser.error('--no-video writes nothing without --json (or --show)')
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


def run(args: argparse.Namespace, console: Console) -> int:
    options = video_options(
        args, start=args.start, end=args.end, every=args.every,
        batch=args.batch, video_out=output_video_path(args),
        keypoints_out=args.json, show=args.show)
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


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_command(PROG, lambda: run(args, Console(PROG)))


if __name__ == '__main__':
    sys.exit(main())
