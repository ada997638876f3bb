#!/usr/bin/env python3
"""GPU figures: precision errors, convolution paths, throughput, video.

On GPU ``--gpu N``, with the full-size body network (synthesized weights,
the real layer shapes), in one run:

* per-stage relative max error (``|a - b|.max() / |a|.max()``) of the GPU
  path in float32, TF32 and float16 (and of Chainer's own GPU convolution
  in float32) against the float32 CPU path, at 368x368 and 656x368;
* the body network's time per frame, batch 1 and 8, both sizes: Chainer's
  GPU convolution (before) and :mod:`models.gpu_conv` (after) in float32,
  then TF32 and float16;
* whole detections (:meth:`PoseDetector.predict`: network, upsampling and
  peaks on the device, line integrals and assembly on the host) in frames
  per second, batch 1 and 8, both sizes, per precision; the decoding of one
  image timed on its own, with the peaks and people it found (random
  weights make random maps, so the decoding time depends on them);
* a 656x368 clip end to end through ``run_video`` at batch 8 (reading and
  writing overlapped with detection), keypoints only and with the annotated
  video, per precision;
* the face and hand networks per crop, batch 1 and 4, float32 and float16.

The default sections (``--sections detection,video,layers,parts``):

* detection timed in two parts, since random weights give random maps with
  thousands of peaks: the device work of a batch (network, upsampling,
  peaks to the host; synchronized, decoding skipped) and the host
  decoding (:func:`pose.decode.poses_from_peaks`) of five ground-truth
  people (tests/fixtures); frames/s sequential ``1 / (device + decode)``
  and overlapped ``1 / max(device, decode)``;
* the clip through ``run_video`` with weights whose final maps are zero
  (no peaks: the decoding is in the detection figures);
* the network's kernels per layer group (im2col, GEMM, bias + ReLU; CUDA
  events) and the GEMMs' TFLOP/s against plain matmuls of the same shapes;
* the face and hand networks.

``errors``, ``network``, ``predict`` (whole ``predict`` calls) and
``video-random`` (the clip with the random weights) give the figures
listed above.

Every figure is the median of ``--runs`` timed runs after a warm-up, the
device synchronized before each clock reading.  Each section that fails is
recorded with its error and the run goes on; a section that would start
after ``--budget`` seconds is skipped and says so.  The results are printed
as a table and written as JSON (``--json``).

``--gpu -1`` is a dry run on the CPU with the slim networks and small
inputs: every code path except the CUDA kernels, in seconds.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import traceback
from typing import Callable, Dict, List, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import models  # noqa: E402,F401  (NumPy 2 fix before chainer)
import chainer  # noqa: E402
import numpy as np  # noqa: E402

from models import NETWORKS, precision as precisions, spec as specs  # noqa: E402
from models.convert import convert, load_weights  # noqa: E402
from models.synthetic import write_synthetic_caffemodel  # noqa: E402

#: Network input sizes (height, width) and batch sizes measured on a GPU.
GPU_SIZES = ((368, 368), (368, 656))
GPU_BATCHES = (1, 8)
#: The same for the CPU dry run (slim networks).
DRY_SIZES = ((64, 64), (64, 112))
DRY_BATCHES = (1, 2)
#: Channel divisor of the dry run's slim networks (as tests/conftest.py).
DRY_DIVISOR = 8
#: Frames of the benchmark clip (656x368 on a GPU) and its frame rate.
VIDEO_FRAMES = 240
VIDEO_FPS = 30.0
#: Video batch size (frames per network pass).
VIDEO_BATCH = 8
#: Face and hand crops per network pass measured.
PART_BATCHES = (1, 4)
#: Seed of the synthesized weights.
SEED = 0
#: The network passes measured: (name, precision, models.gpu_conv on).
NETWORK_MODES = (('chainer float32', 'float32', False),
                 ('float32', 'float32', True),
                 ('tf32', 'tf32', True),
                 ('float16', 'float16', True))
#: Sections (``--sections``): stage errors, network time, detection timed
#: as device work + host decoding, video with peakless weights, per-layer
#: kernel times, face and hands, whole predict() calls and video with the
#: random weights (both decode the random maps' thousands of peaks).
SECTIONS = ('errors', 'network', 'detection', 'video', 'layers', 'parts',
            'predict', 'video-random')
DEFAULT_SECTIONS = ('detection', 'video', 'layers', 'parts')
#: Peaks per image above which the random maps are called pathological.
MANY_PEAKS = 500


class Bench:
    """The run's settings, clock, results and printed lines."""

    def __init__(self, args: argparse.Namespace):
        self.gpu = args.gpu
        self.dry = args.gpu < 0
        self.runs = args.runs
        self.budget = args.budget
        self.start = time.perf_counter()
        self.sizes = DRY_SIZES if self.dry else GPU_SIZES
        self.batches = DRY_BATCHES if self.dry else GPU_BATCHES
        self.precisions = (('float32',) if self.dry
                           else precisions.PRECISIONS)
        self.video_frames = args.frames
        self.json_path = args.json
        self.results: Dict[str, object] = {'errors': {}, 'skipped': []}
        self.lines: List[str] = []

    def emit(self, line: str) -> None:
        print(line, flush=True)
        self.lines.append(line)

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def synchronize(self) -> None:
        if not self.dry:
            import cupy
            cupy.cuda.Device(self.gpu).synchronize()

    def median(self, function: Callable[[], object],
               runs: Optional[int] = None) -> float:
        """Median seconds of ``runs`` calls after one warm-up call, the
        device synchronized before each clock reading."""
        function()
        self.synchronize()
        times = []
        for _ in range(runs or self.runs):
            begin = time.perf_counter()
            function()
            self.synchronize()
            times.append(time.perf_counter() - begin)
        return statistics.median(times)

    def over_budget(self, what: str) -> bool:
        """True (and ``what`` recorded as skipped) once the budget is
        spent."""
        if self.elapsed() <= self.budget:
            return False
        self.results['skipped'].append(what)
        self.emit(f'[{what}] skipped: budget spent')
        return True

    def section(self, name: str, function: Callable[[], None]) -> None:
        """Run one section; record its error or its skipping."""
        if self.elapsed() > self.budget:
            self.results['skipped'].append(name)
            self.emit(f'[{name}] skipped: {self.elapsed():.0f} s used of the '
                      f'{self.budget:.0f} s budget')
            return
        begin = time.perf_counter()
        self.emit(f'[{name}] ...')
        try:
            function()
        except Exception as error:          # recorded; the run goes on
            self.results['errors'][name] = traceback.format_exc()
            self.emit(f'[{name}] FAILED: {type(error).__name__}: {error}')
            traceback.print_exc()
        self.emit(f'[{name}] {time.perf_counter() - begin:.1f} s')
        self.save()

    def save(self) -> None:
        """Write the results so far (a run cut short keeps them)."""
        if self.json_path:
            self.results['seconds'] = self.elapsed()
            with open(self.json_path, 'w') as f:
                json.dump(self.results, f, indent=1)


