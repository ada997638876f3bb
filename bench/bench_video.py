#!/usr/bin/env python3
"""End-to-end video frame rate beside the network-only rate.

Makes a 10-second 640x360 clip at 30 fps (moving shapes), synthesizes the
full-size body weights, and measures in the same run:

* the network-only rate: the body network's forward pass on one frame at the
  default input height (median of --runs after a warm-up);
* the whole video command (``video_pose_detector.py`` in process: decoding
  thread, network, upsampling, PAF decoding, tracking, drawing, encoding
  thread, JSON lines, start-up included) twice: with the network on every
  frame of the first --overhead-seconds, and on the whole clip with
  ``--every`` so that the run stays short on a CPU.

The pipeline overhead is the first run's wall time (start-up included) minus
the time its network passes took (measured in the same run), relative to that
network time.  Target: under 10% on the 2-core development machine.
Random weights find dozens of "people" per frame, so drawing, decoding and
JSON cost more here than with real weights.
Run from the repository root: ``make bench``.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import models  # noqa: E402,F401  (NumPy 2 fix before chainer)
import cv2  # noqa: E402
import numpy as np  # noqa: E402

from models import spec as specs  # noqa: E402
from models.convert import convert  # noqa: E402
from models.synthetic import write_synthetic_caffemodel  # noqa: E402
from pose.api import VideoOptions, run_video  # noqa: E402
from pose.detector import PoseDetector, network_input  # noqa: E402
from bench.timing import median_seconds, network_forward  # noqa: E402

WIDTH, HEIGHT, FPS, SECONDS = 640, 360, 30, 10
TARGET_OVERHEAD = 0.10


def make_clip(path: str) -> None:
    """Coloured shapes moving over a gradient, 10 s at 30 fps."""
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), FPS,
                             (WIDTH, HEIGHT))
    background = np.linspace(0, 255, WIDTH, dtype=np.uint8)[None, :, None]
    background = np.repeat(np.repeat(background, HEIGHT, 0), 3, 2)
    for i in range(FPS * SECONDS):
        frame = background.copy()
        cv2.circle(frame, (40 + 2 * i % (WIDTH - 80), HEIGHT // 2), 30,
                   (0, 0, 255), -1)
        cv2.rectangle(frame, (WIDTH - 100 - i % 200, 40),
                      (WIDTH - 40 - i % 200, 160), (255, 0, 0), -1)
        writer.write(frame)
    writer.release()


def network_seconds(detector: PoseDetector, frame: np.ndarray,
                    runs: int) -> float:
    """Median seconds of the body network alone on ``frame``."""
    x, _ = network_input(frame, detector.params.input_height)
    return median_seconds(network_forward(detector, x), runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--every', type=int, default=30,
                        help='whole-clip run: network on every N-th frame '
                             '(default 30)')
    parser.add_argument('--overhead-seconds', type=float, default=0.5,
                        help='overhead run: seconds of the clip with the '
                             'network on every frame (default 0.5)')
    parser.add_argument('--gpu', type=int, default=-1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clip = os.path.join(tmp, 'clip.mp4')
        make_clip(clip)
        caffemodel = os.path.join(tmp, 'body.caffemodel')
        write_synthetic_caffemodel(caffemodel, specs.POSENET, seed=0)
        weights = os.path.join(tmp, 'body.npz')
        convert('posenet', caffemodel, weights)
        os.remove(caffemodel)
        detector = PoseDetector('posenet', weights, device=args.gpu)
        frame = cv2.VideoCapture(clip).read()[1]
        network = network_seconds(detector, frame, args.runs)
        overhead_run = run_command(clip, weights, tmp, args.gpu, 1,
                                   args.overhead_seconds)
        clip_run = run_command(clip, weights, tmp, args.gpu, args.every)
    report(network, overhead_run, clip_run, args)


def run_command(clip: str, weights: str, folder: str, gpu: int, every: int,
                end: float = None):
    """``(wall seconds, summary)`` of a video run on ``clip`` (what the
    video command does, detectors loaded included)."""
    options = VideoOptions(weights=weights, device=gpu, every=every, end=end,
                           keypoints_out=os.path.join(folder, 'clip.jsonl'))
    start = time.perf_counter()
    summary = run_video(clip, options)
    return time.perf_counter() - start, summary


def report(network: float, overhead_run, clip_run, args) -> None:
    frames = FPS * SECONDS
    device = 'CPU' if args.gpu < 0 else f'GPU {args.gpu}'
    print(f'\n{SECONDS} s {WIDTH}x{HEIGHT} clip at {FPS} fps ({frames} '
          f'frames), input height 368; {os.cpu_count()} CPU cores, '
          f'{device}\n')
    print(f'network only:        {1 / network:7.3f} frames/s '
          f'({1e3 * network:.0f} ms a frame)')
    wall, summary = overhead_run
    frames_run = summary.frames_read
    overhead = (wall - summary.network_seconds) / summary.network_seconds
    print(f'network on every frame, first {frames_run} frames: '
          f'{frames_run / wall:.3f} frames/s; network '
          f'{summary.network_seconds / frames_run:.2f} s a frame in the run')
    print(f'pipeline overhead (start-up, decoding, drawing, encoding, JSON, '
          f'tracking): {100 * overhead:.1f} % of network time (target < '
          f'{100 * TARGET_OVERHEAD:.0f} %)')
    clip_wall, _ = clip_run
    processed = -(-frames // args.every)
    print(f'whole clip, network on every {args.every}. frame ({processed} '
          f'frames): {frames / clip_wall:.2f} frames/s of video '
          f'({clip_wall:.1f} s)')

if __name__ == '__main__':
    main()
