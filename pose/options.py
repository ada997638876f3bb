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
import re
import sys
from typing import (Any, Iterable, Iterator, List, Optional, Sequence,
                    Tuple)

import numpy as np

import entity
from common.cli import Console
from common.errors import ToolError
from models.fetch import default_weights
from models.precision import DEFAULT_PRECISION, PRECISIONS, check_precision
from pose.detection import Detection
from pose.detector import PoseDetector
from pose.parts import FaceDetector, HandDetector, add_face_and_hands


@dataclasses.dataclass
class DetectorOptions:
    """The networks and how to run them.

    Attributes:
        weights: body weights ``.npz`` (``convert_model.py posenet``).
        device: -1 for the CPU, N >= 0 for CUDA GPU N.
        precision: the networks' arithmetic on a GPU: ``'float32'``,
            ``'tf32'`` or ``'float16'`` (:mod:`models.precision`); the
            CPU runs float32.
        size: network input height in pixels, a multiple of
            :data:`entity.NETWORK_STRIDE`.
        net_width: network input width in pixels, a multiple of the
            stride, or None: from the image's aspect ratio (OpenPose's
            ``--net_resolution WxH``; see
            :attr:`entity.InferenceParams.input_width`).
        number_people_max: keep at most this many people per image, those
            with the highest scores (OpenPose's ``--number_people_max``);
            None: all.  Faces and hands are searched for only theirs.
        precise: multi-scale search.
        face, hands: also find face / hand keypoints.
        face_weights, hand_weights: their weights.
    """
    weights: str = default_weights('posenet')
    device: int = -1
    precision: str = DEFAULT_PRECISION
    size: int = entity.DEFAULT_PARAMS.input_height
    net_width: Optional[int] = None
    number_people_max: Optional[int] = None
    precise: bool = False
    face: bool = False
    hands: bool = False
    face_weights: str = default_weights('facenet')
    hand_weights: str = default_weights('handnet')

    def check(self) -> None:
        """ToolError unless the input size (and width) are positive stride
        multiples and the people limit is at least 1."""
        check_precision(self.precision, on_gpu=self.device >= 0)
        stride = entity.NETWORK_STRIDE
        if self.size < stride or self.size % stride:
            raise ToolError(f'the network input size must be a positive '
                            f'multiple of {stride}, not {self.size}')
        if self.net_width is not None and (self.net_width < stride
                                           or self.net_width % stride):
            raise ToolError(f'the network input width must be a positive '
                            f'multiple of {stride}, not {self.net_width}')
        if self.number_people_max is not None and self.number_people_max < 1:
            raise ToolError(f'the most people per image must be at least 1, '
                            f'not {self.number_people_max}')


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
        json_dir: the folder of OpenPose per-frame keypoint files to write
            (:class:`pose.keypoints.KeypointFramesWriter`), or None.
        csv_out: the keypoint table to write
            (:mod:`pose.keypoint_table`), or None.
        smooth: smooth the keypoints over time (One-Euro filter per
            tracked person, :mod:`pose.smoothing`) before they are drawn
            and written.
        show: show the frames in a window (q quits).
    """
    start: float = 0.0
    end: Optional[float] = None
    every: int = 1
    batch: int = 1
    video_out: Optional[str] = None
    keypoints_out: Optional[str] = None
    json_dir: Optional[str] = None
    csv_out: Optional[str] = None
    smooth: bool = False
    show: bool = False

    def check(self) -> None:
        super().check()
        if self.every < 1 or self.batch < 1:
            raise ToolError('every and batch must be at least 1')
        if self.start < 0 or (self.end is not None and self.end <= self.start):
            raise ToolError('the start must be >= 0 s and the end after it')
        if not (self.video_out or self.keypoints_out or self.json_dir
                or self.csv_out or self.show):
            raise ToolError('nothing to write: ask for the annotated video, '
                            'the keypoints or the window')


@dataclasses.dataclass
class Detectors:
    """The body detector and, when asked for, the face and hand ones, and
    the most people to keep per image (None: all)."""
    body: PoseDetector
    face: Optional[FaceDetector] = None
    hands: Optional[HandDetector] = None
    number_people_max: Optional[int] = None

    def predict(self, images: Sequence[np.ndarray]) -> List[Detection]:
        """:meth:`PoseDetector.predict`, the strongest
        :attr:`number_people_max` people kept
        (:meth:`Detection.strongest`), then their faces and hands filled in
        (same-sized images share the body network's passes)."""
        return self._finish(images, self.body.predict(images))

    def stream(self, batches: Iterable[Tuple[Any, Sequence[np.ndarray]]]
               ) -> Iterator[Tuple[Any, List[Detection]]]:
        """:meth:`PoseDetector.stream` (each batch decoded while the body
        network runs on the next), each batch finished as :meth:`predict`
        does."""
        batches = (((payload, images), images)
                   for payload, images in batches)
        for (payload, images), detections in self.body.stream(batches):
            yield payload, self._finish(images, detections)

    def _finish(self, images: Sequence[np.ndarray],
                detections: List[Detection]) -> List[Detection]:
        return [add_face_and_hands(detection.strongest(
                    self.number_people_max), img, self.face, self.hands)
                for img, detection in zip(images, detections)]


def load_detectors(options: DetectorOptions) -> Detectors:
    """Load the networks ``options`` ask for.

    Raises:
        ToolError: bad size, weights or device (one line saying why).
    """
    # Only what the networks need: a VideoOptions' outputs are checked by
    # the run that writes them (a batch loads once for per-video outputs).
    DetectorOptions.check(options)
    params = dataclasses.replace(entity.DEFAULT_PARAMS,
                                 input_height=options.size,
                                 input_width=options.net_width)
    body = PoseDetector('posenet', options.weights, device=options.device,
                        precision=options.precision, precise=options.precise,
                        params=params)
    face = (FaceDetector(options.face_weights, device=options.device,
                         precision=options.precision)
            if options.face else None)
    hands = (HandDetector(options.hand_weights, device=options.device,
                          precision=options.precision)
             if options.hands else None)
    return Detectors(body, face, hands, options.number_people_max)


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

class _BesideInput:
    """The value of an output option given without one (``--csv``)."""

    def __repr__(self) -> str:
        return 'BESIDE_INPUT'


#: ``const`` of the output options whose value may be left out
#: (``nargs='?'``): the command then names the output itself (for one
#: video: beside the input).
BESIDE_INPUT = _BesideInput()

def add_detector_arguments(parser: argparse.ArgumentParser,
                           weights_flag: bool = True) -> None:
    """The detector options of every command that runs the networks:
    ``--weights`` (unless the command takes the weights positionally),
    ``--gpu``, ``--precision``, ``--size``, ``--net-resolution``,
    ``--number-people-max``,
    ``--precise``, ``--face``, ``--hands``, ``--face-weights``,
    ``--hand-weights``, ``--verbose``.  Parse
    :func:`join_net_resolution` of the command line (so that
    ``--net-resolution -1x368`` works) and call
    :func:`check_detector_arguments` after parsing (it settles
    ``args.size``)."""
    defaults = DetectorOptions()
    if weights_flag:
        parser.add_argument('--weights', default=defaults.weights,
                            help=f'body weights .npz (default '
                                 f'{defaults.weights})')
    parser.add_argument('--gpu', type=int, default=defaults.device,
                        help='GPU id (default -1: CPU)')
    parser.add_argument('--precision', choices=PRECISIONS,
                        default=defaults.precision,
                        help='arithmetic of the networks on a GPU: float32 '
                             '(default, as the CPU), tf32 (tensor cores, '
                             'float32 storage) or float16')
    parser.add_argument('--size', type=int, default=None,
                        help=f'network input height in pixels, a multiple '
                             f'of {entity.NETWORK_STRIDE} (default '
                             f'{defaults.size})')
    parser.add_argument(NET_RESOLUTION_FLAG, type=net_resolution,
                        metavar='WxH',
                        help=f'network input width and height as OpenPose '
                             f'spells it, multiples of '
                             f'{entity.NETWORK_STRIDE}: the image is scaled '
                             f'to fit and padded; W -1: from the aspect '
                             f'ratio (default -1x{defaults.size})')
    parser.add_argument('--number-people-max', type=int, metavar='N',
                        help='keep the N people with the highest scores '
                             'per image (default: all)')
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


def net_resolution(text: str) -> Tuple[Optional[int], int]:
    """``(width or None, height)`` of a ``--net-resolution`` value such as
    ``656x368`` or ``-1x368`` (width from the aspect ratio)."""
    try:
        width, height = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'give WxH such as 656x368 or -1x368, not {text!r}') from None
    return (None if width == NET_WIDTH_FROM_ASPECT else width), height


