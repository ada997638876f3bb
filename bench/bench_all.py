#!/usr/bin/env python3
"""Every performance figure of the README in one run: ``make bench``.

Synthesizes the full-size body, face and hand caffemodels (the real layer
shapes, random weights from a fixed seed), then measures in this one run:

* the machine's single-precision GEMM rate (the practical roofline);
* the body network's forward pass, batch 1, at 368x368 and 656x368: this
  project against OpenCV DNN (``cv2.dnn.readNetFromCaffe`` on the same
  caffemodel, ``cv2.setNumThreads`` = cores) and PyTorch's CPU build (where
  installed) on the same weights; median of --runs after a warm-up, as
  seconds, GFLOP/s (FLOPs counted from the layers), share of the GEMM rate
  and ratio to each peer; the three runtimes' outputs are compared too;
* decoding five people, ``--face`` and ``--hands`` for one person, one image
  end to end, and a video run end to end with its peak resident memory;
* converting the full-size body model: time and peak memory.

Each figure is printed as soon as it is measured, then the whole table.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import sys
import tempfile
from typing import Callable, List, Optional, Tuple

# PyTorch's OpenMP threads would otherwise spin after each forward pass and
# take the cores from the runtime measured next.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import models  # noqa: E402,F401  (NumPy 2 fix before chainer)
import cv2  # noqa: E402
import numpy as np  # noqa: E402

from pose.api import Detectors, process_image  # noqa: E402
from bench import bench_convert, bench_decode, bench_detect, bench_video  # noqa: E402
from bench import torch_peer  # noqa: E402
from bench.timing import median_seconds, network_forward  # noqa: E402
from models import spec as specs  # noqa: E402
from models.convert import convert  # noqa: E402
from models.runtime import blas_libraries, cpu_vector_flags  # noqa: E402
from models.synthetic import write_synthetic_caffemodel  # noqa: E402
from tests.fixtures import ground_truth_maps  # noqa: E402
from pose.detector import DeviceError, PoseDetector, get_device  # noqa: E402

#: Network input sizes (height, width) of the issue's targets.
SIZES = ((368, 368), (368, 656))
#: Square GEMM size for the roofline, and the GEMM of a 7x7 128->128 layer
#: at 46x46 (M, K, N): the shape two thirds of the network's FLOPs have.
SQUARE_GEMM = 2048
LAYER_GEMM = (128, 128 * 49, 46 * 46)
#: GPU benchmark: input (height, width) and batch sizes.
GPU_SIZE = (368, 656)
GPU_BATCHES = (1, 8)
#: Seconds of the benchmark clip the video run processes, every frame.
VIDEO_SECONDS = 0.3
#: Outputs of the three runtimes must agree to this relative max error.
PARITY = 1e-4

Row = Tuple[str, str]


def gemm_rate(m: int, k: int, n: int, runs: int) -> float:
    """GFLOP/s of float32 ``(m, k) @ (k, n)`` with NumPy's BLAS."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    out = np.empty((m, n), np.float32)
    seconds = median_seconds(lambda: np.matmul(a, b, out=out), runs)
    return 2 * m * k * n / seconds / 1e9


def machine_line() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as info:
            cpu = next(line.split(':', 1)[1].strip() for line in info
                       if line.startswith('model name'))
    except (OSError, StopIteration):
        pass
    blas = ', '.join(f'{b.get("internal_api")} {b.get("version")} '
                     f'({b.get("architecture")} kernel, '
                     f'{b.get("num_threads")} threads)'
                     for b in blas_libraries() if b['numpy'])
    flags = '/'.join(cpu_vector_flags()).upper() or 'no AVX2'
    return (f'{cpu}, {os.cpu_count()} cores, {flags}; Python '
            f'{platform.python_version()}, NumPy {np.__version__} with {blas}; '
            f'OpenCV {cv2.__version__}')


def synthesized_body(folder: str) -> Tuple[str, str]:
    """``(caffemodel, converted .npz)`` paths of the full-size body model
    with synthesized weights (seed 0), written into ``folder``."""
    caffemodel = os.path.join(folder, 'body.caffemodel')
    write_synthetic_caffemodel(caffemodel, specs.POSENET, seed=0)
    weights = os.path.join(folder, 'body.npz')
    convert('posenet', caffemodel, weights)
    return caffemodel, weights


