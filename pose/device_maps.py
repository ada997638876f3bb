"""Upsampling, smoothing and peak finding on the network's device.

On a GPU the maps stay on the device: upsampling and smoothing are written
as matrix products (one small matrix per axis), which a GPU runs in well
under a millisecond, the peaks are found there, and the part affinity
fields are read there at the points of the line integrals
(:func:`map_evidence`); only the peaks and those samples come to the host.
The same functions run on NumPy arrays, which is how the tests compare
them with the OpenCV operations of the CPU path
(:func:`pose.detector.upsample_maps`, :func:`pose.decode.smooth_heatmaps`).
"""
from __future__ import annotations

import functools
from typing import List, Sequence, Tuple

import chainer
import numpy as np

import entity
from pose import decode

#: The cubic convolution kernel's parameter in OpenCV's INTER_CUBIC.
CUBIC_A = -0.75


def _cubic_weights(t: np.ndarray) -> np.ndarray:
    """(D, 4) float32 weights of the samples at offsets -1, 0, 1, 2 for
    fractional positions ``t`` (D,), as OpenCV's ``interpolateCubic``."""
    a = np.float32(CUBIC_A)
    t = t.astype(np.float32)
    w0 = ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a
    w1 = ((a + 2) * t - (a + 3)) * t * t + 1
    w2 = ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1
    return np.stack([w0, w1, w2, 1 - w0 - w1 - w2], axis=1)


@functools.lru_cache(maxsize=64)
def cubic_resize_matrix(source: int, target: int) -> np.ndarray:
    """(target, source) float32 matrix of OpenCV's bicubic resize along one
    axis: ``cv2.resize`` with INTER_CUBIC maps a row ``r`` to
    ``matrix @ r`` (pixel centres aligned, the edge pixel repeated beyond
    the border)."""
    scale = 1.0 / (target / source)
    position = ((np.arange(target) + 0.5) * scale - 0.5).astype(np.float32)
    start = np.floor(position).astype(np.intp)
    weights = _cubic_weights(position - start)
    matrix = np.zeros((target, source), np.float32)
    rows = np.arange(target)
    for k in range(4):
        np.add.at(matrix, (rows, np.clip(start - 1 + k, 0, source - 1)),
                  weights[:, k])
    return matrix


@functools.lru_cache(maxsize=64)
def upsample_matrix(map_size: int, scaled_size: int, image_size: int
                    ) -> np.ndarray:
    """(image_size, map_size) float32: along one axis, what
    :func:`pose.detector.upsample_maps` does: resize by the stride, drop
    the padding beyond ``scaled_size``, resize to ``image_size``."""
    stride = entity.NETWORK_STRIDE
    first = cubic_resize_matrix(map_size, map_size * stride)[:scaled_size]
    return cubic_resize_matrix(scaled_size, image_size) @ first


def upsample_maps(maps, scaled_size: Tuple[int, int],
                  image_size: Tuple[int, int]):
    """:func:`pose.detector.upsample_maps` for NumPy or CuPy arrays.

    Args:
        maps: (..., C, h', w') float32 maps on any device.
        scaled_size: (h, w) of the scaled image before padding.
        image_size: (H, W) of the original image.

    Returns:
        (..., C, H, W) float32 on the maps' device.
    """
    xp = chainer.backend.get_array_module(maps)
    rows = xp.asarray(upsample_matrix(maps.shape[-2], scaled_size[0],
                                      image_size[0]))
    columns = xp.asarray(upsample_matrix(maps.shape[-1], scaled_size[1],
                                         image_size[1]))
    return rows @ maps @ columns.T


@functools.lru_cache(maxsize=64)
def blur_matrix(size: int, sigma: float) -> np.ndarray:
    """(size, size) float32: the Gaussian smoothing of
    :func:`pose.decode.smooth_heatmaps` along one axis, its reflected
    border (``cv2.BORDER_REFLECT``: ...cba|abc...) folded in."""
    kernel = decode.gaussian_kernel(sigma)[:, 0]
    radius = len(kernel) // 2
    matrix = np.zeros((size, size), np.float32)
    rows = np.repeat(np.arange(size), len(kernel))
    source = (np.arange(size)[:, None] + np.arange(-radius, radius + 1))
    period = 2 * size
    source = np.mod(source, period)
    source = np.where(source >= size, period - 1 - source, source).ravel()
    np.add.at(matrix, (rows, source), np.tile(kernel, size))
    return matrix


def smooth_heatmaps(heatmaps, sigma: float):
    """:func:`pose.decode.smooth_heatmaps` for NumPy or CuPy (C, H, W)
    float32 maps; the result stays on their device."""
    xp = chainer.backend.get_array_module(heatmaps)
    height, width = heatmaps.shape[-2:]
    rows = xp.asarray(blur_matrix(height, sigma))
    columns = xp.asarray(blur_matrix(width, sigma))
    return rows @ heatmaps @ columns.T


