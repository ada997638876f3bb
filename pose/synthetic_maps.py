"""Ground-truth maps of known skeletons, for tests and benchmarks.

Builds the confidence maps and part affinity fields that a perfect network
would output, exactly as the paper defines its training targets (Cao et al.
2017, section 2; ``../shared/README.md`` section 1):

* confidence map of joint j: ``S*_j(p) = max_k exp(-||p - x_jk||^2 / sigma^2)``
  over the people k;
* PAF of limb c from joint j1 to j2: the unit vector ``v`` from ``x_j1k`` to
  ``x_j2k`` at every pixel p with ``0 <= v . (p - x_j1k) <= length`` and
  ``|v_perp . (p - x_j1k)| <= limb_half_width``, zero elsewhere; where the
  limbs of several people overlap, the mean of their (non-zero) vectors.

Poses use the decoder's layout, (18, 3) float32 ``x, y, flag`` per person
(flag 2: present, 0: absent, then x = y = 0).  Joints outside the image are
allowed: their maps are what falls inside.  Not used by the product.
"""
from __future__ import annotations

from typing import Dict, Iterable, Tuple

import numpy as np

from entity import (JOINT_INDEX, JOINT_NAMES, LIMB_PAF_CHANNELS, LIMBS,
                    NUM_HEATMAPS, NUM_JOINTS, NUM_PAF_CHANNELS)

#: Spread sigma of the ground-truth confidence maps, in image pixels: blobs
#: about as wide as those of a network's upsampled maps.
CONFIDENCE_SIGMA = 7.0
#: Half-width sigma_l of a limb's PAF rectangle, in pixels.
LIMB_HALF_WIDTH = 4.0

#: A standing person facing the camera (so their right side is on the
#: image's left), unit height: y = 0 at the top of the head, 1 at the soles,
#: x = 0 on the body's axis.  Proportions of an adult.
TEMPLATE_POSE: Dict[str, Tuple[float, float]] = {
    'Nose': (0.0, 0.065), 'Neck': (0.0, 0.17),
    'RShoulder': (-0.11, 0.18), 'RElbow': (-0.14, 0.33),
    'RWrist': (-0.15, 0.47),
    'LShoulder': (0.11, 0.18), 'LElbow': (0.14, 0.33), 'LWrist': (0.15, 0.47),
    'RHip': (-0.06, 0.52), 'RKnee': (-0.07, 0.75), 'RAnkle': (-0.07, 0.96),
    'LHip': (0.06, 0.52), 'LKnee': (0.07, 0.75), 'LAnkle': (0.07, 0.96),
    'REye': (-0.03, 0.045), 'LEye': (0.03, 0.045),
    'REar': (-0.065, 0.055), 'LEar': (0.065, 0.055),
}

#: Size (height, width) and people (height, top-centre x, top y) of the
#: five-person frame of the tests and of ``bench/bench_decode.py``.
FRAME_SHAPE = (368, 656)
FIVE_PEOPLE = ((300, 70, 40), (260, 200, 90), (330, 330, 20),
               (240, 460, 110), (280, 590, 60))


def standing_person(height: float, top_x: float, top_y: float) -> np.ndarray:
    """(18, 3) float32 pose of :data:`TEMPLATE_POSE` ``height`` pixels tall,
    top of the head at ``(top_x, top_y)``.

    Coordinates are rounded to whole pixels: the paper's PAF rectangles end
    exactly at the joints, so with sub-pixel joints the first and last
    samples of the line integral can fall just past the ends (a property of
    ideal maps, not of a network's blurred ones).
    """
    template = np.array([TEMPLATE_POSE[name] for name in JOINT_NAMES])
    xy = np.rint(template * height + (top_x, top_y))
    return np.column_stack([xy, np.full(NUM_JOINTS, 2)]).astype(np.float32)


def without_joints(pose: np.ndarray, names: Iterable[str]) -> np.ndarray:
    """A copy of ``pose`` with the named joints absent (flag 0, x = y = 0)."""
    pose = pose.copy()
    pose[[JOINT_INDEX[name] for name in names]] = 0
    return pose


def with_joints_at(pose: np.ndarray,
                   positions: Dict[str, Tuple[float, float]]) -> np.ndarray:
    """A copy of ``pose`` with the named joints moved to ``(x, y)``."""
    pose = pose.copy()
    for name, (x, y) in positions.items():
        pose[JOINT_INDEX[name]] = x, y, 2
    return pose


def five_people() -> np.ndarray:
    """(5, 18, 3) float32 poses of the five people of :data:`FIVE_PEOPLE`."""
    return np.stack([standing_person(*person) for person in FIVE_PEOPLE])