class Network:
    """The three runtimes on the same synthesized body weights."""

    def __init__(self, folder: str):
        self.caffemodel, self.weights = synthesized_body(folder)
        self.folder = folder
        self.detector = PoseDetector('posenet', self.weights)
        self.torch = (torch_peer.build(specs.POSENET, seed=0)
                      if torch_peer.available() else None)

    def runtimes(self, x: np.ndarray):
        """``[(name, forward function returning the last stage's
        (PAFs, heatmaps))]`` for input ``x``."""
        found = [('this project (Chainer)', self._ours(x))]
        proto = os.path.join(self.folder, f'{x.shape[2]}x{x.shape[3]}.prototxt')
        with open(proto, 'w') as f:
            f.write(specs.deploy_prototxt(specs.POSENET, *x.shape[2:]))
        net = cv2.dnn.readNetFromCaffe(proto, self.caffemodel)
        cv2.setNumThreads(os.cpu_count())

        def opencv():
            net.setInput(x)
            return net.forward(['Mconv7_stage6_L1', 'Mconv7_stage6_L2'])
        found.append(('OpenCV DNN', opencv))
        if self.torch is not None:
            import torch
            found.append((f'PyTorch {torch.__version__}',
                          torch_peer.forward_function(self.torch, x)))
        return found

    def _ours(self, x: np.ndarray) -> Callable:
        import chainer

        def forward():
            with chainer.using_config('train', False), \
                    chainer.no_backprop_mode():
                heatmaps, pafs = self.detector.model(x)
            return pafs[-1].array, heatmaps[-1].array
        return forward


def relative_error(a, b) -> float:
    return max(float(np.abs(p - q).max() / np.abs(q).max())
               for p, q in zip(a, b))


def network_table(network: Network, runs: int, roofline: float,
                  printed: List[str]) -> None:
    """Rows of the body-network comparison, one block per input size."""
    header = (f'{"input":9s} {"runtime":24s} {"seconds":>8s} '
              f'{"GFLOP/s":>8s} {"of GEMM":>8s} {"this / it":>10s}')
    emit(printed, header)
    for height, width in SIZES:
        gflop = bench_detect.flops(height, width) / 1e9
        x = np.random.default_rng(1).uniform(
            -0.5, 0.5, (1, 3, height, width)).astype(np.float32)
        runtimes = network.runtimes(x)
        outputs = [forward() for _, forward in runtimes]     # warm-up
        samples = [[] for _ in runtimes]
        for _ in range(runs):           # interleaved: drift hits all alike
            for times, (_, forward) in zip(samples, runtimes):
                start = time.perf_counter()
                forward()
                times.append(time.perf_counter() - start)
        timed = [(name, statistics.median(times), output) for
                 (name, _), times, output in zip(runtimes, samples, outputs)]
        ours = timed[0][1]
        for i, (name, seconds, _) in enumerate(timed):
            ratio = f'{ours / seconds:10.2f}' if i else ''
            label = f'{width}x{height}' if i == 0 else ''
            emit(printed, f'{label:9s} {name:24s} {seconds:8.2f} '
                          f'{gflop / seconds:8.0f} '
                          f'{100 * gflop / seconds / roofline:7.0f}% {ratio}')
        errors = ', '.join(f'{name} {relative_error(output, timed[0][2]):.1e}'
                           for name, _, output in timed[1:])
        emit(printed, f'{"":9s} ({gflop:.1f} GFLOP; relative max error of the '
                      f'last stage against this project: {errors}; '
                      f'limit {PARITY:.0e})')


def emit(printed: List[str], line: str) -> None:
    print(line, flush=True)
    printed.append(line)


def image_seconds(network: Network, folder: str, runs: int
                  ) -> Tuple[float, int]:
    """``(seconds, people found)``: one 656x368 image file to its skeleton
    PNG and keypoint JSON (decoding, drawing and writing included)."""
    image = os.path.join(folder, 'frame.png')
    frame = np.random.default_rng(2).integers(0, 256, (368, 656, 3),
                                              np.uint8)
    cv2.imwrite(image, frame)
    out = os.path.join(folder, 'out')
    os.makedirs(out, exist_ok=True)
    detectors = Detectors(network.detector)
    found = []

    def process():
        found.append(process_image(detectors, image, out))
    seconds = median_seconds(process, runs)
    return seconds, len(found[-1].detection)


def video_run(weights: str, folder: str) -> Tuple[float, int, float]:
    """``(frames per second, frames, peak RSS MiB)`` of the video command
    in a fresh process, network on every frame of the clip's first
    :data:`VIDEO_SECONDS`, start-up included, writing the video and
    JSON."""
    clip = os.path.join(folder, 'clip.mp4')
    bench_video.make_clip(clip)
    lines = os.path.join(folder, 'clip.jsonl')
    argv = ['--video', clip, '--weights', weights, '--end',
            str(VIDEO_SECONDS), '--out', os.path.join(folder, 'pose.mp4'),
            '--json', lines]
    seconds, peak = bench_convert.run_child(
        'import video_pose_detector\n'
        'assert video_pose_detector.main({argv!r}) == 0', argv=argv)
    with open(lines) as records:
        frames = sum(1 for _ in records)
    return frames / seconds, frames, peak