def find_peaks(heatmaps, sigma: float, threshold: float
               ) -> List[np.ndarray]:
    """:func:`pose.decode.find_smoothed_peaks` on the maps' device.

    Args:
        heatmaps: (C, H, W) float32 unsmoothed confidence maps (NumPy or
            CuPy), C >= 18.
        sigma: standard deviation of the smoothing in pixels.
        threshold: minimum smoothed peak value.

    Returns:
        18 NumPy (K_j, 3) float32 ``[x, y, score]`` arrays in row-major
        order, scores read from the unsmoothed maps: only these come back
        to the host.
    """
    xp = chainer.backend.get_array_module(heatmaps)
    raw = heatmaps[:entity.NUM_JOINTS]
    smoothed = smooth_heatmaps(raw, sigma)
    is_peak = smoothed > threshold
    # Not below any of the four neighbours (those outside are ignored).
    is_peak[:, 1:] &= smoothed[:, 1:] >= smoothed[:, :-1]
    is_peak[:, :-1] &= smoothed[:, :-1] >= smoothed[:, 1:]
    is_peak[:, :, 1:] &= smoothed[:, :, 1:] >= smoothed[:, :, :-1]
    is_peak[:, :, :-1] &= smoothed[:, :, :-1] >= smoothed[:, :, 1:]
    joint, y, x = xp.nonzero(is_peak)
    table = xp.stack([x.astype(xp.float32), y.astype(xp.float32),
                      raw[joint, y, x]], axis=1)
    cpu = chainer.backend.CpuDevice()
    table = cpu.send(table)
    counts = np.bincount(cpu.send(joint), minlength=entity.NUM_JOINTS)
    return np.split(table, np.cumsum(counts)[:-1])


def sample_pafs(pafs, pixels: Sequence[Tuple[np.ndarray, np.ndarray]],
                channels: Sequence[Tuple[int, int]] = entity.LIMB_PAF_CHANNELS
                ) -> List[Tuple[np.ndarray, np.ndarray]]:
    """:func:`pose.decode.sample_pafs` for (38, H, W) maps on any device:
    one gather there, and only the samples come to the host."""
    xp = chainer.backend.get_array_module(pafs)
    index = tuple(xp.asarray(i)
                  for i in decode.sample_index(pixels, channels))
    values = chainer.backend.CpuDevice().send(pafs[index])
    return decode.split_samples(values, pixels)


def map_evidence(maps, params: entity.InferenceParams = entity.DEFAULT_PARAMS
                 ) -> decode.MapEvidence:
    """What decoding needs from one image's (19 + 38, H, W) final maps
    (heatmaps, then PAFs) on the maps' device: the peaks
    (:func:`find_peaks`) and each limb's matches, scored from the PAF
    samples along its candidate pairs (:func:`sample_pafs`), on the host."""
    heatmaps, pafs = maps[:entity.NUM_HEATMAPS], maps[entity.NUM_HEATMAPS:]
    peaks = find_peaks(heatmaps, params.gaussian_sigma, params.peak_threshold)
    return decode.map_evidence(peaks, pafs, params, sample=sample_pafs)


class UpsampledField:
    """Maps as :func:`upsample_maps` gives them (averaged over the search
    scales), read only where asked: ``field[channel, y, x]`` (integer
    arrays, broadcast together) is those values, computed from the
    network's maps through the two resize matrices, so the (C, H, W) maps
    at image resolution never exist.  Decoding on the CPU reads the PAFs
    so (:func:`sample_pafs` accepts a field): a 24-megapixel photo's 38 PAF
    channels would take 3.6 GB.

    Args:
        per_scale: per search scale, ``(maps, scaled_size)``: (C, h', w')
            float32 NumPy maps and the (h, w) of the scaled image before
            padding.
        image_size: (H, W) of the original image.

    Attributes:
        shape: (C, H, W).
    """

    def __init__(self, per_scale, image_size: Tuple[int, int]):
        height, width = image_size
        self.shape = (per_scale[0][0].shape[0], height, width)
        self._parts = []              # per scale: (rows (H, h'), (C, W, h'))
        for maps, (scaled_h, scaled_w) in per_scale:
            rows = upsample_matrix(maps.shape[-2], scaled_h, height)
            columns = upsample_matrix(maps.shape[-1], scaled_w, width)
            across = np.ascontiguousarray(
                (maps @ columns.T).transpose(0, 2, 1))
            self._parts.append((rows, across))

    @staticmethod
    def point_cost(per_scale, points: int) -> int:
        """Multiply-adds of reading ``points`` values from a field of
        ``per_scale`` (to weigh against upsampling the whole maps, before
        making the field)."""
        return points * sum(maps.shape[-2] for maps, _ in per_scale)

    def __getitem__(self, index) -> np.ndarray:
        channel, y, x = np.broadcast_arrays(*index)
        total = None
        for rows, across in self._parts:
            # across[c, x] . rows[y]: the resize along y at each point.
            value = np.einsum('...u,...u->...', across[channel, x], rows[y])
            total = value if total is None else total + value
        return (total / np.float32(len(self._parts))).astype(np.float32)