#: The width of ``--net-resolution`` that follows the aspect ratio
#: (OpenPose's ``-1``).
NET_WIDTH_FROM_ASPECT = -1

NET_RESOLUTION_FLAG = '--net-resolution'

#: A ``--net-resolution`` value with a negative width (OpenPose's
#: ``-1x368``), which argparse would read as an unknown option.
_NEGATIVE_WIDTH_RESOLUTION = re.compile(r'-\d+[xX]\d+')

#: argparse's end of the options: the words after it are positionals.
_END_OF_OPTIONS = '--'


def join_net_resolution(argv: Optional[Sequence[str]] = None) -> List[str]:
    """The command line ``argv`` (default ``sys.argv[1:]``) with
    ``--net-resolution -1x368`` joined into ``--net-resolution=-1x368``,
    so that argparse reads a negative width as the option's value, as
    OpenPose users write it.  Only the word right after the option is
    joined, and nothing after ``--``."""
    words = list(sys.argv[1:] if argv is None else argv)
    joined: List[str] = []
    for position, word in enumerate(words):
        if word == _END_OF_OPTIONS:
            return joined + words[position:]
        if (joined and joined[-1] == NET_RESOLUTION_FLAG
                and isinstance(word, str)
                and _NEGATIVE_WIDTH_RESOLUTION.fullmatch(word)):
            joined[-1] = f'{NET_RESOLUTION_FLAG}={word}'
        else:
            joined.append(word)
    return joined


