#!/usr/bin/env python3
"""The CPU convolution schemes layer by layer, then the whole network.

For every distinct 3x3 and 7x7 layer shape of the body network at 368x368
and 656x368 (input channels, output channels, map size): the direct
convolution's time, each candidate scheme's time and relative max error
``|a - b|.max() / |b|.max()`` against a float64 direct convolution of the
same float32 inputs, and the scheme the ``rule`` mode picks.  Then the body,
face and hand networks' forward passes with every layer direct and with the
``rule`` mode, interleaved, median of --runs, with each stage's relative max
error against the direct path and both paths' against OpenCV DNN on the
same weights.

    .venv/bin/python bench/bench_conv_schemes.py [--runs 3]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from typing import Callable, Dict, List, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import models  # noqa: E402,F401  (NumPy 2 fix before chainer)
import chainer  # noqa: E402
import cv2  # noqa: E402
import numpy as np  # noqa: E402

from bench.bench_all import machine_line  # noqa: E402
from bench.timing import median_seconds  # noqa: E402
from models import NETWORKS, cpu_conv, spec as specs  # noqa: E402
from models.synthetic import (  # noqa: E402
    synthesize_weights, write_synthetic_caffemodel)

#: Network input sizes (height, width).
SIZES = ((368, 368), (368, 656))
#: The body network's trunk reduces the input by this factor.
STRIDE = 8
#: Input size of the face and hand networks (OpenPose's default).
PART_SIZE = (368, 368)

Shape = Tuple[int, int, int, int, int]     # C, O, k, H, W


def layer_shapes(spec: specs.NetSpec, height: int, width: int
                 ) -> List[Shape]:
    """Distinct (C, O, k, H, W) of the 3x3 and 7x7 layers, in order."""
    shapes, seen = [], set()
    size = (height, width)
    for layer in spec.trunk:
        if isinstance(layer, specs.Pool):
            size = (-(-size[0] // 2), -(-size[1] // 2))
        else:
            _add(shapes, seen, layer, size)
    size = (height // STRIDE, width // STRIDE)
    for layer in spec.convolutions():
        if layer not in spec.trunk:
            _add(shapes, seen, layer, size)
    return shapes


def _add(shapes, seen, layer, size) -> None:
    shape = (layer.in_channels, layer.out_channels, layer.ksize) + size
    if layer.ksize > 1 and shape not in seen:
        seen.add(shape)
        shapes.append(shape)


def exact(x: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """float64 direct convolution of float32 inputs (chainer, no bias)."""
    import chainer.functions as F
    return F.convolution_2d(x.astype(np.float64), weight.astype(np.float64),
                            pad=weight.shape[2] // 2).array


def relative_error(found: np.ndarray, expected: np.ndarray) -> float:
    return float(np.abs(found - expected).max() / np.abs(expected).max())


def layer_rows(shape: Shape, runs: int) -> str:
    """One line: each scheme's milliseconds (and error) for ``shape``."""
    channels, out, k, height, width = shape
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, channels, height, width), dtype=np.float32)
    weight = rng.standard_normal((out, channels, k, k), dtype=np.float32)
    weight *= np.float32(1 / (k * np.sqrt(channels)))
    bias = np.zeros(out, np.float32)
    expected = exact(x, weight)
    plan = cpu_conv.ConvPlan()
    cells = []
    for scheme in cpu_conv.SCHEMES.get(k, ('direct',)):
        found = plan.run(scheme, x, weight, bias, False)
        ms = 1e3 * median_seconds(
            lambda: plan.run(scheme, x, weight, bias, False), runs)
        cells.append(f'{scheme} {ms:6.1f} ms ({relative_error(found, expected):.0e})')
    chosen = cpu_conv.rule_scheme(weight.shape)
    return (f'{channels:4d}->{out:<4d} {k}x{k} {height:3d}x{width:<3d} '
            + ' | '.join(cells) + f'  -> {chosen}')


def network(name: str) -> chainer.Chain:
    """The full-size network ``name`` with synthesized weights (seed 0)."""
    model = NETWORKS[name]()
    for layer, weight, bias in synthesize_weights(model.spec, 0):
        getattr(model, layer).W.array[...] = weight
        getattr(model, layer).b.array[...] = bias
    return model


