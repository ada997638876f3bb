"""Body-pose detection on images: pre-processing, network, maps, decoding.

The steps follow the original models' training and the authors' demo:

1. :func:`network_input`: scale the BGR image so its height maps to the
   network input height (times the search scale), pad right and bottom to a
   multiple of the stride with 128, normalise ``x / 256 - 0.5``.
2. The network (:class:`models.CocoPoseNet`) gives PAFs and confidence maps
   at 1/8 of the padded input.
3. :func:`upsample_maps`: bicubic upsampling by the stride, padding removed,
   bicubic resize to the original image size.
4. With ``precise=True`` the maps of every scale in
   ``InferenceParams.precise_scales`` are averaged.
5. :func:`pose.decode.decode_poses` turns the maps into people.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np

import entity
import models  # noqa: F401  (NumPy 2 fix before chainer)
import chainer
from models.convert import load_network
from pose import decode, device_maps


@dataclasses.dataclass
class Detection:
    """The people found in one image.

    Attributes:
        poses: (N, 18, 3) float32: x, y in image pixels and a flag, 2 where
            the joint was found and 0 where not (then x = y = 0); joints in
            :data:`entity.JOINT_NAMES` order.
        scores: (N,) float32 person scores, highest first.
        confidences: (N, 18) float32 confidence-map value of each joint
            (0 where missing).
        faces: (N, 70, 3) float32 face keypoints ``[x, y, score]`` (zeros
            where not found), when face detection was asked for.
        hands: (N, 2, 21, 3) float32 hand keypoints, left hand first, when
            hand detection was asked for.
    """
    poses: np.ndarray
    scores: np.ndarray
    confidences: np.ndarray
    faces: Optional[np.ndarray] = None
    hands: Optional[np.ndarray] = None


def network_input(img: np.ndarray, height: int,
                  params: entity.InferenceParams = entity.DEFAULT_PARAMS
                  ) -> Tuple[np.ndarray, Tuple[int, int]]:
    """Scale, pad and normalise an image for the network.

    Args:
        img: (H, W, 3) uint8 BGR image.
        height: the height, in pixels, the image is scaled to.

    Returns:
        ``(x, (h, w))``: x is (1, 3, h', w') float32 with h' and w' the
        scaled size padded up to multiples of :data:`entity.NETWORK_STRIDE`;
        (h, w) is the scaled size before padding.
    """
    scale = height / img.shape[0]
    w = max(1, round(img.shape[1] * scale))
    resized = cv2.resize(img, (w, height), interpolation=cv2.INTER_CUBIC)
    stride = entity.NETWORK_STRIDE
    pad_h, pad_w = -height % stride, -w % stride
    padded = cv2.copyMakeBorder(resized, 0, pad_h, 0, pad_w,
                                cv2.BORDER_CONSTANT,
                                value=(params.pad_value,) * 3)
    x = padded.astype(np.float32) / np.float32(params.input_scale)
    x -= np.float32(params.input_offset)
    return x.transpose(2, 0, 1)[None].copy(), (height, w)


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


class DeviceError(Exception):
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


class PoseDetector:
    """Multi-person body pose detector on the COCO body model.

    Args:
        arch: ``'posenet'`` (the body network).
        weights_file: a ``.npz`` written by ``convert_model.py posenet``.
        device: -1 for the CPU, N >= 0 for CUDA GPU N (needs cupy).
        precise: multi-scale search (slower, more accurate).
        params: pre- and post-processing parameters.

    Example::

        detector = PoseDetector('posenet', 'models/coco_posenet.npz')
        poses, scores = detector(cv2.imread('person.jpg'))
    """

    def __init__(self, arch: str = 'posenet',
                 weights_file: str = 'models/coco_posenet.npz',
                 device: int = -1, precise: bool = False,
                 params: entity.InferenceParams = entity.DEFAULT_PARAMS):
        if arch != 'posenet':
            raise ValueError(f'PoseDetector runs the body network '
                             f'"posenet", not {arch!r}')
        self.params = params
        self.precise = precise
        self.device = get_device(device)
        self.model = load_network(arch, weights_file)
        #: Seconds spent in the network's forward passes so far (with the
        #: transfers to and from the device), for reports and benchmarks.
        self.network_seconds = 0.0
        self.device.use()
        self.model.to_device(self.device)

    def _scales(self) -> Tuple[float, ...]:
        return self.params.precise_scales if self.precise else (1.0,)

    @property
    def on_gpu(self) -> bool:
        return self.device.xp is not np

    def _forward(self, images: Sequence[np.ndarray], scale: float):
        """Run the network on same-sized images at one search scale.

        Returns:
            ``(pafs, heatmaps, scaled_size)``: lists over the six stages of
            (N, 38, h', w') and (N, 19, h', w') float32 arrays on the
            detector's device, and the (h, w) of the scaled images before
            padding.
        """
        if len({img.shape for img in images}) != 1:
            raise ValueError('images of one batch must have the same shape')
        height = max(entity.NETWORK_STRIDE,
                     round(self.params.input_height * scale))
        inputs = [network_input(img, height, self.params) for img in images]
        x = np.concatenate([x for x, _ in inputs])
        start = time.perf_counter()
        with chainer.using_config('train', False), \
                chainer.no_backprop_mode():
            pafs, heatmaps = self.model(self.device.send(x))
        pafs = [v.array for v in pafs]
        heatmaps = [v.array for v in heatmaps]
        if self.on_gpu:
            self.device.device.synchronize()
        self.network_seconds += time.perf_counter() - start
        return pafs, heatmaps, inputs[0][1]

    def _network(self, images: Sequence[np.ndarray], scale: float):
        """:meth:`_forward` with every map brought to the CPU."""
        pafs, heatmaps, scaled_size = self._forward(images, scale)
        cpu = chainer.backend.CpuDevice()
        return ([cpu.send(p) for p in pafs], [cpu.send(h) for h in heatmaps],
                scaled_size)

    def stage_maps(self, img: np.ndarray, scale: float = 1.0
                   ) -> Tuple[List[np.ndarray], List[np.ndarray]]:
        """Per-stage maps at image resolution, for one search scale.

        Returns:
            ``(heatmaps, pafs)``: lists over the six stages of (19, H, W)
            and (38, H, W) float32 arrays.
        """
        pafs, heatmaps, scaled_size = self._network([img], scale)
        return ([upsample_maps(h[0], scaled_size, img.shape[:2])
                 for h in heatmaps],
                [upsample_maps(p[0], scaled_size, img.shape[:2])
                 for p in pafs])

    def _final_maps_at(self, images: Sequence[np.ndarray], scale: float):
        """``(maps, scaled_size)``: the last stage's (N, 19 + 38, h', w')
        heatmaps then PAFs at the network's resolution, on the detector's
        device, and the (h, w) of the scaled images."""
        pafs, heatmaps, scaled_size = self._forward(images, scale)
        return (self.device.xp.concatenate([heatmaps[-1], pafs[-1]], axis=1),
                scaled_size)

    def _device_maps_batch(self, images: Sequence[np.ndarray]
                           ) -> Iterator:
        """Per image, in turn, the final (57, H, W) maps at image
        resolution averaged over the scales, on the detector's device (one
        image's at a time, so a large batch never holds them all)."""
        per_scale = [self._final_maps_at(images, s) for s in self._scales()]
        upsample = (device_maps.upsample_maps if self.on_gpu
                    else upsample_maps)
        image_size = images[0].shape[:2]
        for index in range(len(images)):
            yield average_maps([upsample(maps[index], scaled_size, image_size)
                                for maps, scaled_size in per_scale])

    def maps_batch(self, images: Sequence[np.ndarray]
                   ) -> List[Tuple[np.ndarray, np.ndarray]]:
        """:meth:`maps` of same-sized images, one network pass per scale."""
        cpu = chainer.backend.CpuDevice()
        return [(cpu.send(both[:entity.NUM_HEATMAPS]),
                 cpu.send(both[entity.NUM_HEATMAPS:]))
                for both in self._device_maps_batch(images)]

    def maps(self, img: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Final-stage maps at image resolution, averaged over the scales.

        Args:
            img: (H, W, 3) uint8 BGR image.

        Returns:
            ``(heatmaps, pafs)``: (19, H, W) and (38, H, W) float32.
        """
        return self.maps_batch([img])[0]

    def detect_batch(self, images: Sequence[np.ndarray]) -> List[Detection]:
        """:meth:`detect` of same-sized images (video frames) in one network
        pass per scale, which keeps a GPU busy; results in input order.

        On a GPU the maps stay on the device until the peaks are found;
        only the peaks and the part affinity fields come to the host.
        """
        if not self.on_gpu:
            return [Detection(*decode.decode_poses(
                        heatmaps, pafs, self.params, return_confidences=True))
                    for heatmaps, pafs in self.maps_batch(images)]
        cpu, params = chainer.backend.CpuDevice(), self.params
        detections = []
        for both in self._device_maps_batch(images):
            peaks = device_maps.find_peaks(both[:entity.NUM_HEATMAPS],
                                           params.gaussian_sigma,
                                           params.peak_threshold)
            pafs = cpu.send(both[entity.NUM_HEATMAPS:])
            detections.append(Detection(*decode.poses_from_peaks(
                peaks, pafs, params)))
        return detections

    def detect(self, img: np.ndarray) -> Detection:
        """Find every person in a BGR uint8 (H, W, 3) image."""
        return self.detect_batch([img])[0]

    def __call__(self, img: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """``(poses, scores)``: (N, 18, 3) and (N,) float32; see Detection."""
        detection = self.detect(img)
        return detection.poses, detection.scores