def use_slim_networks() -> None:
    """The dry run's slim layer tables, as tests/conftest.py installs
    them."""
    for name, table in list(specs.SPECS.items()):
        slim = specs.narrowed(table, DRY_DIVISOR)
        setattr(specs, name.upper(), slim)
        specs.SPECS[name] = slim


def synthesized(network: str, folder: str) -> str:
    """Converted synthesized weights (.npz) of ``network`` in ``folder``."""
    caffemodel = os.path.join(folder, f'{network}.caffemodel')
    write_synthetic_caffemodel(caffemodel, specs.SPECS[network], seed=SEED)
    weights = os.path.join(folder, f'{network}.npz')
    convert(network, caffemodel, weights)
    os.remove(caffemodel)
    return weights


def environment(bench: Bench) -> None:
    info = {'python': platform.python_version(), 'numpy': np.__version__,
            'chainer': chainer.__version__, 'machine': platform.machine(),
            'cpu_count': os.cpu_count(), 'dry_run': bench.dry}
    if not bench.dry:
        import cupy
        props = cupy.cuda.runtime.getDeviceProperties(bench.gpu)
        info.update(cupy=cupy.__version__,
                    gpu=props['name'].decode(),
                    compute_capability=f'{props["major"]}.{props["minor"]}',
                    cuda_runtime=cupy.cuda.runtime.runtimeGetVersion(),
                    cuda_driver=cupy.cuda.runtime.driverGetVersion(),
                    CUPY_TF32=os.environ.get('CUPY_TF32'),
                    NVIDIA_TF32_OVERRIDE=os.environ.get(
                        'NVIDIA_TF32_OVERRIDE'))
    bench.results['environment'] = info
    bench.emit('environment: ' + json.dumps(info))


def device_name(bench: Bench) -> str:
    return '@numpy' if bench.dry else f'@cupy:{bench.gpu}'


def network_copy(bench: Bench, weights: str, precision: str,
                 gpu_kernels: bool = True):
    """The body network on the bench's device in ``precision``."""
    model = load_weights(NETWORKS['posenet'](), weights)
    device = chainer.get_device(device_name(bench))
    device.use()
    model.to_device(device)
    model.gpu_kernels = gpu_kernels
    return precisions.set_precision(model, precision)


