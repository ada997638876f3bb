#!/usr/bin/env python3
"""Multi-person body poses on images with the OpenPose COCO body model.

Python API::

    from pose_detector import PoseDetector, draw_person_pose
    detector = PoseDetector('posenet', 'models/coco_posenet.npz', device=-1)
    poses, scores = detector(img)      # img: BGR uint8 (H, W, 3)
    img = draw_person_pose(img, poses)

Command line::

    python pose_detector.py posenet models/coco_posenet.npz --img a.jpg
    python pose_detector.py posenet models/coco_posenet.npz --images a.jpg photos/ --out results

For each image it writes ``<name>_pose.png`` and ``<name>_keypoints.json``
(OpenPose keypoint format) into ``--out``.  Exit status: 0 when every image
was processed, 2 when anything failed (each failure is one line on stderr,
and the batch goes on).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from typing import List, Optional

import entity
from models.convert import WeightsError
from pose.decode import decode_poses
from pose.detector import Detection, DeviceError, PoseDetector
from pose.draw import draw_people, draw_person_pose
from pose.images import (ImageError, list_images, load_image, output_paths,
                         write_atomic, write_image_atomic)
from pose.keypoints import coco_results, openpose_json
from pose.parts import FaceDetector, HandDetector, add_face_and_hands

__all__ = ['PoseDetector', 'Detection', 'decode_poses', 'draw_person_pose']

DEFAULT_OUT_DIR = 'out'


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Detect body poses (COCO 18 joints) on images.')
    parser.add_argument('arch', choices=['posenet'],
                        help='network: posenet (the COCO body model)')
    parser.add_argument('weights', help='weights .npz from convert_model.py')
    inputs = parser.add_mutually_exclusive_group(required=True)
    inputs.add_argument('--img', help='one image file')
    inputs.add_argument('--images', nargs='+',
                        help='image files and/or folders of images')
    parser.add_argument('--out', default=DEFAULT_OUT_DIR,
                        help=f'output folder (default: {DEFAULT_OUT_DIR})')
    parser.add_argument('--gpu', type=int, default=-1,
                        help='GPU id (default -1: CPU)')
    parser.add_argument('--precise', action='store_true',
                        help='multi-scale search: slower, more accurate')
    parser.add_argument('--size', type=int,
                        default=entity.DEFAULT_PARAMS.input_height,
                        help='network input height in pixels '
                             f'(default {entity.DEFAULT_PARAMS.input_height})')
    add_part_arguments(parser)
    add_verbose_argument(parser)
    parser.add_argument('--coco-json', metavar='FILE',
                        help='also write COCO keypoint results to FILE')
    parser.add_argument('--maps', metavar='DIR',
                        help='save figures of the heatmaps and PAFs to DIR')
    parser.add_argument('--maps-part', default='RWrist',
                        choices=entity.JOINT_NAMES,
                        help='joint shown stage by stage in --maps figures')
    parser.add_argument('--maps-limb', type=int, default=3,
                        choices=range(entity.NUM_LIMBS), metavar='0..18',
                        help='limb shown stage by stage in --maps figures '
                             '(index into entity.LIMBS; default 3: '
                             'RElbow-RWrist)')
    args = parser.parse_args(argv)
    if args.size < entity.NETWORK_STRIDE or args.size % entity.NETWORK_STRIDE:
        parser.error(f'--size must be a positive multiple of '
                     f'{entity.NETWORK_STRIDE}, not {args.size}')
    return args


def add_part_arguments(parser: argparse.ArgumentParser) -> None:
    """--face, --hands and their weights (shared with the video command)."""
    parser.add_argument('--face', action='store_true',
                        help='also find the 70 face keypoints of each person')
    parser.add_argument('--hands', action='store_true',
                        help='also find the 21 keypoints of each hand')
    parser.add_argument('--face-weights', default='models/facenet.npz',
                        help='face weights (default models/facenet.npz)')
    parser.add_argument('--hand-weights', default='models/handnet.npz',
                        help='hand weights (default models/handnet.npz)')


def add_verbose_argument(parser: argparse.ArgumentParser) -> None:
    """--verbose (shared with the video command)."""
    parser.add_argument('--verbose', action='store_true',
                        help='print what the network runs on (BLAS library '
                             'and kernel, threads, or the GPU) at start-up')


def report_runtime(args) -> None:
    """With --verbose, print what the network runs on; on the CPU, always
    warn (stderr) when NumPy's BLAS runs a generic kernel on a CPU that
    has AVX2/AVX-512."""
    if args.gpu >= 0:
        if args.verbose:
            import cupy
            name = cupy.cuda.runtime.getDeviceProperties(args.gpu)['name']
            print(f'GPU {args.gpu}: {name.decode()}; CuPy {cupy.__version__}')
        return
    from models.runtime import runtime_report
    lines, warnings = runtime_report()
    if args.verbose:
        for line in lines:
            print(line)
    for warning in warnings:
        print(f'warning: {warning}', file=sys.stderr)


def part_detectors(args):
    """``(face detector or None, hand detector or None)`` as asked."""
    face = (FaceDetector(args.face_weights, device=args.gpu)
            if args.face else None)
    hands = (HandDetector(args.hand_weights, device=args.gpu)
             if args.hands else None)
    return face, hands


def coco_image_id(path: str, index: int) -> int:
    """COCO ids are the digits of the file name (000000397133.jpg)."""
    stem = os.path.splitext(os.path.basename(path))[0]
    return int(stem) if stem.isdigit() else index


def process_image(detector: PoseDetector, path: str, args, parts=(None, None)
                  ) -> Detection:
    """Detect, draw and write the outputs of one image; returns the result.
    ``parts``: the face and hand detectors, or None for either."""
    img, warnings = load_image(path)
    for warning in warnings:
        print(f'warning: {path}: {warning}', file=sys.stderr)
    pose_png, keypoints_json = output_paths(path, args.out)
    start = time.perf_counter()
    detection = add_face_and_hands(detector.detect(img), img, *parts)
    seconds = time.perf_counter() - start
    write_image_atomic(pose_png, draw_people(img, detection.poses,
                                             detection.faces, detection.hands))
    document = openpose_json(detection.poses, detection.confidences,
                             detection.faces, detection.hands)
    write_atomic(keypoints_json, json.dumps(document).encode())
    if args.maps:
        save_maps(detector, img, path, args)
    people = len(detection.poses)
    print(f'{path}: {people} {"person" if people == 1 else "people"}, '
          f'{seconds:.2f} s -> {pose_png}, {keypoints_json}')
    return detection


def save_maps(detector: PoseDetector, img, path: str, args) -> None:
    from pose.maps_figure import save_maps_figures
    os.makedirs(args.maps, exist_ok=True)
    heatmaps, pafs = detector.stage_maps(img)
    stem = os.path.splitext(os.path.basename(path))[0]
    save_maps_figures(img, heatmaps, pafs, os.path.join(args.maps, stem),
                      part=entity.JOINT_INDEX[args.maps_part],
                      limb=args.maps_limb)


def run(args) -> int:
    paths, errors = list_images([args.img] if args.img else args.images)
    for error in errors:
        print(f'error: {error}', file=sys.stderr)
    if not paths:
        return 2
    params = dataclasses.replace(entity.DEFAULT_PARAMS, input_height=args.size)
    try:
        detector = PoseDetector(args.arch, args.weights, device=args.gpu,
                                precise=args.precise, params=params)
        parts = part_detectors(args)
    except (WeightsError, DeviceError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    report_runtime(args)
    os.makedirs(args.out, exist_ok=True)
    failed = len(errors)
    coco: List[dict] = []
    claimed = {}                        # output file -> the input it is for
    for index, path in enumerate(paths):
        try:
            outputs = output_paths(path, args.out)
            if outputs[0] in claimed:
                raise ImageError(f'its results would overwrite those of '
                                 f'{claimed[outputs[0]]} (same name); '
                                 f'rename one of them')
            claimed[outputs[0]] = path
            detection = process_image(detector, path, args, parts)
        except (ImageError, OSError) as error:
            print(f'error: {path}: {error}', file=sys.stderr)
            failed += 1
            continue
        coco += coco_results(detection.poses, detection.confidences,
                             detection.scores, coco_image_id(path, index))
    if args.coco_json:
        write_atomic(args.coco_json, json.dumps(coco).encode())
    if failed:
        print(f'{failed} input(s) failed; see the errors above',
              file=sys.stderr)
    return 2 if failed else 0


def main(argv: Optional[list] = None) -> int:
    return run(parse_args(argv))


if __name__ == '__main__':
    sys.exit(main())
