"""What a detection run is asked to do, and the detectors that do it.

:class:`DetectorOptions` (networks, device, input size) and
:class:`VideoOptions` (adds frames and outputs) are plain data, filled by
the commands from their arguments (:func:`add_detector_arguments`,
:func:`detector_options`) or by a program directly;
:func:`load_detectors` turns them into :class:`Detectors`.
"""
from __future__ import annotations

import argparse
import dataclasses
from typing import List, Optional, Sequence, Tuple

import numpy as np

import entity
from common.cli import Console
from common.errors import ToolError
from models.fetch import default_weights
from pose.detection import Detection
from pose.detector import PoseDetector
from pose.parts import FaceDetector, HandDetector, add_face_and_hands


@dataclasses.dataclass
class DetectorOptions:
    """The networks and how to run them.

    Attributes:
        weights: body weights ``.npz`` (``convert_model.py posenet``).
        device: -1 for the CPU, N >= 0 for CUDA GPU N.
        size: network input height in pixels, a multiple of
            :data:`entity.NETWORK_STRIDE`.
        precise: multi-scale search.
        face, hands: also find face / hand keypoints.
        face_weights, hand_weights: their weights.
    """
    weights: str = default_weights('posenet')
    device: int = -1
    size: int = entity.DEFAULT_PARAMS.input_height
    precise: bool = False
    face: bool = False
    hands: bool = False
    face_weights: str = default_weights('facenet')
    hand_weights: str = default_weights('handnet')

    def check(self) -> None:
        """ToolError unless the input size is a positive stride multiple."""
        stride = entity.NETWORK_STRIDE
        if self.size < stride or self.size % stride:
            raise ToolError(f'the network input size must be a positive '
                            f'multiple of {stride}, not {self.size}')


@dataclasses.dataclass
class VideoOptions(DetectorOptions):
    """A video run: the detectors' options, the frames and the outputs.

    Attributes:
        start, end: seconds of the video to process (``end`` None: to the
            end).
        every: run the network on every N-th frame, carrying the people in
            between.
        batch: frames per network pass (useful on a GPU).
        video_out: the annotated video to write, or None.
        keypoints_out: the keypoint-lines file to write, or None.
        show: show the frames in a window (q quits).
    """
    start: float = 0.0
    end: Optional[float] = None
    every: int = 1
    batch: int = 1
    video_out: Optional[str] = None
    keypoints_out: Optional[str] = None
    show: bool = False

    def check(self) -> None:
        super().check()
        if self.every < 1 or self.batch < 1:
            raise ToolError('every and batch must be at least 1')
        if self.start < 0 or (self.end is not None and self.end <= self.start):
            raise ToolError('the start must be >= 0 s and the end after it')
        if not (self.video_out or self.keypoints_out or self.show):
            raise ToolError('nothing to write: ask for the annotated video, '
                            'the keypoints or the window')


@dataclasses.dataclass
class Detectors:
    """The body detector and, when asked for, the face and hand ones."""
    body: PoseDetector
    face: Optional[FaceDetector] = None
    hands: Optional[HandDetector] = None

    def predict(self, images: Sequence[np.ndarray]) -> List[Detection]:
        """:meth:`PoseDetector.predict` with the faces and hands filled in
        (same-sized images share the body network's passes)."""
        return [add_face_and_hands(detection, img, self.face, self.hands)
                for img, detection in zip(images, self.body.predict(images))]


def load_detectors(options: DetectorOptions) -> Detectors:
    """Load the networks ``options`` ask for.

    Raises:
        ToolError: bad size, weights or device (one line saying why).
    """
    options.check()
    params = dataclasses.replace(entity.DEFAULT_PARAMS,
                                 input_height=options.size)
    body = PoseDetector('posenet', options.weights, device=options.device,
                        precise=options.precise, params=params)
    face = (FaceDetector(options.face_weights, device=options.device)
            if options.face else None)
    hands = (HandDetector(options.hand_weights, device=options.device)
             if options.hands else None)
    return Detectors(body, face, hands)