def forward(model, x) -> list:
    """Per-stage (heatmaps + PAFs) arrays of ``model`` on ``x``."""
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        heatmaps, pafs = model(x)
    return [(h.array, p.array) for h, p in zip(heatmaps, pafs)]


def to_host(stages) -> list:
    cpu = chainer.backend.CpuDevice()
    return [[cpu.send(a).astype(np.float32) for a in stage]
            for stage in stages]


def relative_error(found: np.ndarray, expected: np.ndarray) -> float:
    return float(np.abs(found - expected).max() / np.abs(expected).max())


def precision_errors(bench: Bench, weights: str) -> None:
    """Per-stage relative max error against the float32 CPU path."""
    cpu_model = load_weights(NETWORKS['posenet'](), weights)
    device = chainer.get_device(device_name(bench))
    table = bench.results.setdefault('stage_errors', {})
    modes = [(name, p, k) for name, p, k in NETWORK_MODES
             if not bench.dry or p != 'tf32']
    models_ = {name: network_copy(bench, weights, p, k)
               for name, p, k in modes}
    for height, width in bench.sizes:
        x = np.random.default_rng(1).uniform(
            -0.5, 0.5, (1, 3, height, width)).astype(np.float32)
        expected = to_host(forward(cpu_model, x))
        for name, model in models_.items():
            found = to_host(forward(model, device.send(x)))
            errors = [max(relative_error(f, e) for f, e in zip(fs, es))
                      for fs, es in zip(found, expected)]
            table[f'{width}x{height} {name}'] = errors
            bench.emit(f'error {width}x{height} {name:16s} per stage: '
                       + ' '.join(f'{e:.1e}' for e in errors))


def network_times(bench: Bench, weights: str) -> None:
    """Seconds per frame of the body network per mode, size and batch."""
    table = bench.results.setdefault('network_ms_per_frame', {})
    modes = [(name, p, k) for name, p, k in NETWORK_MODES
             if not bench.dry or p == 'float32']
    device = chainer.get_device(device_name(bench))
    rng = np.random.default_rng(4)
    for name, precision, kernels in modes:
        model = network_copy(bench, weights, precision, kernels)
        for height, width in bench.sizes:
            for batch in bench.batches:
                x = device.send(rng.uniform(-0.5, 0.5, (
                    batch, 3, height, width)).astype(np.float32))
                seconds = bench.median(lambda: forward(model, x))
                key = f'{width}x{height} b{batch} {name}'
                table[key] = 1e3 * seconds / batch
                bench.emit(f'network {key:28s} {1e3 * seconds / batch:8.2f} '
                           f'ms/frame  {batch / seconds:8.1f} frames/s')


def detector(bench: Bench, weights: str, precision: str, height: int):
    """A PoseDetector whose network input height is ``height`` (frames of
    that height go through unscaled)."""
    import dataclasses
    import entity
    from pose.detector import PoseDetector
    params = dataclasses.replace(entity.DEFAULT_PARAMS, input_height=height)
    return PoseDetector('posenet', weights, device=bench.gpu,
                        precision=precision, params=params)


def detection_times(bench: Bench, weights: str) -> None:
    """Whole detections per precision, size and batch, and the decoding
    of one image on its own."""
    table = bench.results.setdefault('detection', {})
    rng = np.random.default_rng(5)
    for precision in bench.precisions:
        for height, width in bench.sizes:
            found = detector(bench, weights, precision, height)
            for batch in bench.batches:
                frames = list(rng.integers(0, 256, (batch, height, width, 3),
                                           np.uint8))
                before = found.network_seconds
                seconds = bench.median(lambda: found.predict(frames))
                network = (found.network_seconds - before) / (bench.runs + 1)
                people = [len(d) for d in found.predict(frames)]
                key = f'{width}x{height} b{batch} {precision}'
                table[key] = {'frames_per_second': batch / seconds,
                              'ms_per_frame': 1e3 * seconds / batch,
                              'network_ms_per_frame': 1e3 * network / batch,
                              'people': people}
                bench.emit(f'detection {key:22s} {batch / seconds:8.1f} '
                           f'frames/s ({1e3 * seconds / batch:.1f} ms a '
                           f'frame, network {1e3 * network / batch:.1f}); '
                           f'people {people}')
            decoding(bench, found, frames[0], f'{width}x{height} {precision}')