def opencv_stages(spec: specs.NetSpec, x: np.ndarray, folder: str
                  ) -> List[np.ndarray]:
    """Every stage's outputs by OpenCV DNN on the same weights (seed 0)."""
    caffemodel = os.path.join(folder, f'{spec.name}.caffemodel')
    if not os.path.exists(caffemodel):
        write_synthetic_caffemodel(caffemodel, spec, seed=0)
    prototxt = os.path.join(folder, f'{spec.name}-{x.shape[2]}x'
                                    f'{x.shape[3]}.prototxt')
    with open(prototxt, 'w') as f:
        f.write(specs.deploy_prototxt(spec, *x.shape[2:]))
    net = cv2.dnn.readNetFromCaffe(prototxt, caffemodel)
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    cv2.setNumThreads(os.cpu_count())
    net.setInput(x)
    names = [name for stage in specs.stage_output_names(spec)
             for name in stage]
    return list(net.forward(names))


def forward_function(model, x: np.ndarray, mode: str
                     ) -> Callable[[], List[np.ndarray]]:
    """A function running ``model`` on ``x`` in ``mode``, returning every
    stage's outputs."""
    def forward():
        os.environ[cpu_conv.SCHEME_VARIABLE] = mode
        with chainer.using_config('train', False), \
                chainer.no_backprop_mode():
            stages = model.stages(x)
        return [h.array for stage in stages for h in stage]
    return forward


def max_error(found: List[np.ndarray], expected: List[np.ndarray]) -> float:
    return max(relative_error(a, b) for a, b in zip(found, expected))


def network_line(name: str, model, height: int, width: int, runs: int,
                 folder: str) -> str:
    """Direct against ``rule``, interleaved; stage errors; kernel memory."""
    x = np.random.default_rng(1).uniform(
        -0.5, 0.5, (1, 3, height, width)).astype(np.float32)
    forwards = {mode: forward_function(model, x, mode)
                for mode in ('direct', 'rule')}
    start = time.perf_counter()
    outputs = {mode: forward() for mode, forward in forwards.items()}
    first = time.perf_counter() - start
    times: Dict[str, List[float]] = {mode: [] for mode in forwards}
    for _ in range(runs):
        for mode, forward in forwards.items():
            start = time.perf_counter()
            forward()
            times[mode].append(time.perf_counter() - start)
    direct, rule = (statistics.median(times[m]) for m in ('direct', 'rule'))
    opencv = opencv_stages(model.spec, x, folder)
    kernels = cpu_conv.plan_for(model).kernels.nbytes / 1e6
    return (f'{name:5s} {width}x{height}: direct {direct:5.2f} s, rule '
            f'{rule:5.2f} s ({rule / direct:.2f}x; first pass of both '
            f'{first:.1f} s); max stage error rule/direct '
            f'{max_error(outputs["rule"], outputs["direct"]):.1e}, against '
            f'OpenCV: direct {max_error(outputs["direct"], opencv):.1e}, rule '
            f'{max_error(outputs["rule"], opencv):.1e}; transformed kernels '
            f'{kernels:.0f} MB')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--layers-only', action='store_true',
                        help='only the per-layer table')
    parser.add_argument('--networks-only', action='store_true',
                        help='only the whole networks')
    args = parser.parse_args()
    print(machine_line(), flush=True)
    for height, width in SIZES if not args.networks_only else ():
        print(f'\nbody network {width}x{height}, layer by layer (ms, '
              'relative error against float64):', flush=True)
        for shape in layer_shapes(specs.POSENET, height, width):
            print(layer_rows(shape, args.runs), flush=True)
    if args.layers_only:
        return
    print(flush=True)
    with tempfile.TemporaryDirectory() as folder:
        body = network('posenet')
        for height, width in SIZES:
            print(network_line('body', body, height, width, args.runs,
                               folder), flush=True)
        del body
        for name in ('facenet', 'handnet'):
            print(network_line(name[:4], network(name), *PART_SIZE,
                               args.runs, folder), flush=True)


if __name__ == '__main__':
    main()
