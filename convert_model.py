#!/usr/bin/env python3
"""Convert CMU's OpenPose Caffe weights to Chainer ``.npz`` files.

The input is a ``.caffemodel`` or the same weights as a PyTorch ``.pth``
state dict (e.g. ``body_pose_model.pth`` of the PyTorch port), told apart by
content; a ``.pth`` is read without PyTorch and without running its pickle.

    python convert_model.py posenet pose_iter_440000.caffemodel models/coco_posenet.npz
    python convert_model.py facenet pose_iter_116000.caffemodel models/facenet.npz
    python convert_model.py handnet pose_iter_102000.caffemodel models/handnet.npz
    python convert_model.py posenet body_pose_model.pth models/coco_posenet.npz
    python convert_model.py fetch posenet [--dir models]

``fetch`` uses ``<dir>/<CMU file name>`` if it is there, else downloads it
from the original addresses (checked by size and, where published, SHA-1),
and converts it to ``<dir>/<default npz name>``.

Exit status 0 on success, 2 on any problem with the input (one line on
stderr says what is wrong; no output file is left behind).
"""
from __future__ import annotations

import argparse
import os
import sys

from common.cli import Console, quiet_start, run_command
from common.errors import EXIT_OK

PROG = 'convert_model.py'
if __name__ == '__main__':
    quiet_start(PROG)        # before the slow imports (Chainer)

from models import NETWORKS  # noqa: E402
from models.convert import convert  # noqa: E402
from models.fetch import DEFAULT_WEIGHTS_DIR, MODELS, fetch  # noqa: E402


def parse_args(argv) -> argparse.Namespace:
    if argv[:1] == ['fetch']:
        parser = argparse.ArgumentParser(
            prog=f'{PROG} fetch',
            description='Get the original caffemodel and convert it.')
        parser.add_argument('network', choices=sorted(MODELS))
        parser.add_argument('--dir', default=DEFAULT_WEIGHTS_DIR,
                            help='folder of the caffemodel and the .npz '
                                 f'(default: {DEFAULT_WEIGHTS_DIR})')
        args = parser.parse_args(argv[1:])
        args.command = 'fetch'
        return args
    parser = argparse.ArgumentParser(
        prog=PROG,
        description='Convert an OpenPose .caffemodel (or .pth state dict) '
                    'to a Chainer .npz file '
                    f'(or "{PROG} fetch NETWORK" to download and convert).')
    parser.add_argument('network', choices=sorted(NETWORKS),
                        help='which network the weights belong to')
    parser.add_argument('source', metavar='IN',
                        help='a .caffemodel (V1 or V2 format) or a .pth '
                             'state dict (told apart by content)')
    parser.add_argument('destination', metavar='OUT',
                        help='the .npz file to write')
    args = parser.parse_args(argv)
    args.command = 'convert'
    return args


def run_conversion(network: str, source: str, destination: str,
                   console: Console) -> None:
    report = convert(network, source, destination)
    if report.unused_layers:
        console.warning(f'{len(report.unused_layers)} layer(s) in {source} '
                        f'are not used by {network}: '
                        f'{", ".join(report.unused_layers)}')
    kind = ('PyTorch .pth' if report.source_format == 'pth'
            else f'{report.source_format} caffemodel')
    print(f'{network}: converted {report.layers} layers '
          f'({report.parameters:,} parameters, {kind}) in '
          f'{report.seconds:.2f} s -> {destination}')


def run(args: argparse.Namespace, console: Console) -> int:
    if args.command == 'fetch':
        source = fetch(args.network, args.dir)
        run_conversion(args.network, source,
                       os.path.join(args.dir, MODELS[args.network].npz),
                       console)
    else:
        run_conversion(args.network, args.source, args.destination, console)
    return EXIT_OK


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else list(argv))
    return run_command(PROG, lambda: run(args, Console(PROG)))


if __name__ == '__main__':
    sys.exit(main())
