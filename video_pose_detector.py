#!/usr/bin/env python3
"""Body poses on every frame of a video file or a camera.

    python video_pose_detector.py --video clip.mp4                # -> clip_pose.mp4
    python video_pose_detector.py --video clip.mp4 --json clip.jsonl --every 2
    python video_pose_detector.py --camera 0 --show

Writes the annotated video (same frame size, rate and count as the input;
skipped frames carry the last poses) and, with ``--json``, one JSON line per
frame with the people in OpenPose's keypoint format and a ``person_id`` that
follows each person across frames.  Outputs appear under their final names
only when complete.  Ctrl-C or SIGTERM stops after the current frames, closes
both outputs with every frame processed so far, and exits with 130 / 143.
Bad input: one line on stderr and exit status 2.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import sys
import threading
from typing import Optional

import cv2

import entity
from models.convert import WeightsError
from pose.detector import DeviceError, PoseDetector
from pose.images import same_file
from pose_detector import (add_part_arguments, add_verbose_argument,
                           part_detectors, report_runtime)
from pose.video_io import (FrameReader, LineWriter, VideoError, VideoWriter,
                           default_output_path)
from pose.video_pipeline import Outputs, Summary, process_video

DEFAULT_WEIGHTS = 'models/coco_posenet.npz'
WINDOW = 'pose'
QUIT_KEY = ord('q')
#: Exit status after a signal: 128 + its number, as shells report it.
SIGNAL_EXIT_BASE = 128


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Detect and track body poses on every frame of a video.')
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument('--video', help='input video file')
    source.add_argument('--camera', type=int, metavar='N',
                        help='camera index (0: the first camera)')
    parser.add_argument('--weights', default=DEFAULT_WEIGHTS,
                        help=f'body weights .npz (default {DEFAULT_WEIGHTS})')
    parser.add_argument('--gpu', type=int, default=-1,
                        help='GPU id (default -1: CPU)')
    parser.add_argument('--size', type=int,
                        default=entity.DEFAULT_PARAMS.input_height,
                        help='network input height (default '
                             f'{entity.DEFAULT_PARAMS.input_height})')
    parser.add_argument('--precise', action='store_true',
                        help='multi-scale search: slower, more accurate')
    add_part_arguments(parser)
    add_verbose_argument(parser)
    parser.add_argument('--out', help='annotated video to write (default: '
                        'beside the input, <name>_pose.mp4)')
    parser.add_argument('--json', metavar='FILE',
                        help='keypoint lines to write (.jsonl, one per frame)')
    parser.add_argument('--start', type=float, default=0.0, metavar='SEC',
                        help='first second to process (default 0)')
    parser.add_argument('--end', type=float, metavar='SEC',
                        help='second to stop at (default: the end)')
    parser.add_argument('--every', type=int, default=1, metavar='N',
                        help='run the network on every N-th frame')
    parser.add_argument('--batch', type=int, default=1, metavar='B',
                        help='frames per network pass (useful on a GPU)')
    parser.add_argument('--no-video', action='store_true',
                        help='write keypoints only')
    parser.add_argument('--show', action='store_true',
                        help='show the frames in a window (q quits)')
    args = parser.parse_args(argv)
    check_args(parser, args)
    return args


def check_args(parser: argparse.ArgumentParser, args) -> None:
    stride = entity.NETWORK_STRIDE
    if args.size < stride or args.size % stride:
        parser.error(f'--size must be a positive multiple of {stride}')
    if args.every < 1 or args.batch < 1:
        parser.error('--every and --batch must be at least 1')
    if args.start < 0 or (args.end is not None and args.end <= args.start):
        parser.error('--start must be >= 0 and --end after --start')
    if args.no_video and not args.json and not args.show:
        parser.error('--no-video writes nothing without --json (or --show)')


def output_video_path(args) -> Optional[str]:
    if args.no_video:
        return None
    if args.out:
        return args.out
    if args.camera is not None:
        return f'camera{args.camera}_pose.mp4'
    return default_output_path(args.video)


def refuse_overwriting_input(args, paths) -> None:
    if args.video is None:
        return
    for path in paths:
        if path and same_file(path, args.video):
            raise VideoError(f'{path} is the input video; choose another '
                             f'output name')


def window_or_none(show: bool):
    """A function showing a frame (False when the user quits), or None."""
    if not show:
        return None
    if sys.platform.startswith('linux') and not (
            os.environ.get('DISPLAY') or os.environ.get('WAYLAND_DISPLAY')):
        print('warning: no display; --show is ignored', file=sys.stderr)
        return None

    def show_frame(img) -> bool:
        cv2.imshow(WINDOW, img)
        return cv2.waitKey(1) & 0xFF != QUIT_KEY
    return show_frame


class StopOnSignal:
    """Sets an event on SIGINT/SIGTERM instead of raising, while active."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.event = threading.Event()
        self.received: Optional[signal.Signals] = None

    def _handle(self, number, _frame):
        self.received = signal.Signals(number)
        self.event.set()

    def __enter__(self):
        self._previous = {s: signal.signal(s, self._handle)
                          for s in self.SIGNALS}
        return self

    def __exit__(self, *exc):
        for number, handler in self._previous.items():
            signal.signal(number, handler)


