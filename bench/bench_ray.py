#!/usr/bin/env python3
"""The video batch on a local Ray instance: how well two workers share it.

Synthesizes the full-size body network (the real layer shapes, random
weights from a fixed seed), makes --clips short clips, and runs them as one
batch (:func:`pose.batch.run_batch`) on --workers local CPU workers
(:class:`pose.ray_batch.RayRunner`, Ray started here).  Reports the batch's
wall time, each worker's busy time (its videos' seconds plus its network
load) and the wall time over the busiest worker's: 1.0 means no time lost to
scheduling, waiting or start-up beyond the slowest worker's own work
(target: at most 1.10).  Ray's own start is timed apart.
Run from the repository root: ``.venv/bin/python bench/bench_ray.py``.
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import models  # noqa: E402,F401  (NumPy 2 fix before chainer)
import cv2  # noqa: E402
import numpy as np  # noqa: E402

from bench.bench_all import machine_line  # noqa: E402
from models import spec as specs  # noqa: E402
from models.convert import convert  # noqa: E402
from models.synthetic import write_synthetic_caffemodel  # noqa: E402
from pose.batch import DONE, BatchRequest, run_batch  # noqa: E402
from pose.options import VideoOptions  # noqa: E402
from pose.ray_batch import RayRunner  # noqa: E402

#: Clip frame size (width, height) and rate.
WIDTH, HEIGHT, FPS = 160, 120, 10
#: Network input height: small, so the full-size network runs in seconds.
SIZE = 96
#: Wall time over the busiest worker's busy time to stay under.
TARGET_RATIO = 1.10


def make_clip(path: str, frames: int, seed: int) -> None:
    """A square moving over a gradient, ``frames`` frames."""
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'MJPG'), FPS,
                             (WIDTH, HEIGHT))
    background = np.linspace(0, 255, WIDTH, dtype=np.uint8)[None, :, None]
    background = np.repeat(np.repeat(background, HEIGHT, 0), 3, 2)
    for i in range(frames):
        frame = background.copy()
        x = (seed * 17 + 3 * i) % (WIDTH - 30)
        cv2.rectangle(frame, (x, 30), (x + 30, 90), (0, 0, 255), -1)
        writer.write(frame)
    writer.release()


def synthesize_weights(folder: str) -> str:
    caffemodel = os.path.join(folder, 'body.caffemodel')
    write_synthetic_caffemodel(caffemodel, specs.POSENET, seed=0)
    weights = os.path.join(folder, 'body.npz')
    convert('posenet', caffemodel, weights)
    os.remove(caffemodel)
    return weights


def run(folder: str, args) -> None:
    weights = synthesize_weights(folder)
    videos = os.path.join(folder, 'videos')
    os.makedirs(videos)
    for i in range(args.clips):
        make_clip(os.path.join(videos, f'clip{i}.avi'), args.frames, i)
    options = VideoOptions(weights=weights, size=SIZE)
    started = time.perf_counter()
    runner = RayRunner('local', options, workers=args.workers)
    ray_start = time.perf_counter() - started
    started = time.perf_counter()
    summary = run_batch(BatchRequest(videos, os.path.join(folder, 'out'),
                                     options), runner, progress=False)
    wall = time.perf_counter() - started
    report(summary, runner, ray_start, wall, os.path.join(folder, 'out'))


def report(summary, runner: RayRunner, ray_start: float, wall: float,
           out: str) -> None:
    import json
    with open(os.path.join(out, 'batch.jsonl')) as manifest:
        lines = [json.loads(line) for line in manifest]
    busy = collections.Counter(runner.load_seconds)
    videos = collections.Counter()
    for line in lines:
        if line.get('status') == DONE:
            busy[line['worker']] += line['seconds']
            videos[line['worker']] += 1
    print(f'Machine: {machine_line()}')
    print(f'{summary.counts[DONE]} video(s) done, {summary.frames} frames, '
          f'network input height {SIZE}, full-size body network')
    print(f'Ray start (this machine, {os.cpu_count()} CPUs): '
          f'{ray_start:.1f} s (not in the batch time)')
    print(f'batch wall time (worker start-up included): {wall:.1f} s')
    for worker, seconds in sorted(busy.items()):
        print(f'  worker {worker}: {videos[worker]} video(s), busy '
              f'{seconds:.1f} s (network load '
              f'{runner.load_seconds.get(worker, 0):.1f} s)')
    slowest = max(busy.values())
    ratio = wall / slowest
    print(f'wall / busiest worker: {ratio:.3f} (target <= {TARGET_RATIO}: '
          f'{"met" if ratio <= TARGET_RATIO else "missed"})')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--clips', type=int, default=6)
    parser.add_argument('--frames', type=int, default=40,
                        help='frames per clip (default 40)')
    parser.add_argument('--workers', type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        run(folder, args)


if __name__ == '__main__':
    main()
