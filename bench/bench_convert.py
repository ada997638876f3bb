#!/usr/bin/env python3
"""Conversion time and peak memory of the full-size body model.

Synthesizes a caffemodel with the exact layer shapes of
``pose_iter_440000.caffemodel`` (52.3 M parameters, 209 MB), then measures in
the same run, each as a fresh process (median of --runs):

* ``convert_model.py posenet`` on it (V2 and legacy V1 layouts): wall time
  and peak resident memory;
* the same interpreter only importing the converter (the fixed start-up
  cost, measured so the conversion's own memory can be told apart);
* OpenCV's C++ protobuf loader reading the same file
  (``cv2.dnn.readNetFromCaffe``), as a peer.

Targets (issue "Foundation"): at most 5 s, and peak memory at most twice the
file size.  Run from the repository root: ``make bench``.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import models  # noqa: E402,F401  (NumPy 2 fix before chainer)
from models import spec as specs  # noqa: E402
from models.synthetic import write_synthetic_caffemodel  # noqa: E402

TARGET_SECONDS = 5.0
TARGET_MEMORY_RATIO = 2.0

# Each child reports its own wall time and peak RSS in KiB: VmHWM of
# /proc/self/status, which starts afresh with the new program (ru_maxrss
# can carry the high-water mark of a large parent over the fork).
_CHILD = r'''
import resource, sys, time
sys.path.insert(0, {root!r})
start = time.perf_counter()
{body}
seconds = time.perf_counter() - start
try:
    with open('/proc/self/status') as status:
        peak = next(int(line.split()[1]) for line in status
                    if line.startswith('VmHWM:'))
except (OSError, StopIteration):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(seconds, peak)
'''
_BODIES = {
    'imports only': 'import convert_model',
    'convert_model.py': ('import convert_model\n'
                         'assert convert_model.main(["posenet", {src!r}, '
                         '{dst!r}]) == 0'),
    'OpenCV readNetFromCaffe': ('import cv2\n'
                                'cv2.dnn.readNetFromCaffe({proto!r}, {src!r})'),
}


def run_child(body: str, **paths) -> tuple:
    code = _CHILD.format(root=ROOT, body=body.format(**paths))
    result = subprocess.run([sys.executable, '-c', code], check=True,
                            capture_output=True, text=True, cwd=ROOT)
    seconds, rss_kib = result.stdout.strip().splitlines()[-1].split()
    return float(seconds), int(rss_kib) / 1024


def measure(body: str, runs: int, **paths) -> tuple:
    samples = [run_child(body, **paths) for _ in range(runs)]
    return (statistics.median(s for s, _ in samples),
            statistics.median(m for _, m in samples))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--runs', type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proto = os.path.join(tmp, 'deploy.prototxt')
        with open(proto, 'w') as f:
            f.write(specs.deploy_prototxt(specs.POSENET, 368, 368))
        rows = []
        for style, legacy in (('V2', False), ('V1', True)):
            src = os.path.join(tmp, f'body_{style}.caffemodel')
            start = time.perf_counter()
            write_synthetic_caffemodel(src, specs.POSENET, seed=0,
                                       style=style, legacy_shape=legacy)
            print(f'synthesized {style} body caffemodel in '
                  f'{time.perf_counter() - start:.1f} s', file=sys.stderr)
            paths = dict(src=src, dst=os.path.join(tmp, 'out.npz'),
                         proto=proto)
            for name, body in _BODIES.items():
                if style == 'V1' and name != 'convert_model.py':
                    continue
                rows.append((f'{name} ({style})',
                             *measure(body, args.runs, **paths)))
        size_mb = os.path.getsize(os.path.join(tmp, 'body_V2.caffemodel')) / 2**20
    report(rows, size_mb, args.runs)


def report(rows, size_mb: float, runs: int) -> None:
    print(f'\nFull-size body model: {size_mb:.1f} MiB caffemodel, '
          f'{sum(c.out_channels * (c.in_channels * c.ksize ** 2 + 1) for c in specs.POSENET.convolutions()):,} '
          f'parameters; median of {runs} fresh processes; {os.cpu_count()} cores\n')
    print(f'{"":34s} {"seconds":>8s} {"peak RSS MiB":>13s}')
    for name, seconds, rss in rows:
        print(f'{name:34s} {seconds:8.2f} {rss:13.0f}')
    by_name = {name: (s, m) for name, s, m in rows}
    convert_s, convert_mb = by_name['convert_model.py (V2)']
    base_s, base_mb = by_name['imports only (V2)']
    opencv_s, _ = by_name['OpenCV readNetFromCaffe (V2)']
    print(f'\nconversion time / {TARGET_SECONDS:.0f} s target:      '
          f'{convert_s / TARGET_SECONDS:.2f}')
    print(f'peak RSS / file size:                {convert_mb / size_mb:.2f}'
          f'  (target <= {TARGET_MEMORY_RATIO:.1f})')
    print(f'(peak RSS - imports) / file size:    '
          f'{(convert_mb - base_mb) / size_mb:.2f}')
    print(f'conversion time / OpenCV load time:  {convert_s / opencv_s:.2f}')


if __name__ == '__main__':
    main()
