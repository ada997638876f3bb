#!/usr/bin/env python3
"""Multi-person body poses on images with the OpenPose COCO body model.

Python API (the library is :mod:`pose.api`; these names stay importable
from here)::

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
and the batch goes on), 130/143 when interrupted.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import List, Optional

import entity
from common.cli import Console, os_error_message, run_command
from common.errors import EXIT_BAD_INPUT, EXIT_OK, ToolError
from common.files import write_atomic
from pose.api import (Detection, MapsRequest, PoseDetector, decode_poses,
                      draw_person_pose, load_detectors, process_image)
from pose.coco import coco_image_id, coco_results
from pose.image_pipeline import result_line
from pose.images import list_images, output_paths
from pose.options import (add_detector_arguments, check_detector_arguments,
                          detector_options, report_runtime)

__all__ = ['PoseDetector', 'Detection', 'decode_poses', 'draw_person_pose']

PROG = 'pose_detector.py'
DEFAULT_OUT_DIR = 'out'


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=PROG,
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
    add_detector_arguments(parser, weights_flag=False)
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
    check_detector_arguments(parser, args)
    return args


def run(args: argparse.Namespace, console: Console) -> int:
    paths, errors = list_images([args.img] if args.img else args.images)
    for error in errors:
        console.error(error)
    if not paths:
        return EXIT_BAD_INPUT
    detectors = load_detectors(detector_options(args))
    report_runtime(console, args.gpu, args.verbose)
    os.makedirs(args.out, exist_ok=True)
    maps = (MapsRequest(args.maps, args.maps_part, args.maps_limb)
            if args.maps else None)
    failed = len(errors)
    coco: List[dict] = []
    claimed = {}                        # output file -> the input it is for
    for index, path in enumerate(paths):
        try:
            drawing = output_paths(path, args.out)[0]
            if drawing in claimed:
                raise ToolError(f'{path}: its results would overwrite those '
                                f'of {claimed[drawing]} (same name); rename '
                                f'one of them')
            claimed[drawing] = path
            result = process_image(detectors, path, args.out, maps)
        except ToolError as error:
            console.error(str(error))
            failed += 1
            continue
        except OSError as error:
            console.error(f'{path}: {os_error_message(error)}')
            failed += 1
            continue
        for warning in result.warnings:
            console.warning(warning)
        print(result_line(path, result))
        detection = result.detection
        coco += coco_results(detection.poses, detection.confidences,
                             detection.scores, coco_image_id(path, index))
    if args.coco_json:
        write_atomic(args.coco_json, json.dumps(coco).encode())
    if failed:
        console.error(f'{failed} input(s) failed; see the errors above')
    return EXIT_BAD_INPUT if failed else EXIT_OK


def main(argv: Optional[list] = None) -> int:
    args = parse_args(argv)
    return run_command(PROG, lambda: run(args, Console(PROG)))


if __name__ == '__main__':
    sys.exit(main())
