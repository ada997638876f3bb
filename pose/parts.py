"""Face and hand keypoints, from regions found with the body pose.

For each person, :mod:`pose.regions` gives a square face box and one square
box per hand (OpenPose's rules).  Each box is cropped from the image (padded
where it leaves the image) and resized to the network input; on a GPU all
crops of one image go through the face or hand network together.  Each
keypoint is the peak of its channel in the last stage's heatmap (upsampled
to the crop), reported when above a threshold and mapped back to image
pixels.  The hand model expects a right hand, so left-hand crops are
mirrored before the network and their keypoints mirrored back.  Crops are
normalised with the face and hand networks' own parameters
(:class:`entity.PartParams`).

Example (default weights: :func:`models.fetch.default_weights`)::

    faces = FaceDetector()(img, poses, confidences)      # (N, 70, 3)
    hands = HandDetector()(img, poses, confidences)      # (N, 2, 21, 3)
"""
from __future__ import annotations

import dataclasses
from typing import Optional

import chainer
import cv2
import numpy as np

import entity
from models import precision as precisions
from models.convert import load_network
from models.fetch import default_weights
from pose import regions
from pose.detection import Detection
from pose.detector import get_device, upsample_maps


def crop_squares(img: np.ndarray, boxes: np.ndarray, mirror: np.ndarray,
                 params: entity.PartParams = entity.DEFAULT_PART_PARAMS
                 ) -> np.ndarray:
    """Network inputs of square image regions.

    Args:
        img: (H, W, 3) uint8 BGR image.
        boxes: (K, 3) float ``[x_left, y_top, size]`` in image pixels; they
            may extend beyond the image (filled with ``crop_pad_value``).
        mirror: (K,) bool: flip that crop left-right.
        params: the face or hand network's parameters: crop size, pad value
            and input normalisation.

    Returns:
        (K, 3, S, S) float32, S = ``params.input_size``, normalised
        ``x / params.input_scale - params.input_offset`` (OpenPose:
        ``x / 256 - 0.5``).
    """
    size = params.input_size
    crops = np.empty((len(boxes), size, size, 3), np.float32)
    for crop, (x, y, side), flip in zip(crops, boxes, mirror):
        scale = size / side
        affine = np.array([[scale, 0, -x * scale], [0, scale, -y * scale]])
        patch = cv2.warpAffine(img, affine, (size, size),
                               flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT,
                               borderValue=(params.crop_pad_value,) * 3)
        crop[...] = patch[:, ::-1] if flip else patch
    crops /= np.float32(params.input_scale)
    crops -= np.float32(params.input_offset)
    return crops.transpose(0, 3, 1, 2)


def heatmap_peaks(heatmaps: np.ndarray, input_size: int,
                  threshold: float) -> np.ndarray:
    """The peak of each keypoint channel, in crop pixels.

    Args:
        heatmaps: (K, C + 1, h, w) float32 network output (last channel:
            background, ignored).
        input_size: side S of the crops.
        threshold: peaks at or below it are not reported.

    Returns:
        (K, C, 3) float32 ``[u, v, score]`` in the S x S crop, zeros where
        the peak is not above ``threshold``.
    """
    k, channels = heatmaps.shape[0], heatmaps.shape[1] - 1
    peaks = np.zeros((k, channels, 3), np.float32)
    for maps, out in zip(heatmaps, peaks):
        up = upsample_maps(maps[:channels], (input_size, input_size),
                           (input_size, input_size))
        flat = up.reshape(channels, -1)
        best = flat.argmax(axis=1)
        score = flat[np.arange(channels), best]
        v, u = np.divmod(best, input_size)
        found = score > threshold
        out[found] = np.column_stack([u, v, score])[found]
    return peaks


def crop_to_image(peaks: np.ndarray, boxes: np.ndarray, mirror: np.ndarray,
                  input_size: int) -> np.ndarray:
    """Map ``[u, v, score]`` crop peaks (K, C, 3) back to image pixels,
    undoing the mirroring; rows of zeros (not found) stay zeros."""
    found = peaks[..., 2] > 0
    u = np.where(mirror[:, None], input_size - 1 - peaks[..., 0],
                 peaks[..., 0])
    scale = (boxes[:, 2] / input_size)[:, None]
    x = boxes[:, 0, None] + u * scale
    y = boxes[:, 1, None] + peaks[..., 1] * scale
    points = np.stack([x, y, peaks[..., 2]], axis=-1).astype(np.float32)
    return np.where(found[..., None], points, np.float32(0))