def confidence_maps(poses: np.ndarray, image_shape: Tuple[int, int],
                    sigma: float = CONFIDENCE_SIGMA) -> np.ndarray:
    """(19, H, W) float32 ground-truth confidence maps of ``poses``.

    Args:
        poses: (N, 18, 3) ``x, y, flag``; joints with flag 0 are absent.
        image_shape: ``(H, W)``.
        sigma: the paper's spread, in pixels.

    Channel 18, the background, is ``1 - max`` of the joint maps.
    """
    height, width = image_shape
    maps = np.zeros((NUM_HEATMAPS, height, width), np.float32)
    for pose in poses:
        present = pose[:, 2] > 0
        # exp(-(dx^2 + dy^2) / s^2) = exp(-dx^2 / s^2) * exp(-dy^2 / s^2)
        gx = np.exp(-(np.arange(width) - pose[:, :1]) ** 2 / sigma ** 2)
        gy = np.exp(-(np.arange(height) - pose[:, 1:2]) ** 2 / sigma ** 2)
        gy *= present[:, None]
        person = (gy.astype(np.float32)[:, :, None]
                  * gx.astype(np.float32)[:, None, :])
        np.maximum(maps[:NUM_JOINTS], person, out=maps[:NUM_JOINTS])
    maps[NUM_JOINTS] = 1 - maps[:NUM_JOINTS].max(axis=0)
    return maps


def part_affinity_fields(poses: np.ndarray, image_shape: Tuple[int, int],
                         limb_half_width: float = LIMB_HALF_WIDTH
                         ) -> np.ndarray:
    """(38, H, W) float32 ground-truth PAFs of ``poses``.

    Args:
        poses: (N, 18, 3) ``x, y, flag``; a limb is present when both its
            joints are (and they differ).
        image_shape: ``(H, W)``.
        limb_half_width: the paper's sigma_l, in pixels.
    """
    height, width = image_shape
    grid = np.mgrid[0:height, 0:width][::-1].astype(np.float32)  # x, y
    vector_sum = np.zeros((len(LIMBS), 2, height, width), np.float32)
    count = np.zeros((len(LIMBS), 1, height, width), np.float32)
    for pose in poses:
        for limb, (a, b) in enumerate(LIMBS):
            if pose[a, 2] > 0 and pose[b, 2] > 0:
                inside, unit = _limb_rectangle(pose[a, :2], pose[b, :2],
                                               grid, limb_half_width)
                vector_sum[limb] += inside * unit[:, None, None]
                count[limb] += inside
    mean = vector_sum / np.maximum(count, 1)
    fields = np.zeros((NUM_PAF_CHANNELS, height, width), np.float32)
    for limb, channels in enumerate(LIMB_PAF_CHANNELS):
        fields[list(channels)] = mean[limb]
    return fields


def _limb_rectangle(start: np.ndarray, end: np.ndarray, grid: np.ndarray,
                    half_width: float) -> Tuple[np.ndarray, np.ndarray]:
    """``(inside, v)``: (H, W) bool mask of the limb's rectangle and its
    (2,) unit vector ``(x, y)``; an empty mask for a zero-length limb.

    ``grid`` is (2, H, W): the x and y coordinate of every pixel.
    """
    along = (end - start).astype(np.float64)
    length = np.hypot(*along)
    if not length:
        return np.zeros(grid.shape[1:], bool), np.zeros(2)
    unit = along / length
    offset = grid - np.asarray(start, np.float32)[:, None, None]
    projection = unit[0] * offset[0] + unit[1] * offset[1]
    distance = np.abs(unit[0] * offset[1] - unit[1] * offset[0])
    inside = ((projection >= 0) & (projection <= length)
              & (distance <= half_width))
    return inside, unit


def ground_truth_maps(poses: np.ndarray, image_shape: Tuple[int, int],
                      sigma: float = CONFIDENCE_SIGMA,
                      limb_half_width: float = LIMB_HALF_WIDTH
                      ) -> Tuple[np.ndarray, np.ndarray]:
    """``(heatmaps, pafs)``: (19, H, W) and (38, H, W) float32 maps of
    ``poses`` ((N, 18, 3) ``x, y, flag``), ``image_shape`` = ``(H, W)``."""
    poses = np.asarray(poses, np.float32).reshape(-1, NUM_JOINTS, 3)
    return (confidence_maps(poses, image_shape, sigma),
            part_affinity_fields(poses, image_shape, limb_half_width))
