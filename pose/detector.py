"""Body-pose detection on images: pre-processing, network, maps, decoding.

The steps follow the original models' training and the authors' demo:

1. :func:`network_input`: scale the BGR image so its height maps to the
   network input height (times the search scale), pad right and bottom to a
   multiple of the stride with 128, normalise ``x / 256 - 0.5``.
2. The network (:class:`models.CocoPoseNet`) gives confidence maps and PAFs
   at 1/8 of the padded input.
3. :func:`upsample_maps`: bicubic upsampling by the stride, padding removed,
   bicubic resize to the original image size.
4. With ``precise=True`` the maps of every scale in
   ``InferenceParams.precise_scales`` are averaged.
5. :func:`pose.decode.decode_poses` turns the maps into people.
"""
from __future__ import annotations

import itertools
from typing import (Any, Iterable, Iterator, List, NamedTuple, Sequence,
                    Tuple)

import cv2
import numpy as np

import entity
import models  # noqa: F401  (NumPy 2 fix before chainer)
import chainer
from common.errors import ToolError
from models import precision as precisions
from models.convert import load_network
from models.fetch import default_weights
from pose import decode, device_maps
from pose.gpu_queue import NetworkClock, ReadStream
from pose.detection import Detection


def network_input(img: np.ndarray, height: int,
                  params: entity.InferenceParams = entity.DEFAULT_PARAMS
                  ) -> Tuple[np.ndarray, Tuple[int, int]]:
    """Scale, pad and normalise an image for the network.

    Without ``params.input_width`` the image is scaled so that its height
    is ``height`` (the width follows the aspect ratio) and padded right and
    bottom to multiples of :data:`entity.NETWORK_STRIDE`.  With it, as
    OpenPose's ``--net_resolution WxH``, the box is ``height`` high and
    ``input_width * height / input_height`` wide (rounded to a stride
    multiple: exactly W x H at search scale 1); the image is scaled by
    ``min(box_h / H, box_w / W)`` to fit the box keeping its aspect ratio
    and padded right and bottom to exactly the box.

    Args:
        img: (H, W, 3) uint8 BGR image.
        height: the height, in pixels, the image is scaled to (the box's
            height with ``input_width``).

    Returns:
        ``(x, (h, w))``: x is (1, 3, h', w') float32, h' and w' the padded
        size; (h, w) is the scaled size before padding (what
        :func:`upsample_maps` crops to).
    """
    stride = entity.NETWORK_STRIDE
    image_h, image_w = img.shape[:2]
    if params.input_width is None:
        scale = height / image_h
        box_h, box_w = height, None
    else:
        box_h = height
        box_w = max(stride, round(params.input_width * height
                                  / params.input_height / stride) * stride)
        scale = min(box_h / image_h, box_w / image_w)
    h = max(1, min(box_h, round(image_h * scale)))
    w = max(1, round(image_w * scale))
    if box_w is not None:
        w = min(w, box_w)
    resized = cv2.resize(img, (w, h), interpolation=cv2.INTER_CUBIC)
    pad_h = -h % stride if box_w is None else box_h - h + -box_h % stride
    pad_w = -w % stride if box_w is None else box_w - w
    padded = cv2.copyMakeBorder(resized, 0, pad_h, 0, pad_w,
                                cv2.BORDER_CONSTANT,
                                value=(params.pad_value,) * 3)
    x = padded.astype(np.float32) / np.float32(params.input_scale)
    x -= np.float32(params.input_offset)
    return x.transpose(2, 0, 1)[None].copy(), (h, w)


def upsample_maps(maps: np.ndarray, scaled_size: Tuple[int, int],
                  image_size: Tuple[int, int]) -> np.ndarray:
    """Network maps back to image resolution.

    Args:
        maps: (C, h', w') float32 network output for one image.
        scaled_size: (h, w) of the scaled image before padding.
        image_size: (H, W) of the original image.

    Returns:
        (C, H, W) float32: bicubic upsampling by the stride, padding
        removed, bicubic resize to the image size.
    """
    stride = entity.NETWORK_STRIDE
    hwc = np.ascontiguousarray(maps.transpose(1, 2, 0))
    up = cv2.resize(hwc, None, fx=stride, fy=stride,
                    interpolation=cv2.INTER_CUBIC)
    up = up[:scaled_size[0], :scaled_size[1]]
    full = cv2.resize(up, (image_size[1], image_size[0]),
                      interpolation=cv2.INTER_CUBIC)
    if full.ndim == 2:                   # cv2 drops a single channel axis
        full = full[:, :, None]
    return full.transpose(2, 0, 1)