def decoding(bench: Bench, found, frame: np.ndarray, key: str) -> None:
    """Time of one image's decoding (device peaks, host line integrals)
    from its final maps, with the number of peaks and people."""
    from pose import device_maps
    import entity
    from pose import decode
    params = found.params
    both = next(found._image_maps(found._launch(found._prepare([frame]))))

    def decode_both():
        return decode.poses_from_evidence(
            device_maps.map_evidence(both, params), params)
    seconds = bench.median(decode_both)
    heatmaps = both[:entity.NUM_HEATMAPS]
    peaks = (device_maps.find_peaks(heatmaps, params.gaussian_sigma,
                                    params.peak_threshold))
    count = int(sum(len(p) for p in peaks))
    people = len(decode_both())
    bench.results.setdefault('decoding', {})[key] = {
        'ms': 1e3 * seconds, 'peaks': count, 'people': people,
        'pathological': count > MANY_PEAKS}
    note = (f'  PATHOLOGICAL: more than {MANY_PEAKS} peaks from the random '
            f'weights' if count > MANY_PEAKS else '')
    bench.emit(f'decoding {key:20s} {1e3 * seconds:8.1f} ms for {count} '
               f'peaks, {people} people{note}')


def video_runs(bench: Bench, weights: str, folder: str,
               suffix: str = '.avi') -> None:
    """A clip end to end through run_video at batch 8, per precision,
    keypoints only and with the annotated video."""
    from pose.api import Detectors, VideoOptions, run_video
    from tests.video_clips import make_clip
    height, width = bench.sizes[-1]
    clip = make_clip(os.path.join(folder, 'clip.avi'),
                     frames=bench.video_frames, size=(width, height),
                     fps=VIDEO_FPS)
    table = bench.results.setdefault('video', {})
    batch = bench.batches[-1] if bench.dry else VIDEO_BATCH
    for precision in bench.precisions:
        if bench.over_budget(f'video {precision}'):
            break
        detectors = Detectors(detector(bench, weights, precision, height))
        for label, video_out in (('keypoints', None),
                                 ('keypoints + video',
                                  os.path.join(folder, 'out' + suffix))):
            options = VideoOptions(
                weights=weights, device=bench.gpu, batch=batch,
                size=height, video_out=video_out,
                keypoints_out=os.path.join(folder, 'out.jsonl'))
            begin = time.perf_counter()
            summary = run_video(clip, options, detectors, progress=False)
            wall = time.perf_counter() - begin
            key = f'{width}x{height} b{batch} {precision} {label}'
            table[key] = {
                'frames': summary.frames_read, 'wall_s': wall,
                'loop_s': summary.seconds,
                'frames_per_second': summary.frames_read / summary.seconds,
                'network_s': summary.network_seconds,
                'detection_s': summary.detection_seconds,
                'people_max': int(max(summary.people, default=0))}
            bench.emit(f'video {key:36s} {summary.frames_read / summary.seconds:7.1f}'
                       f' frames/s ({summary.frames_read} frames, loop '
                       f'{summary.seconds:.2f} s, wall {wall:.2f} s, network '
                       f'{summary.network_seconds:.2f} s)')


def part_times(bench: Bench, folder: str) -> None:
    """Face and hand networks: milliseconds per crop."""
    from pose.parts import FaceDetector, HandDetector
    table = bench.results.setdefault('parts_ms_per_crop', {})
    part_precisions = [p for p in ('float32', 'float16')
                       if p in bench.precisions]
    for network, cls in (('facenet', FaceDetector),
                         ('handnet', HandDetector)):
        if bench.over_budget(network):
            break
        weights = synthesized(network, folder)
        for precision in part_precisions:
            part = cls(weights, device=bench.gpu, precision=precision)
            size = part.params.input_size
            for batch in PART_BATCHES:
                crops = np.random.default_rng(6).uniform(
                    -0.5, 0.5, (batch, 3, size, size)).astype(np.float32)
                seconds = bench.median(lambda: part._heatmaps(crops))
                key = f'{network} b{batch} {precision}'
                table[key] = 1e3 * seconds / batch
                bench.emit(f'part {key:24s} {1e3 * seconds / batch:8.2f} '
                           f'ms/crop')


# -- (2) detection: device work and host decoding, timed apart ---------------

def ground_truth_peaks(height: int, width: int):
    """Peaks and PAFs of the five ground-truth people of tests/fixtures at
    ``height`` x ``width`` (their x scaled from the fixtures' 656 wide
    frame): ``(peaks, pafs, people)``."""
    import entity
    from pose import decode
    from tests.fixtures import ground_truth_maps as truth_maps
    poses = truth_maps.five_people().copy()
    poses[..., 0] *= width / truth_maps.FRAME_SHAPE[1]
    poses[..., 1] *= height / truth_maps.FRAME_SHAPE[0]
    heatmaps, pafs = truth_maps.ground_truth_maps(poses, (height, width))
    params = entity.DEFAULT_PARAMS
    peaks = decode.find_smoothed_peaks(heatmaps, params.gaussian_sigma,
                                       params.peak_threshold)
    return peaks, pafs, len(poses)


