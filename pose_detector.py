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
(OpenPose keypoint format) into ``--out``.  Every output is checked before
the networks load: an output folder or file that cannot be written stops
the run at once (one line), and an image whose results would replace an
input of the run is left out.  Exit status: 0 when every image was
processed, 2 when anything failed (each failure is one line on stderr, and
the batch goes on, unless the disk is full or read-only), 130/143 when
interrupted.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import List, Optional

import entity
from common.cli import Console, os_error_message, quiet_start, run_command
from common.errors import EXIT_BAD_INPUT, EXIT_OK, ToolError
from common.files import is_fatal_write_error, write_atomic

PROG = 'pose_detector.py'
if __name__ == '__main__':
    quiet_start(PROG)        # before the slow imports (Chainer)

from pose.api import (Detection, MapsRequest, PoseDetector,  # noqa: E402
                      decode_poses, draw_person_pose, load_detectors,
                      process_image)
from pose.coco import coco_image_id, coco_results  # noqa: E402
from pose.image_pipeline import (plan_images, result_line,  # noqa: E402
                                 unlisted_images)
from pose.images import (DOWNSCALE_PIXELS, MAX_IMAGE_PIXELS,  # noqa: E402
                         MAX_PIXELS_OPTION, list_images)
from pose.options import (add_detector_arguments,  # noqa: E402
                          check_detector_arguments, detector_options,
                          join_net_resolution, report_runtime)

__all__ = ['PoseDetector', 'Detection', 'decode_poses', 'draw_person_pose']
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
    parser.add_argument(MAX_PIXELS_OPTION, type=int, metavar='N',
                        help=f'refuse images whose header declares more '
                             f'pixels (default {MAX_IMAGE_PIXELS:,}); images '
                             f'over {DOWNSCALE_PIXELS:,} are downscaled')
    args = parser.parse_args(join_net_resolution(argv))
    check_detector_arguments(parser, args)
    if args.max_pixels is not None and args.max_pixels < 1:
        parser.error(f'{MAX_PIXELS_OPTION} must be at least 1')
    return args


def run(args: argparse.Namespace, console: Console) -> int:
    items = [args.img] if args.img else args.images
    paths, errors = list_images(items)
    for error in errors:
        console.error(error)
    if not paths:
        return EXIT_BAD_INPUT
    maps = (MapsRequest(args.maps, args.maps_part, args.maps_limb)
            if args.maps else None)
    plan = plan_images(paths, args.out, maps, args.coco_json,
                       inputs=[args.weights, args.face_weights,
                               args.hand_weights],
                       protected=unlisted_images(items, paths))
    for message in plan.refused:
        console.error(message)
    failed = len(errors) + len(plan.refused)
    if not plan.jobs:
        return EXIT_BAD_INPUT
    detectors = load_detectors(detector_options(args))
    report_runtime(console, args.gpu, args.verbose)
    os.makedirs(args.out, exist_ok=True)
    coco: List[dict] = []
    for job in plan.jobs:
        try:
            result = process_image(detectors, job.path, args.out, maps,
                                   args.max_pixels)
        except ToolError as error:
            console.error(str(error))
            failed += 1
            continue
        except OSError as error:
            if is_fatal_write_error(error):
                raise           # the disk is full: every image would fail
            console.error(os_error_message(error, job.path))
            failed += 1
            continue
        for warning in result.warnings:
            console.warning(warning)
        print(result_line(job.path, result))
        detection = result.detection
        coco += coco_results(detection.poses, detection.confidences,
                             detection.scores,
                             coco_image_id(job.path, job.index))
    if args.coco_json:
        os.makedirs(os.path.dirname(os.path.abspath(args.coco_json)),
                    exist_ok=True)
        write_atomic(args.coco_json, json.dumps(coco).encode())
    if failed:
        console.error(f'{failed} input(s) failed; see the errors above')
    return EXIT_BAD_INPUT if failed else EXIT_OK


def main(argv: Optional[list] = None) -> int:
    args = parse_args(argv)
    return run_command(PROG, lambda: run(args, Console(PROG)))


if __name__ == '__main__':
    sys.exit(main())