def check_detector_arguments(parser: argparse.ArgumentParser,
                             args: argparse.Namespace) -> None:
    """argparse's error (exit 2) for a bad ``--size``,
    ``--net-resolution`` or ``--number-people-max``, or a ``--size`` and
    ``--net-resolution`` of different heights; sets ``args.size`` to the
    height asked for (the default when neither is given)."""
    stride = entity.NETWORK_STRIDE
    resolution = getattr(args, 'net_resolution', None)
    if resolution is not None:
        width, height = resolution
        if args.size is not None and args.size != height:
            parser.error(f'--size {args.size} and --net-resolution height '
                         f'{height} differ; give one of them')
        bad = [v for v in (width, height) if v is not None
               and (v < stride or v % stride)]
        if bad:
            parser.error(f'--net-resolution: width and height must be '
                         f'positive multiples of {stride} (width -1: from '
                         f'the aspect ratio), not {bad[0]}')
        args.size = height
    if args.size is None:
        args.size = DetectorOptions.size
    if args.size < stride or args.size % stride:
        parser.error(f'--size must be a positive multiple of {stride}, not '
                     f'{args.size}')
    most = getattr(args, 'number_people_max', None)
    if most is not None and most < 1:
        parser.error(f'--number-people-max must be at least 1, not {most}')


def detector_options(args: argparse.Namespace, **fields) -> DetectorOptions:
    """The :class:`DetectorOptions` of parsed arguments (see
    :func:`add_detector_arguments`)."""
    return DetectorOptions(**_detector_fields(args), **fields)


def video_options(args: argparse.Namespace, **fields) -> VideoOptions:
    """The :class:`VideoOptions` of parsed arguments: the detector's, and
    ``fields`` for the frames and outputs."""
    return VideoOptions(**_detector_fields(args), **fields)


def _detector_fields(args: argparse.Namespace) -> dict:
    resolution = getattr(args, 'net_resolution', None)
    width, height = resolution or (None, DetectorOptions.size)
    size = args.size if args.size is not None else height
    return dict(weights=args.weights, device=args.gpu,
                precision=getattr(args, 'precision', DEFAULT_PRECISION),
                size=size, net_width=width,
                number_people_max=getattr(args, 'number_people_max', None),
                precise=args.precise, face=args.face, hands=args.hands,
                face_weights=args.face_weights,
                hand_weights=args.hand_weights)