def host_decoding(bench: Bench) -> Dict[str, float]:
    """Milliseconds of :func:`pose.decode.poses_from_peaks` (the host part
    of the detector's decoding) on five ground-truth people, per size."""
    import entity
    from pose import decode
    table = bench.results.setdefault('host_decode_ms', {})
    for height, width in bench.sizes:
        peaks, pafs, truth = ground_truth_peaks(height, width)
        seconds = bench.median(lambda: decode.poses_from_peaks(
            peaks, pafs, entity.DEFAULT_PARAMS), max(5, bench.runs))
        found = len(decode.poses_from_peaks(peaks, pafs).poses)
        key = f'{width}x{height}'
        table[key] = 1e3 * seconds
        bench.emit(f'host decode {key} five ground-truth people: '
                   f'{1e3 * seconds:7.2f} ms ({sum(map(len, peaks))} peaks, '
                   f'{found} of {truth} people found; host CPU)')
    return table


def device_work(found, frames: List[np.ndarray]) -> None:
    """What :meth:`PoseDetector.predict` does on the device for a batch:
    network, upsampling, peaks (their table to the host).  The PAFs stay on
    the device; their samples along the candidate limbs, which come to the
    host, are counted with the decoding."""
    import entity
    from pose import device_maps
    params = found.params
    for both in found._image_maps(found._launch(found._prepare(frames))):
        device_maps.find_peaks(both[:entity.NUM_HEATMAPS],
                               params.gaussian_sigma, params.peak_threshold)


def detection_cells(bench: Bench) -> List[tuple]:
    """(precision, (height, width), batch), the largest size and batch for
    every precision first."""
    first = [(p, bench.sizes[-1], bench.batches[-1]) for p in bench.precisions]
    rest = [(p, size, batch) for size in reversed(bench.sizes)
            for batch in reversed(bench.batches) for p in bench.precisions
            if (p, size, batch) not in first]
    return first + rest


def detection_parts(bench: Bench, weights: str) -> None:
    """Frames per second of detection from its two parts timed apart."""
    decode_ms = host_decoding(bench)
    table = bench.results.setdefault('detection_parts', {})
    rng = np.random.default_rng(5)
    detectors: Dict[tuple, object] = {}
    bench.emit('device = network + upsampling + peaks to host '
               '(random weights; decoding skipped); decode = host decoding '
               'of five ground-truth people')
    for precision, (height, width), batch in detection_cells(bench):
        key = f'{width}x{height} b{batch} {precision}'
        if bench.over_budget(f'detection {key}'):
            break
        if (precision, height) not in detectors:
            detectors[precision, height] = detector(bench, weights,
                                                    precision, height)
        found = detectors[precision, height]
        frames = list(rng.integers(0, 256, (batch, height, width, 3),
                                   np.uint8))
        device_ms = 1e3 * bench.median(lambda: device_work(found, frames)) / batch
        host_ms = decode_ms[f'{width}x{height}']
        table[key] = {'device_ms_per_frame': device_ms,
                      'decode_ms_per_frame': host_ms,
                      'sequential_fps': 1e3 / (device_ms + host_ms),
                      'overlapped_fps': 1e3 / max(device_ms, host_ms)}
        bench.emit(f'detection {key:22s} device {device_ms:6.2f} + decode '
                   f'{host_ms:6.2f} ms/frame: {table[key]["sequential_fps"]:6.1f}'
                   f' frames/s sequential, {table[key]["overlapped_fps"]:6.1f} '
                   f'overlapped')


# -- (3) video end to end with weights whose maps hold no peaks --------------

def peakless_weights(weights: str, folder: str) -> str:
    """``weights`` with the last layer of both stage-6 branches zeroed:
    all final maps 0, so no peaks and nothing to decode."""
    stages = specs.SPECS['posenet'].stages
    last = [branch[-1].name for branch in stages[-1]]
    with np.load(weights) as arrays:
        values = {name: arrays[name] for name in arrays.files}
    for name in last:
        values[f'{name}/W'] = np.zeros_like(values[f'{name}/W'])
        values[f'{name}/b'] = np.zeros_like(values[f'{name}/b'])
    path = os.path.join(folder, 'posenet_peakless.npz')
    np.savez(path, **values)
    return path