def report_runtime(console: Console, device: int, verbose: bool) -> None:
    """Print what the networks run on (with ``verbose``) and, always, the
    warnings of :func:`runtime_report`."""
    lines, warnings = runtime_report(device)
    for line in lines if verbose else ():
        print(line)
    for warning in warnings:
        console.warning(warning)


def runtime_report(device: int) -> Tuple[List[str], List[str]]:
    """``(lines, warnings)`` about what the networks run on: the GPU, or
    NumPy's BLAS library, kernel and threads (a warning when the kernel is
    a generic one on a CPU that has AVX2/AVX-512)."""
    if device >= 0:
        try:
            import cupy
            name = cupy.cuda.runtime.getDeviceProperties(device)['name']
        except Exception:           # no CuPy or no such GPU: loading the
            return [], []           # detectors says so in one line
        return [f'GPU {device}: {name.decode()}; CuPy {cupy.__version__}'], []
    from models.runtime import runtime_report as blas_report
    return blas_report()


# ---------------------------------------------------------------------------
# Command-line arguments
# ---------------------------------------------------------------------------

def add_detector_arguments(parser: argparse.ArgumentParser,
                           weights_flag: bool = True) -> None:
    """The detector options of every command that runs the networks:
    ``--weights`` (unless the command takes the weights positionally),
    ``--gpu``, ``--size``, ``--precise``, ``--face``, ``--hands``,
    ``--face-weights``, ``--hand-weights``, ``--verbose``."""
    defaults = DetectorOptions()
    if weights_flag:
        parser.add_argument('--weights', default=defaults.weights,
                            help=f'body weights .npz (default '
                                 f'{defaults.weights})')
    parser.add_argument('--gpu', type=int, default=defaults.device,
                        help='GPU id (default -1: CPU)')
    parser.add_argument('--size', type=int, default=defaults.size,
                        help=f'network input height in pixels, a multiple '
                             f'of {entity.NETWORK_STRIDE} (default '
                             f'{defaults.size})')
    parser.add_argument('--precise', action='store_true',
                        help='multi-scale search: slower, more accurate')
    parser.add_argument('--face', action='store_true',
                        help='also find the 70 face keypoints of each person')
    parser.add_argument('--hands', action='store_true',
                        help='also find the 21 keypoints of each hand')
    parser.add_argument('--face-weights', default=defaults.face_weights,
                        help=f'face weights (default {defaults.face_weights})')
    parser.add_argument('--hand-weights', default=defaults.hand_weights,
                        help=f'hand weights (default {defaults.hand_weights})')
    parser.add_argument('--verbose', action='store_true',
                        help='print what the network runs on (BLAS library '
                             'and kernel, threads, or the GPU) at start-up')


def check_detector_arguments(parser: argparse.ArgumentParser,
                             args: argparse.Namespace) -> None:
    """argparse's error (exit 2) for a bad ``--size``."""
    stride = entity.NETWORK_STRIDE
    if args.size < stride or args.size % stride:
        parser.error(f'--size must be a positive multiple of {stride}, not '
                     f'{args.size}')


def detector_options(args: argparse.Namespace, **fields) -> DetectorOptions:
    """The :class:`DetectorOptions` of parsed arguments (see
    :func:`add_detector_arguments`)."""
    return DetectorOptions(**_detector_fields(args), **fields)


def video_options(args: argparse.Namespace, **fields) -> VideoOptions:
    """The :class:`VideoOptions` of parsed arguments: the detector's, and
    ``fields`` for the frames and outputs."""
    return VideoOptions(**_detector_fields(args), **fields)


def _detector_fields(args: argparse.Namespace) -> dict:
    return dict(weights=args.weights, device=args.gpu, size=args.size,
                precise=args.precise, face=args.face, hands=args.hands,
                face_weights=args.face_weights,
                hand_weights=args.hand_weights)