def average_maps(maps_per_scale: Sequence[np.ndarray]) -> np.ndarray:
    """The mean of equally shaped maps (each scale counted once)."""
    if len(maps_per_scale) == 1:
        return maps_per_scale[0]
    total = maps_per_scale[0].copy()     # NumPy or CuPy
    for maps in maps_per_scale[1:]:
        total += maps
    return total / len(maps_per_scale)


def upsampled_average(per_scale: Sequence[Tuple[Any, Tuple[int, int]]],
                      channels: slice, image_size: Tuple[int, int],
                      upsample=None):
    """(c, H, W) float32: ``channels`` of one image's network maps at image
    resolution, averaged over the search scales.

    Args:
        per_scale: per scale, ``(maps, scaled_size)``: (C, h', w') maps and
            the (h, w) of the scaled image before padding.
        channels: the channels to upsample.
        image_size: (H, W) of the original image.
        upsample: :func:`upsample_maps` (default; NumPy) or
            :func:`pose.device_maps.upsample_maps` (any device).
    """
    upsample = upsample or upsample_maps
    return average_maps([upsample(maps[channels], scaled_size, image_size)
                         for maps, scaled_size in per_scale])


class DeviceError(ToolError):
    """The requested device cannot be used; the message says what to do."""


def get_device(device: int) -> chainer.backend.Device:
    """The Chainer device for ``device``: -1 is the CPU, N >= 0 CUDA GPU N."""
    if device < 0:
        return chainer.get_device('@numpy')
    cuda = chainer.backends.cuda
    if not cuda.available:
        raise DeviceError(f'GPU {device} was requested but CuPy is not '
                          f'installed (pip install -r requirements-gpu.txt); '
                          f'use --gpu -1 for the CPU')
    try:
        count = cuda.cupy.cuda.runtime.getDeviceCount()
    except cuda.cupy.cuda.runtime.CUDARuntimeError:
        count = 0                       # no driver or no device
    if device >= count:
        raise DeviceError(f'GPU {device} was requested but this machine has '
                          f'{count} CUDA GPU(s)')
    return chainer.get_device(f'@cupy:{device}')


#: Most bytes of joint maps at image resolution upsampled at once on the
#: CPU: all 18 for a video frame, fewer at a time for a large photo (a
#: 24-megapixel one's 18 maps would take 1.7 GB).
JOINT_MAP_BYTES = 1 << 28