class PartDetector:
    """Keypoints of square crops with the face or the hand network.

    Args:
        network: ``'facenet'`` or ``'handnet'``.
        weights_file: the converted ``.npz``.
        device: -1 for the CPU, N >= 0 for CUDA GPU N.
        params: region and keypoint parameters.
        precision: ``'float32'``, or on a GPU ``'tf32'`` or ``'float16'``
            (:mod:`models.precision`).
    """

    def __init__(self, network: str, weights_file: str, device: int = -1,
                 params: entity.PartParams = entity.DEFAULT_PART_PARAMS,
                 precision: str = precisions.DEFAULT_PRECISION):
        self.params = params
        self.device = get_device(device)
        precisions.check_precision(precision, self.device.xp is not np)
        self.model = load_network(network, weights_file)
        self.device.use()
        self.model.to_device(self.device)
        precisions.set_precision(self.model, precision)
        self.threshold = (params.face_peak_threshold if network == 'facenet'
                          else params.hand_peak_threshold)

    def _heatmaps(self, x: np.ndarray) -> np.ndarray:
        """Last-stage heatmaps of crops ``x``, on the CPU.

        On a GPU all crops go through in one batch.  On the CPU they go one
        at a time: Chainer's CPU convolution took 9.9 s for a batch of two
        368x368 hand crops against 2.3 s for one (its im2col buffer for the
        batch is about 600 MB for one layer), so batching loses there.
        """
        batch = len(x) if self.device.xp is not np else 1
        cpu = chainer.backend.CpuDevice()
        outputs = []
        with chainer.using_config('train', False), \
                chainer.no_backprop_mode():
            for start in range(0, len(x), batch):
                chunk = self.device.send(x[start:start + batch])
                outputs.append(cpu.send(self.model(chunk)[-1].array)
                               .astype(np.float32, copy=False))
        return np.concatenate(outputs)

    def keypoints(self, img: np.ndarray, boxes: np.ndarray,
                  mirror: np.ndarray) -> np.ndarray:
        """(K, C, 3) float32 ``[x, y, score]`` image keypoints of K boxes,
        zeros where not found."""
        x = crop_squares(img, boxes, mirror, self.params)
        peaks = heatmap_peaks(self._heatmaps(x), self.params.input_size,
                              self.threshold)
        return crop_to_image(peaks, boxes, mirror, self.params.input_size)


def _fill(boxes: np.ndarray, valid: np.ndarray, mirror: np.ndarray,
          detector: PartDetector, img: np.ndarray, points: int
          ) -> np.ndarray:
    """Keypoints for the valid boxes, zeros for the others; keeps shape."""
    out = np.zeros(valid.shape + (points, 3), np.float32)
    if valid.any():
        out[valid] = detector.keypoints(img, boxes[valid], mirror[valid])
    return out


class FaceDetector(PartDetector):
    """``detector(img, poses, confidences)`` -> (N, 70, 3) float32 face
    keypoints ``[x, y, score]`` per person, zeros where not found."""

    def __init__(self, weights_file: str = default_weights('facenet'),
                 **kwargs):
        super().__init__('facenet', weights_file, **kwargs)

    def __call__(self, img, poses, confidences) -> np.ndarray:
        boxes, valid = regions.face_boxes(poses, confidences, self.params)
        return _fill(boxes, valid, np.zeros_like(valid), self, img,
                     entity.NUM_FACE_KEYPOINTS)


class HandDetector(PartDetector):
    """``detector(img, poses, confidences)`` -> (N, 2, 21, 3) float32 hand
    keypoints ``[x, y, score]``, hands in (:data:`entity.LEFT_HAND`,
    :data:`entity.RIGHT_HAND`) order, zeros where not found."""

    def __init__(self, weights_file: str = default_weights('handnet'),
                 **kwargs):
        super().__init__('handnet', weights_file, **kwargs)

    def __call__(self, img, poses, confidences) -> np.ndarray:
        boxes, valid = regions.hand_boxes(poses, confidences, self.params)
        mirror = np.zeros_like(valid)
        mirror[:, entity.LEFT_HAND] = True    # the model expects right hands
        return _fill(boxes, valid, mirror, self, img,
                     entity.NUM_HAND_KEYPOINTS)


def add_face_and_hands(detection: Detection, img: np.ndarray,
                       faces: Optional[FaceDetector] = None,
                       hands: Optional[HandDetector] = None) -> Detection:
    """The detection with ``faces`` and/or ``hands`` keypoints filled in."""
    return dataclasses.replace(
        detection,
        faces=(faces(img, detection.poses, detection.confidences)
               if faces else None),
        hands=(hands(img, detection.poses, detection.confidences)
               if hands else None))
