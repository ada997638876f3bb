#!/usr/bin/env python3
"""Convert CMU's OpenPose Caffe weights to Chainer ``.npz`` files.

    python convert_model.py posenet pose_iter_440000.caffemodel models/coco_posenet.npz
    python convert_model.py facenet pose_iter_116000.caffemodel models/facenet.npz
    python convert_model.py handnet pose_iter_102000.caffemodel models/handnet.npz

Exit status 0 on success, 2 on any problem with the input (one line on
stderr says what is wrong; no output file is left behind).
"""
from __future__ import annotations

import argparse
import sys

from models import NETWORKS
from models.convert import ConversionError, convert


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert an OpenPose .caffemodel to a Chainer .npz file.')
    parser.add_argument('network', choices=sorted(NETWORKS),
                        help='which network the weights belong to')
    parser.add_argument('source', metavar='IN',
                        help='the .caffemodel file (V1 or V2 format)')
    parser.add_argument('destination', metavar='OUT',
                        help='the .npz file to write')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        report = convert(args.network, args.source, args.destination)
    except ConversionError as error:
        print(f'convert_model.py: error: {error}', file=sys.stderr)
        return 2
    if report.unused_layers:
        print(f'warning: {len(report.unused_layers)} layer(s) in '
              f'{args.source} are not used by {args.network}: '
              f'{", ".join(report.unused_layers)}', file=sys.stderr)
    print(f'{args.network}: converted {report.layers} layers '
          f'({report.parameters:,} parameters, {report.source_format} '
          f'caffemodel) in {report.seconds:.2f} s -> {args.destination}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