def video_peakless(bench: Bench, weights: str, folder: str) -> None:
    """:func:`video_runs` with :func:`peakless_weights`."""
    bench.emit('video: final maps all zero (no peaks), so the decoding is '
               'not in these figures (see detection); the .mp4 is written '
               'by OpenCV mp4v where PyAV is missing')
    video_runs(bench, peakless_weights(weights, folder), folder, '.mp4')


# -- (1) per-layer breakdown of the network ----------------------------------

class Clock:
    """Marks on the device's stream (CUDA events) or on the host clock
    (dry run); spans are read after one synchronization."""

    def __init__(self, dry: bool):
        self.dry = dry
        #: (group, part, start mark, end mark)
        self.spans: List[tuple] = []
        #: (group, (rows, inner, columns)) of every GEMM
        self.gemms: List[tuple] = []

    def mark(self):
        if self.dry:
            return time.perf_counter()
        import cupy
        event = cupy.cuda.Event()
        event.record()
        return event

    def seconds(self, start, end) -> float:
        if self.dry:
            return end - start
        import cupy
        return cupy.cuda.get_elapsed_time(start, end) / 1e3

    def totals(self) -> Dict[str, Dict[str, float]]:
        """Seconds per group and part."""
        found: Dict[str, Dict[str, float]] = {}
        for group, part, start, end in self.spans:
            parts = found.setdefault(group, {})
            parts[part] = parts.get(part, 0.0) + self.seconds(start, end)
        return found


def timed_conv(clock: Clock, group: str, x, weight, bias, relu: bool):
    """:func:`models.gpu_conv.conv2d` with its three kernels timed."""
    from models import gpu_conv
    n, channels, height, width = x.shape
    outputs, _, k, _ = weight.shape
    xp, pixels = gpu_conv.array_module(x), height * width
    matrix = weight.reshape(outputs, channels * k * k)
    out = xp.empty((n, outputs, pixels), x.dtype)
    step = gpu_conv.chunk_images(channels, k, pixels, x.dtype.itemsize, n)
    for first in range(0, n, step):
        count = min(step, n - first)
        a = clock.mark()
        if k == 1 and count == 1:
            columns = x[first].reshape(channels, pixels)
        else:
            columns = gpu_conv.im2col(x, first, count, k)
        b = clock.mark()
        product = gpu_conv._gemm(xp, matrix, columns)
        c = clock.mark()
        gpu_conv.bias_relu_nchw(product, bias, count, relu,
                                out[first:first + count])
        d = clock.mark()
        clock.spans += [(group, 'im2col', a, b), (group, 'gemm', b, c),
                        (group, 'bias_relu', c, d)]
        clock.gemms.append((group, matrix.shape + (columns.shape[1],)))
    return out.reshape(n, outputs, height, width)


def timed_layers(clock: Clock, model, layers, h, where: str):
    """One branch (or the trunk) of ``model`` with each layer timed into
    its group: k x k and resolution (trunk), k x k (stages), pooling."""
    from models import gpu_conv
    for layer in layers:
        if isinstance(layer, specs.Pool):
            a = clock.mark()
            h = gpu_conv.max_pool_2x2(h)
            clock.spans.append(('pooling', 'other', a, clock.mark()))
            continue
        link = getattr(model, layer.name)
        k = layer.ksize
        group = (f'{k}x{k} trunk {h.shape[3]}x{h.shape[2]}' if where == 'trunk'
                 else f'{k}x{k} stages')
        h = timed_conv(clock, group, h, link.W.array, link.b.array,
                       layer.relu)
    return h


def timed_pass(bench: Bench, model, x) -> Clock:
    """One network pass (as ``StagedNet._stages`` on the device path) with
    every kernel timed."""
    clock = Clock(bench.dry)
    xp = model.xp
    features = timed_layers(clock, model, model.spec.trunk, x, 'trunk')
    stage_input = features
    for stage in model.spec.stages:
        outputs = [timed_layers(clock, model, branch, stage_input, 'stage')
                   for branch in stage]
        a = clock.mark()
        stage_input = xp.concatenate(outputs + [features], axis=1)
        clock.spans.append(('concatenation', 'other', a, clock.mark()))
    bench.synchronize()
    return clock


def matmul_seconds(bench: Bench, shape: tuple, dtype) -> float:
    """Median seconds of a plain ``xp.matmul`` of (rows, inner) @ (inner,
    columns) in ``dtype``."""
    xp = chainer.get_device(device_name(bench)).xp
    rows, inner, columns = shape
    a = xp.ones((rows, inner), dtype)
    b = xp.ones((inner, columns), dtype)
    return bench.median(lambda: xp.matmul(a, b), 3)


