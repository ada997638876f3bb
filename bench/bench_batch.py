#!/usr/bin/env python3
"""What processing many videos as one batch costs beyond the network.

Synthesizes the full-size body weights (bench_all's ``synthesized_body``),
writes --videos short clips (--frames frames of --width x --height, uniform
grey levels), and measures, --repeats times interleaved:

* the batch (:func:`pose.batch.run_batch`: listing, checks, manifest,
  fingerprints, each video through run_video) into a fresh output folder,
  its runner handed the networks loaded and warmed up once beforehand
  (the load and the first, slower forward pass are printed apart: a batch
  pays them once, separate processes once per video): wall time, each
  video's seconds and network seconds;
* the same videos one after another through
  :func:`pose.video_pipeline.run_video` with the networks already loaded
  (what a batch must not be slower than).

It prints the per-video overhead as the task defines it, (batch wall time
- model load - network seconds) / videos, as a share of the per-video
network time, and the two parts of it: the batch's own cost (wall - load -
the videos' own seconds) and the pipeline's (decoding, PAF matching,
tracking, drawing, encoding: each video's seconds less its network
seconds), and the batch beside the plain loop.  Goal: the batch's own cost
under 2% of the network time.  Run from the repository root:
``python bench/bench_batch.py``.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from typing import Dict, List

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import models  # noqa: E402,F401  (NumPy 2 fix before chainer)
import cv2  # noqa: E402
import numpy as np  # noqa: E402

from bench.bench_all import machine_line, synthesized_body  # noqa: E402
from pose.batch import BatchRequest, LocalRunner, run_batch  # noqa: E402
from pose.options import VideoOptions, load_detectors  # noqa: E402
from pose.video_pipeline import run_video  # noqa: E402

#: Frames per second of the clips.
FPS = 10.0
#: Grey level step between frames (so frames differ a little).
LEVEL_STEP = 16


def make_clips(folder: str, videos: int, frames: int, width: int,
               height: int) -> List[str]:
    """``videos`` MJPEG clips of ``frames`` uniform grey frames."""
    paths = []
    for number in range(videos):
        path = os.path.join(folder, f'clip{number}.avi')
        writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'MJPG'), FPS,
                                 (width, height))
        for i in range(frames):
            writer.write(np.full((height, width, 3),
                                 (number * 7 + i * LEVEL_STEP) % 256,
                                 np.uint8))
        writer.release()
        paths.append(path)
    return paths


def batch_run(clips: str, out: str, options: VideoOptions,
              detectors) -> Dict[str, float]:
    """One batch into the fresh folder ``out`` with the loaded (warm)
    ``detectors`` handed to its runner: its timings."""
    stop = threading.Event()
    runner = LocalRunner(options, lambda _: detectors, progress=False,
                         stop=stop)
    started = time.perf_counter()
    summary = run_batch(BatchRequest(clips, out, options), runner,
                        progress=False, stop=stop)
    wall = time.perf_counter() - started
    assert summary.exit_status() == 0, summary.lines()
    return {'wall': wall, 'load': runner.load_seconds,
            'videos': summary.seconds, 'network': summary.network_seconds}


def loop_run(paths: List[str], out: str, options: VideoOptions,
             detectors) -> Dict[str, float]:
    """The same videos one by one through run_video, networks loaded."""
    os.makedirs(out)
    started = time.perf_counter()
    network = 0.0
    for path in paths:
        stem = os.path.splitext(os.path.basename(path))[0]
        video_options = VideoOptions(
            weights=options.weights, size=options.size,
            video_out=os.path.join(out, f'{stem}_pose.mp4'),
            keypoints_out=os.path.join(out, f'{stem}.jsonl'))
        network += run_video(path, video_options, detectors,
                             progress=False).network_seconds
    return {'wall': time.perf_counter() - started, 'network': network}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--videos', type=int, default=6)
    parser.add_argument('--frames', type=int, default=4)
    parser.add_argument('--width', type=int, default=184)
    parser.add_argument('--height', type=int, default=184)
    parser.add_argument('--size', type=int, default=184,
                        help='network input height')
    parser.add_argument('--repeats', type=int, default=2)
    args = parser.parse_args(argv)
    print(machine_line())
    with tempfile.TemporaryDirectory() as folder:
        weights = synthesized_body(folder)[1]
        clips = os.path.join(folder, 'clips')
        os.makedirs(clips)
        paths = make_clips(clips, args.videos, args.frames, args.width,
                           args.height)
        options = VideoOptions(weights=weights, size=args.size)
        started = time.perf_counter()
        detectors = load_detectors(options)
        load = time.perf_counter() - started
        started = time.perf_counter()
        detectors.predict([np.zeros((args.height, args.width, 3), np.uint8)])
        print(f'model load {load:.2f} s (once per batch, not per video); '
              f'first forward pass (warm-up, also once) '
              f'{time.perf_counter() - started:.2f} s')
        batches, loops = [], []
        for repeat in range(args.repeats):          # interleaved
            batches.append(batch_run(clips, os.path.join(
                folder, f'batch{repeat}'), options, detectors))
            loops.append(loop_run(paths, os.path.join(
                folder, f'loop{repeat}'), options, detectors))
    report(batches, loops, args)
    return 0


def report(batches: List[Dict[str, float]], loops: List[Dict[str, float]],
           args: argparse.Namespace) -> None:
    n = args.videos
    print(f'{n} videos x {args.frames} frames {args.width}x{args.height}, '
          f'full-size body network at input height {args.size}, '
          f'{args.repeats} interleaved repeats')
    for number, (batch, loop) in enumerate(zip(batches, loops)):
        network = batch['network'] / n
        task = (batch['wall'] - batch['load'] - batch['network']) / n
        own = (batch['wall'] - batch['load'] - batch['videos']) / n
        pipeline = (batch['videos'] - batch['network']) / n
        versus = (batch['wall'] - batch['load'] - loop['wall']) / n
        print(f'repeat {number}: batch wall {batch["wall"]:.2f} s (model '
              f'load {batch["load"]:.2f} s), network {network:.3f} s/video;'
              f' per-video overhead {task * 1e3:.1f} ms = '
              f'{task / network:.1%} of the network time, of which the '
              f'batch\'s own {own * 1e3:.1f} ms ({own / network:.2%}) and '
              f'the pipeline\'s {pipeline * 1e3:.1f} ms '
              f'({pipeline / network:.1%}); batch minus plain run_video '
              f'loop {versus * 1e3:+.1f} ms/video '
              f'({versus / network:+.2%}; the loop\'s network '
              f'{loop["network"] / n:.3f} s/video)')
    own = statistics.median((b['wall'] - b['load'] - b['videos'])
                            / b['network'] for b in batches)
    print(f'median batch-own overhead: {own:.2%} of the network time '
          f'(goal < 2%)')


if __name__ == '__main__':
    sys.exit(main())
