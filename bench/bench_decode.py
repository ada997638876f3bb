#!/usr/bin/env python3
"""Time of decoding the poses of one frame, network excluded.

Builds the exact ground-truth maps
(:mod:`tests.fixtures.ground_truth_maps`) of five people in a 656 x 368
frame, checks that decoding finds all five, then times
:func:`pose.decode.decode_poses` (smoothing included) ``--runs`` times after
``--warmup`` runs and prints the median and 90th percentile.

Target: a median of at most 10 ms.  Run from the repository root:
``.venv/bin/python bench/bench_decode.py``.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402

from tests.fixtures import ground_truth_maps  # noqa: E402
from pose.decode import decode_poses  # noqa: E402

TARGET_MS = 10.0


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--runs', type=int, default=50,
                        help='timed runs (default: 50)')
    parser.add_argument('--warmup', type=int, default=5,
                        help='untimed runs first (default: 5)')
    return parser.parse_args(argv)


def time_decode(heatmaps: np.ndarray, pafs: np.ndarray, runs: int,
                warmup: int) -> np.ndarray:
    """Wall times in milliseconds of ``runs`` decodings."""
    for _ in range(warmup):
        decode_poses(heatmaps, pafs)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        decode_poses(heatmaps, pafs)
        times.append(time.perf_counter() - start)
    return 1e3 * np.array(times)


def main(argv=None) -> int:
    args = parse_args(argv)
    truth = ground_truth_maps.five_people()
    height, width = ground_truth_maps.FRAME_SHAPE
    heatmaps, pafs = ground_truth_maps.ground_truth_maps(
        truth, ground_truth_maps.FRAME_SHAPE)
    poses = decode_poses(heatmaps, pafs).poses
    if len(poses) != len(truth):
        print(f'error: decoded {len(poses)} people, expected {len(truth)}',
              file=sys.stderr)
        return 1
    times = time_decode(heatmaps, pafs, args.runs, args.warmup)
    median, p90 = np.median(times), np.percentile(times, 90)
    print(f'decode_poses, {width}x{height}, {len(truth)} people, '
          f'{args.runs} runs after {args.warmup} warm-up')
    print(f'  median {median:.2f} ms   p90 {p90:.2f} ms   '
          f'median / target {median / TARGET_MS:.2f} '
          f'(target {TARGET_MS:.0f} ms)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
