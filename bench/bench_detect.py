#!/usr/bin/env python3
"""Network and decoding times of one frame, side by side.

Synthesizes the full-size body caffemodel (real layer shapes), converts it,
and measures on a 656x368 frame at the default input height 368 (median of
--runs after one warm-up):

* the body network's forward pass in this project (Chainer, CPU or --gpu N),
* OpenCV DNN's forward pass on the same caffemodel (``cv2.setNumThreads`` =
  cores), as the peer,
* upsampling the maps to the frame, and decoding (five people, the paper's
  ground-truth maps, see bench/bench_decode.py);
* the extra time of ``--face`` and ``--hands`` for one person (one face
  crop, two hand crops through the 368x368 face and hand networks).

Run from the repository root: ``make bench``.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import models  # noqa: E402,F401  (NumPy 2 fix before chainer)
import cv2  # noqa: E402
import numpy as np  # noqa: E402

from models import spec as specs  # noqa: E402
from models.convert import convert  # noqa: E402
from models.synthetic import write_synthetic_caffemodel  # noqa: E402
from tests.fixtures import ground_truth_maps  # noqa: E402
from pose.decode import decode_poses  # noqa: E402
from pose.detector import PoseDetector, network_input, upsample_maps  # noqa: E402
from pose.parts import FaceDetector, HandDetector  # noqa: E402
from bench.timing import median_seconds, network_forward  # noqa: E402

FRAME = (368, 656)


def flops(height: int, width: int) -> float:
    """Multiply-adds x 2 of every convolution at this input size."""
    total, size = 0, (height, width)
    for layer in specs.POSENET.trunk:
        if isinstance(layer, specs.Pool):
            size = (size[0] // 2, size[1] // 2)
        else:
            total += 2 * size[0] * size[1] * np.prod(layer.weight_shape)
    for stage in specs.POSENET.stages:
        for branch in stage:
            total += sum(2 * size[0] * size[1] * np.prod(c.weight_shape)
                         for c in branch)
    return float(total)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--gpu', type=int, default=-1)
    args = parser.parse_args()
    frame = np.random.default_rng(0).integers(0, 256, FRAME + (3,), np.uint8)
    with tempfile.TemporaryDirectory() as tmp:
        caffemodel = os.path.join(tmp, 'body.caffemodel')
        write_synthetic_caffemodel(caffemodel, specs.POSENET, seed=0)
        weights = os.path.join(tmp, 'body.npz')
        convert('posenet', caffemodel, weights)
        detector = PoseDetector('posenet', weights, device=args.gpu)
        parts = part_detectors(tmp, args.gpu)
        x, scaled = network_input(frame, 368)
        prototxt = os.path.join(tmp, 'deploy.prototxt')
        with open(prototxt, 'w') as f:
            f.write(specs.deploy_prototxt(specs.POSENET, *x.shape[2:]))
        net = None
        if hasattr(cv2.dnn, 'readNetFromCaffe'):    # gone in OpenCV 5
            net = cv2.dnn.readNetFromCaffe(prototxt, caffemodel)
            cv2.setNumThreads(os.cpu_count())
        rows = measure(detector, net, x, scaled, args.runs)
        rows += measure_parts(parts, frame, args.runs)
    report(rows, x.shape[2:], args)


def part_detectors(folder: str, gpu: int):
    """Face and hand detectors on synthesized full-size weights."""
    made = []
    for network, detector in (('facenet', FaceDetector),
                              ('handnet', HandDetector)):
        caffemodel = os.path.join(folder, f'{network}.caffemodel')
        write_synthetic_caffemodel(caffemodel, specs.SPECS[network], seed=0)
        convert(network, caffemodel, os.path.join(folder, f'{network}.npz'))
        made.append(detector(os.path.join(folder, f'{network}.npz'),
                             device=gpu))
    return made


def measure_parts(parts, frame, runs):
    """Seconds of --face and --hands for one standing person."""
    pose = ground_truth_maps.standing_person(300, 300, 40)[None]
    confidences = np.where(pose[..., 2] > 0, 1.0, 0.0).astype(np.float32)
    faces, hands = parts
    return [
        ('--face, one person (1 crop)', median_seconds(
            lambda: faces(frame, pose, confidences), runs)),
        ('--hands, one person (2 crops)', median_seconds(
            lambda: hands(frame, pose, confidences), runs)),
    ]


def measure(detector, net, x, scaled, runs):
    device = detector.device
    chainer_forward = network_forward(detector, x)

    def opencv_forward():
        net.setInput(x)
        net.forward(['Mconv7_stage6_L1', 'Mconv7_stage6_L2'])

    net_maps = np.random.default_rng(1).random(
        (57, x.shape[2] // 8, x.shape[3] // 8), dtype=np.float32)
    truth = ground_truth_maps.five_people()
    heatmaps, pafs = ground_truth_maps.ground_truth_maps(truth, FRAME)
    name = 'Chainer (this project), ' + (
        'CPU' if device.xp is np else f'GPU {device}')
    peer = median_seconds(opencv_forward, runs) if net else float('nan')
    return [
        (name, median_seconds(chainer_forward, runs)),
        ('OpenCV DNN (peer), CPU', peer),
        ('upsample maps to the frame', median_seconds(
            lambda: upsample_maps(net_maps, scaled, FRAME), max(runs, 10))),
        ('decode five people', median_seconds(
            lambda: decode_poses(heatmaps, pafs), max(runs, 20))),
    ]


def report(rows, input_size, args) -> None:
    gflop = flops(*input_size) / 1e9
    print(f'\nBody network at {input_size[1]}x{input_size[0]} '
          f'({gflop:.1f} GFLOP), frame {FRAME[1]}x{FRAME[0]}; median of '
          f'{args.runs}; {os.cpu_count()} CPU cores\n')
    print(f'{"":36s} {"ms":>9s} {"GFLOP/s":>8s}')
    for i, (name, seconds) in enumerate(rows):
        rate = f'{gflop / seconds:8.0f}' if i < 2 else ''
        print(f'{name:36s} {1e3 * seconds:9.1f} {rate}')
    ours, peer = rows[0][1], rows[1][1]
    print(f'\nnetwork time, this project / OpenCV DNN: {ours / peer:.2f}')
    print(f'decoding / network time: {rows[3][1] / ours:.3f}')


if __name__ == '__main__':
    main()