def run(args) -> Summary:
    """Process the video as ``args`` say; returns the run's summary."""
    source = args.video if args.camera is None else args.camera
    video_path, json_path = output_video_path(args), args.json
    refuse_overwriting_input(args, (video_path, json_path))
    params = dataclasses.replace(entity.DEFAULT_PARAMS, input_height=args.size)
    with FrameReader(source, start=args.start, end=args.end) as reader:
        detector = PoseDetector('posenet', args.weights, device=args.gpu,
                                precise=args.precise, params=params)
        report_runtime(args)
        info = reader.info
        video = (VideoWriter(video_path, info.fps, (info.width, info.height))
                 if video_path else None)
        lines = LineWriter(json_path) if json_path else None
        outputs = Outputs(video, lines, window_or_none(args.show),
                          (info.width, info.height))
        summary = run_loop(reader, detector, outputs, args,
                           part_detectors(args))
        if reader.missing and not summary.stopped_by:
            print(f'warning: the video ended {reader.missing} frame(s) '
                  f'before the length its container announces (a cut-off '
                  f'file?)', file=sys.stderr)
    summary.outputs = [path for path in (video_path, json_path) if path]
    return summary


def commit_all(writers) -> None:
    """Commit every writer; if one fails, delete the others' files too."""
    for done, writer in enumerate(writers):
        try:
            writer.commit()
        except BaseException:
            for other in writers[done + 1:]:
                other.abort()
            raise


def run_loop(reader, detector, outputs: Outputs, args, parts) -> Summary:
    """The frame loop; commits both outputs on success or a stop signal,
    deletes them on any error."""
    writers = [w for w in (outputs.video, outputs.lines) if w]
    from tqdm import tqdm
    total = reader.expected_frames or None
    try:
        with StopOnSignal() as stop, tqdm(total=total, unit='frame',
                                          disable=None) as progress:
            summary = process_video(reader, detector, outputs,
                                    every=args.every, batch=args.batch,
                                    stop=stop.event, progress=progress,
                                    parts=parts)
            if stop.received:
                summary.stopped_by = stop.received.name
    except BaseException:
        for writer in writers:
            writer.abort()
        raise
    commit_all(writers)
    if args.show and outputs.show:
        cv2.destroyAllWindows()
    return summary


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        summary = run(args)
    except (VideoError, WeightsError, DeviceError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    for line in summary.lines():
        print(line)
    for path in summary.outputs:
        print(f'wrote {path}')
    if summary.stopped_by:
        return SIGNAL_EXIT_BASE + signal.Signals[summary.stopped_by].value
    return 0


if __name__ == '__main__':
    sys.exit(main())