def layer_table(bench: Bench, clocks: List[Clock], batch: int,
                dtype) -> Dict[str, Dict[str, float]]:
    """Per group: median ms per frame of each part over the passes, GEMM
    TFLOP/s achieved and of plain matmuls of the same shapes."""
    totals = [clock.totals() for clock in clocks]
    shapes: Dict[str, List[tuple]] = {}
    for group, shape in clocks[0].gemms:
        shapes.setdefault(group, []).append(shape)
    reference: Dict[tuple, float] = {}
    table = {}
    for group in totals[0]:
        row = {part: 1e3 * statistics.median(t[group][part] for t in totals)
               / batch for part in totals[0][group]}
        flops = sum(2.0 * r * i * c for r, i, c in shapes.get(group, []))
        if flops:
            for shape in set(shapes[group]):
                if shape not in reference:
                    reference[shape] = matmul_seconds(bench, shape, dtype)
            plain = sum(reference[s] for s in shapes[group])
            row.update(
                gemms=len(shapes[group]),
                gemm_tflops=flops / (1e-3 * row['gemm'] * batch) / 1e12,
                matmul_tflops=flops / plain / 1e12)
        table[group] = row
    return table


def layer_breakdown(bench: Bench, weights: str) -> None:
    """Per-group kernel times of the body network at the largest size and
    batch, float32 and float16."""
    height, width = bench.sizes[-1]
    batch = bench.batches[-1]
    device = chainer.get_device(device_name(bench))
    results = bench.results.setdefault('layers', {})
    for precision in ('float32', 'float16'):
        if bench.over_budget(f'layers {precision}'):
            break
        model = network_copy(bench, weights, precision)
        dtype = precisions.storage_dtype(precision)
        x = device.send(np.random.default_rng(7).uniform(
            -0.5, 0.5, (batch, 3, height, width)).astype(dtype))
        with precisions.gemm_precision(precision, not bench.dry):
            timed_pass(bench, model, x)
            clocks = [timed_pass(bench, model, x) for _ in range(3)]
            table = layer_table(bench, clocks, batch, dtype)
        key = f'{width}x{height} b{batch} {precision}'
        results[key] = table
        print_layers(bench, key, table)


def print_layers(bench: Bench, key: str, table: Dict[str, Dict]) -> None:
    bench.emit(f'layers {key} (ms per frame; TFLOP/s of the GEMMs and of '
               f'plain matmuls of the same shapes)')
    bench.emit(f'  {"group":24s} {"im2col":>7s} {"gemm":>7s} {"bias":>7s} '
               f'{"other":>7s} {"total":>7s} {"TFLOP/s":>8s} {"matmul":>8s}')
    sums = dict.fromkeys(('im2col', 'gemm', 'bias_relu', 'other'), 0.0)
    for group, row in sorted(table.items()):
        for part in sums:
            sums[part] += row.get(part, 0.0)
        bench.emit(f'  {group:24s} ' + ' '.join(
            f'{row.get(p, 0.0):7.2f}' for p in sums)
            + f' {sum(row.get(p, 0.0) for p in sums):7.2f}'
            + f' {_number(row.get("gemm_tflops"), 1):>8s}'
            f' {_number(row.get("matmul_tflops"), 1):>8s}')
    bench.emit(f'  {"all":24s} ' + ' '.join(f'{v:7.2f}' for v in sums.values())
               + f' {sum(sums.values()):7.2f}')


def summary_table(bench: Bench) -> List[str]:
    """A compact markdown table of the throughput figures."""
    results = bench.results
    lines = ['', '| input | batch | mode | network ms/frame | '
             'detection frames/s | network in detection ms/frame |',
             '|---|---|---|---|---|---|']
    network = results.get('network_ms_per_frame', {})
    detection = results.get('detection', {})
    for height, width in bench.sizes:
        for batch in bench.batches:
            for name, precision, _ in NETWORK_MODES:
                ms = network.get(f'{width}x{height} b{batch} {name}')
                found = (detection.get(f'{width}x{height} b{batch} {name}')
                         if name == precision else None)
                if ms is None and found is None:
                    continue
                lines.append(
                    f'| {width}x{height} | {batch} | {name} | '
                    f'{_number(ms, 2)} | '
                    f'{_number(found and found["frames_per_second"], 1)} | '
                    f'{_number(found and found["network_ms_per_frame"], 2)} |')
    if len(lines) == 3:
        lines = []
    lines += _detection_lines(results) + _layer_lines(results)
    video = results.get('video', {})
    if video:
        lines += ['', '| video run | frames/s | frames | wall s |',
                  '|---|---|---|---|']
        lines += [f'| {key} | {v["frames_per_second"]:.1f} | {v["frames"]} '
                  f'| {v["wall_s"]:.1f} |' for key, v in video.items()]
    errors = results.get('stage_errors', {})
    if errors:
        lines += ['', '| stage errors vs CPU float32 | last stage | '
                  'worst stage |', '|---|---|---|']
        lines += [f'| {key} | {v[-1]:.1e} | {max(v):.1e} |'
                  for key, v in errors.items()]
    decoding_ = results.get('decoding', {})
    if decoding_:
        lines += ['', '| decoding one image | ms | peaks | people |',
                  '|---|---|---|---|']
        lines += [f'| {key} | {v["ms"]:.1f} | {v["peaks"]} | {v["people"]} |'
                  for key, v in decoding_.items()]
    if results['errors'] or results['skipped']:
        lines += ['', f'FAILED sections: {sorted(results["errors"])}; '
                      f'skipped: {results["skipped"]}']
    return lines