def joint_chunks(image_size: Tuple[int, int]) -> List[slice]:
    """The 18 joint channels in runs whose maps at ``image_size`` (H, W)
    take at most :data:`JOINT_MAP_BYTES` (one channel at least)."""
    per_map = 4 * image_size[0] * image_size[1]
    step = max(1, min(entity.NUM_JOINTS, JOINT_MAP_BYTES // per_map))
    return [slice(first, min(first + step, entity.NUM_JOINTS))
            for first in range(0, entity.NUM_JOINTS, step)]


class _Group(NamedTuple):
    """A run of same-sized images of a batch on its way through the
    network: ``count`` images of (H, W) ``image_size``; ``per_scale`` holds
    per search scale ``(array, scaled_size)``, the input, then the maps;
    ``ready`` marks the end of the batch's network passes on a GPU
    (:meth:`pose.gpu_queue.ReadStream.mark`)."""
    count: int
    image_size: Tuple[int, int]
    per_scale: list
    ready: Any = None


class PoseDetector:
    """Multi-person body pose detector on the COCO body model.

    Args:
        arch: ``'posenet'``, the body network (the seed API's first
            argument; face and hands have :mod:`pose.parts`).
        weights_file: a ``.npz`` written by ``convert_model.py posenet``.
        device: -1 for the CPU, N >= 0 for CUDA GPU N (needs cupy).
        precision: ``'float32'`` (default), or on a GPU ``'tf32'`` or
            ``'float16'`` (:mod:`models.precision`; the maps are float32
            from the upsampling on in every mode).
        precise: multi-scale search (slower, more accurate).
        params: pre- and post-processing parameters.

    Entry points: :meth:`predict` (images -> :class:`Detection` list, the
    library API), :meth:`maps` and :meth:`stage_maps` (the network's maps,
    heatmaps first), and calling the detector (the seed API: one image ->
    ``(poses, scores)``).

    Example::

        detector = PoseDetector('posenet', 'models/coco_posenet.npz')
        [detection] = detector.predict([cv2.imread('person.jpg')])
        detection.poses          # (N, 18, 3) float32: x, y, flag
    """

    def __init__(self, arch: str = 'posenet',
                 weights_file: str = default_weights('posenet'),
                 device: int = -1, precision: str = 'float32',
                 precise: bool = False,
                 params: entity.InferenceParams = entity.DEFAULT_PARAMS):
        if arch != 'posenet':
            raise ToolError(f'PoseDetector runs the body network '
                            f'"posenet", not {arch!r} (face and hands: '
                            f'--face / --hands)')
        self.params = params
        self.precise = precise
        self.device = get_device(device)
        precisions.check_precision(precision, self.device.xp is not np)
        self.precision = precision
        self.model = load_network(arch, weights_file)
        #: The time spent in the network's passes, for reports and
        #: benchmarks (:attr:`network_seconds`).
        self.clock = NetworkClock(self.device.xp is not np)
        self.device.use()
        self._reading = ReadStream(self.device.xp is not np)
        self.model.to_device(self.device)
        precisions.set_precision(self.model, precision)

    def _scales(self) -> Tuple[float, ...]:
        return self.params.precise_scales if self.precise else (1.0,)

    @property
    def on_gpu(self) -> bool:
        return self.device.xp is not np

    @property
    def network_seconds(self) -> float:
        """Seconds spent in the network's passes so far (with the input's
        transfer to the device), for reports and benchmarks; on a GPU, of
        the passes whose results have been read."""
        return self.clock.seconds

    # -- the network --------------------------------------------------------

    def _inputs(self, images: Sequence[np.ndarray], scale: float
                ) -> Tuple[np.ndarray, Tuple[int, int]]:
        """``(x, scaled_size)``: the (N, 3, h', w') float32 network input
        of same-sized images at one search scale (on the host), and the
        (h, w) of the scaled images before padding."""
        height = max(entity.NETWORK_STRIDE,
                     round(self.params.input_height * scale))
        inputs = [network_input(img, height, self.params) for img in images]
        return np.concatenate([x for x, _ in inputs]), inputs[0][1]

    def _send(self, x: np.ndarray):
        """The network input on the detector's device, in the storage
        precision."""
        return self.device.send(x).astype(
            precisions.storage_dtype(self.precision), copy=False)

    def _network(self, x) -> Tuple[list, list]:
        """The six stages' (N, 19, h', w') heatmaps and (N, 38, h', w')
        PAFs of input ``x`` (on the device: :meth:`_send`), float32 on the
        detector's device (on a GPU the work is queued, not waited for)."""
        with chainer.using_config('train', False), \
                chainer.no_backprop_mode():
            heatmaps, pafs = self.model(x)
        # float16 maps become float32 for the upsampling and decoding.
        return ([v.array.astype(np.float32, copy=False) for v in heatmaps],
                [v.array.astype(np.float32, copy=False) for v in pafs])

    def _forward(self, images: Sequence[np.ndarray], scale: float):
        """Run the network on same-sized images at one search scale and
        wait for it.

        Returns:
            ``(heatmaps, pafs, scaled_size)``: lists over the six stages of
            (N, 19, h', w') and (N, 38, h', w') float32 arrays on the
            detector's device, and the (h, w) of the scaled images before
            padding.
        """
        x, scaled_size = self._inputs(images, scale)
        with self.clock.timing():
            heatmaps, pafs = self._network(self._send(x))
        self.clock.settle(wait=True)
        return heatmaps, pafs, scaled_size

    def _prepare(self, images: Sequence[np.ndarray]) -> List[_Group]:
        """The network inputs of a batch (host work), per run of same-sized
        images: :class:`_Group` s whose ``per_scale`` holds ``(x,
        scaled_size)``."""
        groups = []
        for size, group in itertools.groupby(images,
                                             key=lambda img: img.shape):
            group = list(group)
            groups.append(_Group(len(group), size[:2], [
                self._inputs(group, scale) for scale in self._scales()]))
        return groups

    def _launch(self, groups: List[_Group]) -> List[_Group]:
        """Run the network on prepared groups: ``per_scale`` then holds the
        final (N, 19 + 38, h', w') maps (heatmaps, then PAFs) on the
        device; on a GPU the work is queued, not waited for, and ``ready``
        marks its end."""
        # Every input is sent first: a copy from the host waits for the
        # device's queued work.
        with self.clock.timing():
            sent = [[(self._send(x), size) for x, size in group.per_scale]
                    for group in groups]
        launched = []
        for group, inputs in zip(groups, sent):
            per_scale = []
            for x, scaled_size in inputs:
                with self.clock.timing():
                    heatmaps, pafs = self._network(x)
                    both = self.device.xp.concatenate(
                        [heatmaps[-1], pafs[-1]], axis=1)
                per_scale.append((both, scaled_size))
            launched.append(group._replace(per_scale=per_scale))
        ready = self._reading.mark()
        return [group._replace(ready=ready) for group in launched]

    def _image_maps(self, groups: List[_Group]) -> Iterator:
        """Per image of launched groups, in turn, its final (19 + 38, H, W)
        maps at image resolution averaged over the scales, on the
        detector's device (one image's at a time, so a large batch never
        holds them all)."""
        upsample = (device_maps.upsample_maps if self.on_gpu
                    else upsample_maps)
        for group in groups:
            for index in range(group.count):
                yield upsampled_average(
                    [(maps[index], size) for maps, size in group.per_scale],
                    slice(None), group.image_size, upsample)

    def _evidence(self, groups: List[_Group]) -> List[decode.MapEvidence]:
        """Per image of launched groups, what decoding needs from its maps
        (:class:`pose.decode.MapEvidence`: peaks and matched limbs, small
        and on the host).

        On a GPU each image's final maps are upsampled on the device, the
        peaks found and the PAFs read there
        (:func:`pose.device_maps.map_evidence`), on the read stream once
        the groups' passes are done, while later passes run.  On the CPU
        the full-size maps are never made (:meth:`_host_evidence`).
        """
        evidence = []
        with self._reading.after(groups[-1].ready if groups else None):
            if self.on_gpu:
                for both in self._image_maps(groups):
                    evidence.append(device_maps.map_evidence(both,
                                                             self.params))
                    del both    # before the next image's maps are made
            else:
                evidence = [self._host_evidence(group, index)
                            for group in groups
                            for index in range(group.count)]
        self.clock.settle()
        return evidence

    def _host_evidence(self, group: _Group, index: int
                       ) -> decode.MapEvidence:
        """:meth:`_evidence` of image ``index`` of a launched group on the
        CPU, with memory that does not grow with the number of maps: the
        18 joints' maps are upsampled (:func:`upsample_maps`) a few at a
        time (:data:`JOINT_MAP_BYTES`) for the peaks, and the PAFs are
        read at the line integrals' points from the network's maps
        (:class:`pose.device_maps.UpsampledField`), unless the candidate
        pairs are so many that upsampling the PAFs whole costs less."""
        params, image_size = self.params, group.image_size
        per_scale = [(maps[index], scaled_size)
                     for maps, scaled_size in group.per_scale]
        peaks: List[np.ndarray] = []
        for chunk in joint_chunks(image_size):
            heatmaps = upsampled_average(per_scale, chunk, image_size)
            peaks += decode.find_smoothed_peaks(
                heatmaps, params.gaussian_sigma,
                params.peak_threshold)[:chunk.stop - chunk.start]
            del heatmaps        # before the next chunk's maps are made
        paf_channels = slice(entity.NUM_HEATMAPS, None)
        paf_maps = [(maps[paf_channels], scaled_size)
                    for maps, scaled_size in per_scale]
        samples = 2 * params.paf_samples * sum(
            len(peaks[a]) * len(peaks[b]) for a, b in entity.LIMBS)
        if (device_maps.UpsampledField.point_cost(paf_maps, samples)
                > entity.NUM_PAF_CHANNELS * image_size[0] * image_size[1]):
            # So many candidate pairs (untrained weights) that upsampling
            # the PAFs whole is cheaper.
            return decode.map_evidence(
                peaks, upsampled_average(paf_maps, slice(None), image_size),
                params)
        return decode.map_evidence(
            peaks, device_maps.UpsampledField(paf_maps, image_size), params,
            sample=device_maps.sample_pafs)

    def _finish(self, groups: List[_Group]) -> List[Detection]:
        """The people of launched groups: :meth:`_evidence`, then the
        assembly on the host."""
        return [decode.poses_from_evidence(e, self.params)
                for e in self._evidence(groups)]

    # -- entry points -------------------------------------------------------

    def stream(self, batches: Iterable[Tuple[Any, Sequence[np.ndarray]]]
               ) -> Iterator[Tuple[Any, List[Detection]]]:
        """Find the people of a stream of image batches, decoding each
        batch on the host while the network runs on the next.

        For each batch the images are prepared on the host (while a GPU
        still runs the previous batch) and the network is started on them;
        only then are the previous batch's maps read (upsampled, peaks
        found, limbs scored and matched: :meth:`_evidence`, on a stream of
        its own) and its people assembled and handed out.  On a GPU that
        reading, and whatever the caller does with the people before it
        asks for the next batch (tracking, drawing, writing), overlap the
        network's pass on this batch.  On the CPU everything runs in turn,
        with the same results.

        Args:
            batches: ``(payload, images)`` pairs: anything the caller wants
                back with the batch, and (H, W, 3) uint8 BGR images (runs
                of the same size share network passes).

        Yields:
            ``(payload, detections)``, one :class:`Detection` per image,
            batch by batch in input order, each batch one batch later than
            it was read.
        """
        in_flight = None           # (payload, launched groups)
        for payload, images in batches:
            launched = self._launch(self._prepare(images))
            if in_flight:
                yield in_flight[0], self._finish(in_flight[1])
            in_flight = (payload, launched)
        if in_flight:
            yield in_flight[0], self._finish(in_flight[1])

    def predict(self, images: Sequence[np.ndarray]) -> List[Detection]:
        """Find every person in each image.

        Consecutive images of the same size (video frames) go through the
        network together, one pass per search scale, which keeps a GPU
        busy; their maps are then upsampled and read one image at a time,
        so memory does not grow with the batch.

        Args:
            images: (H, W, 3) uint8 BGR images.

        Returns:
            One :class:`Detection` per image, in input order.
        """
        return self._finish(self._launch(self._prepare(images)))

    def maps(self, img: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Final-stage maps at image resolution, averaged over the scales.

        Args:
            img: (H, W, 3) uint8 BGR image.

        Returns:
            ``(heatmaps, pafs)``: (19, H, W) and (38, H, W) float32.
        """
        both = next(self._image_maps(self._launch(self._prepare([img]))))
        both = chainer.backend.CpuDevice().send(both)
        self.clock.settle()
        return both[:entity.NUM_HEATMAPS], both[entity.NUM_HEATMAPS:]

    def stage_maps(self, img: np.ndarray, scale: float = 1.0
                   ) -> Tuple[List[np.ndarray], List[np.ndarray]]:
        """Per-stage maps at image resolution, for one search scale.

        Returns:
            ``(heatmaps, pafs)``: lists over the six stages of (19, H, W)
            and (38, H, W) float32 arrays.
        """
        heatmaps, pafs, scaled_size = self._forward([img], scale)
        cpu = chainer.backend.CpuDevice()
        return tuple([upsample_maps(cpu.send(m[0]), scaled_size,
                                    img.shape[:2]) for m in stage]
                     for stage in (heatmaps, pafs))

    def __call__(self, img: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """``(poses, scores)`` of one BGR image: (N, 18, 3) and (N,)
        float32, as :class:`Detection` (the seed API)."""
        detection = self.predict([img])[0]
        return detection.poses, detection.scores