def conversion(folder: str, runs: int) -> Tuple[float, float, float]:
    """``(seconds, peak RSS MiB, file MiB)`` of converting the full-size
    body caffemodel in a fresh process."""
    source = os.path.join(folder, 'body.caffemodel')
    seconds, rss = bench_convert.measure(
        bench_convert._BODIES['convert_model.py'], runs, src=source,
        dst=os.path.join(folder, 'converted.npz'))
    return seconds, rss, os.path.getsize(source) / 2 ** 20


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--runs', type=int, default=5,
                        help='timed runs of each network (default 5)')
    parser.add_argument('--gpu', type=int, default=-1, metavar='N',
                        help='measure GPU N instead: the body network at '
                             f'{GPU_SIZE[1]}x{GPU_SIZE[0]} in frames per '
                             f'second at batch {" and ".join(map(str, GPU_BATCHES))}, '
                             'and detection with the decoding on the device')
    args = parser.parse_args(argv)
    printed: List[str] = []
    emit(printed, f'Machine: {machine_line()}')
    if args.gpu >= 0:
        try:
            get_device(args.gpu)
        except DeviceError as error:
            sys.exit(f'error: {error}')
        with tempfile.TemporaryDirectory() as folder:
            gpu_table(folder, args.gpu, args.runs, printed)
        print('\n' + '=' * 72 + '\n' + '\n'.join(printed))
        return
    square = gemm_rate(SQUARE_GEMM, SQUARE_GEMM, SQUARE_GEMM, args.runs)
    layer = gemm_rate(*LAYER_GEMM, args.runs)
    roofline = max(square, layer)
    emit(printed, f'float32 GEMM: {square:.0f} GFLOP/s at {SQUARE_GEMM}^3, '
                  f'{layer:.0f} GFLOP/s at the 7x7 layers\' shape '
                  f'{LAYER_GEMM}; the roofline below is the higher')
    emit(printed, '')
    with tempfile.TemporaryDirectory() as folder:
        network = Network(folder)
        if network.torch is None:
            emit(printed, '(PyTorch is not installed here: no PyTorch row)')
        emit(printed, f'Body network, batch 1, median of {args.runs} runs of '
                      f'each runtime, interleaved, after a warm-up:')
        network_table(network, args.runs, roofline, printed)
        emit(printed, '')
        other_figures(network, folder, printed)
    print('\n' + '=' * 72 + '\n' + '\n'.join(printed))


def gpu_table(folder: str, gpu: int, runs: int, printed: List[str]) -> None:
    """Frames per second of the body network and of whole detections
    (network, on-device upsampling and peaks, host line integrals) on GPU
    ``gpu``, per batch size."""
    import cupy
    detector = PoseDetector('posenet', synthesized_body(folder)[1],
                            device=gpu)
    name = cupy.cuda.runtime.getDeviceProperties(gpu)['name'].decode()
    emit(printed, f'GPU {gpu}: {name}, CuPy {cupy.__version__}; input '
                  f'{GPU_SIZE[1]}x{GPU_SIZE[0]}, median of {runs}')
    rng = np.random.default_rng(4)
    for batch in GPU_BATCHES:
        x = rng.uniform(-0.5, 0.5, (batch, 3) + GPU_SIZE).astype(np.float32)
        network = median_seconds(network_forward(detector, x), runs)
        frames = list(rng.integers(0, 256, (batch,) + GPU_SIZE + (3,),
                                   np.uint8))
        detect = median_seconds(lambda: detector.predict(frames), runs)
        emit(printed, f'batch {batch}: network {batch / network:7.1f} '
                      f'frames/s ({1e3 * network / batch:.1f} ms a frame); '
                      f'detection {batch / detect:7.1f} frames/s')


def other_figures(network: Network, folder: str, printed: List[str]) -> None:
    truth = ground_truth_maps.five_people()
    heatmaps, pafs = ground_truth_maps.ground_truth_maps(
        truth, ground_truth_maps.FRAME_SHAPE)
    decode_ms = float(np.median(bench_decode.time_decode(heatmaps, pafs,
                                                         50, 5)))
    emit(printed, f'decoding five people at 656x368:        {decode_ms:7.1f} ms '
                  f'(target 10 ms)')
    frame = np.random.default_rng(3).integers(0, 256, (368, 656, 3),
                                              np.uint8)
    for name, seconds in bench_detect.measure_parts(
            bench_detect.part_detectors(folder, -1), frame, 3):
        emit(printed, f'{name:40s}{seconds:7.2f} s')
    image, people = image_seconds(network, folder, 3)
    emit(printed, f'one 656x368 image file end to end:      {image:7.2f} s '
                  f'({1 / image:.2f} images/s; the random weights "find" '
                  f'{people} people to decode and draw)')
    fps, frames, peak = video_run(network.weights, folder)
    emit(printed, f'video 640x360, every frame ({frames} frames, start-up '
                  f'included): {fps:.2f} frames/s, peak RSS {peak:.0f} MiB')
    seconds, rss, size = conversion(folder, 3)
    emit(printed, f'conversion of the body model ({size:.0f} MiB): '
                  f'{seconds:.2f} s, peak RSS {rss:.0f} MiB '
                  f'({rss / size:.2f}x the file; targets 5 s and 2x)')


if __name__ == '__main__':
    main()