def _detection_lines(results: Dict) -> List[str]:
    parts = results.get('detection_parts', {})
    if not parts:
        return []
    return (['', '| detection (device + host decode of 5 people) | device '
             'ms/frame | decode ms/frame | frames/s sequential | frames/s '
             'overlapped |', '|---|---|---|---|---|']
            + [f'| {key} | {v["device_ms_per_frame"]:.2f} | '
               f'{v["decode_ms_per_frame"]:.2f} | {v["sequential_fps"]:.1f} | '
               f'{v["overlapped_fps"]:.1f} |' for key, v in parts.items()])


def _layer_lines(results: Dict) -> List[str]:
    lines = []
    for key, table in results.get('layers', {}).items():
        parts = ('im2col', 'gemm', 'bias_relu', 'other')
        total = {p: sum(row.get(p, 0.0) for row in table.values())
                 for p in parts}
        gemm = max(table.items(), key=lambda item: item[1].get('gemm', 0.0))
        lines.append(f'layers {key}: ' + ', '.join(
            f'{p} {v:.2f}' for p, v in total.items())
            + f' ms/frame (sum {sum(total.values()):.2f}); most GEMM time: '
            f'{gemm[0]} {_number(gemm[1].get("gemm_tflops"), 1)} TFLOP/s '
            f'(plain matmul {_number(gemm[1].get("matmul_tflops"), 1)})')
    return [''] + lines if lines else []


def _number(value, digits: int) -> str:
    return '-' if value is None else f'{value:.{digits}f}'


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--gpu', type=int, default=0, metavar='N',
                        help='GPU to measure; -1: dry run on the CPU with '
                             'the slim networks (default 0)')
    parser.add_argument('--runs', type=int, default=5,
                        help='timed runs per figure (default 5)')
    parser.add_argument('--frames', type=int, default=VIDEO_FRAMES,
                        help=f'frames of the video clip (default '
                             f'{VIDEO_FRAMES})')
    parser.add_argument('--budget', type=float, default=300.0,
                        help='seconds after which no new section starts '
                             '(default 300)')
    parser.add_argument('--json', help='write the full results here')
    parser.add_argument('--sections', default=','.join(DEFAULT_SECTIONS),
                        help=f'comma-separated sections to run, in this '
                             f'order, of {", ".join(SECTIONS)} (default '
                             f'{",".join(DEFAULT_SECTIONS)})')
    parser.add_argument('--skip', action='append', default=[],
                        help='a section to leave out (repeatable)')
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.sections.split(',')
              if name.strip() and name.strip() not in args.skip]
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown:
        parser.error(f'--sections: unknown {unknown}; choose from '
                     f'{", ".join(SECTIONS)}')
    bench = Bench(args)
    if bench.dry:
        use_slim_networks()
    with tempfile.TemporaryDirectory() as folder:
        bench.section('environment', lambda: environment(bench))
        weights = synthesized('posenet', folder)
        sections = {
            'errors': lambda: precision_errors(bench, weights),
            'network': lambda: network_times(bench, weights),
            'detection': lambda: detection_parts(bench, weights),
            'video': lambda: video_peakless(bench, weights, folder),
            'layers': lambda: layer_breakdown(bench, weights),
            'parts': lambda: part_times(bench, folder),
            'predict': lambda: detection_times(bench, weights),
            'video-random': lambda: video_runs(bench, weights, folder)}
        for name in chosen:
            bench.section(name, sections[name])
    bench.save()
    print('\n'.join(summary_table(bench)))
    return 1 if bench.results['errors'] else 0


if __name__ == '__main__':
    sys.exit(main())
