"""Poses on image files: detect, draw, write; the image command's job.

:func:`process_image` does one image: load it (:func:`pose.images.
load_image`), detect (:class:`pose.options.Detectors`), and write
``<stem>_pose.png`` (the drawing) and ``<stem>_keypoints.json`` (OpenPose
format, :mod:`pose.keypoints`) into the output folder, each atomically, and
optionally the maps figures (:mod:`pose.maps_figure`).
"""
from __future__ import annotations

import dataclasses
import os
import time
from typing import List, Optional

import entity
from pose.detection import Detection
from pose.draw import draw_people
from pose.images import load_image, output_paths, write_image_atomic
from pose.keypoints import openpose_json, write_image_keypoints
from pose.options import Detectors


@dataclasses.dataclass
class MapsRequest:
    """Figures of the network's maps to save for each image.

    Attributes:
        folder: where the figures go (``<folder>/<stem>_maps.png`` ...).
        part: the joint shown stage by stage (a name of
            :data:`entity.JOINT_NAMES`).
        limb: the limb shown stage by stage (index into
            :data:`entity.LIMBS`).
    """
    folder: str
    part: str
    limb: int


@dataclasses.dataclass
class ImageResult:
    """What :func:`process_image` found and wrote for one image.

    Attributes:
        detection: the people (:class:`pose.detection.Detection`).
        outputs: the files written, the drawing first.
        seconds: time spent detecting.
        warnings: messages for the user (e.g. the image was downscaled).
    """
    detection: Detection
    outputs: List[str]
    seconds: float
    warnings: List[str]


def process_image(detectors: Detectors, path: str, out_dir: str,
                  maps: Optional[MapsRequest] = None) -> ImageResult:
    """Detect the people of one image file and write its results.

    Raises:
        ToolError: the image cannot be read, or an output would replace it.
        OSError: an output cannot be written (nothing half-written stays).
    """
    img, warnings = load_image(path)
    pose_png, keypoints_json = output_paths(path, out_dir)
    start = time.perf_counter()
    [detection] = detectors.predict([img])
    seconds = time.perf_counter() - start
    write_image_atomic(pose_png, draw_people(img, detection.poses,
                                             detection.faces, detection.hands))
    write_image_keypoints(keypoints_json, openpose_json(
        detection.poses, detection.confidences, detection.faces,
        detection.hands))
    outputs = [pose_png, keypoints_json]
    if maps is not None:
        outputs += save_maps(detectors, img, path, maps)
    return ImageResult(detection, outputs, seconds, warnings)


def save_maps(detectors: Detectors, img, path: str,
              maps: MapsRequest) -> List[str]:
    """Write the maps figures of one image; returns their paths."""
    from pose.maps_figure import save_maps_figures
    os.makedirs(maps.folder, exist_ok=True)
    heatmaps, pafs = detectors.body.stage_maps(img)
    stem = os.path.splitext(os.path.basename(path))[0]
    return save_maps_figures(img, heatmaps, pafs,
                             os.path.join(maps.folder, stem),
                             part=entity.JOINT_INDEX[maps.part],
                             limb=maps.limb)


def people_text(count: int) -> str:
    """``'1 person'``, ``'3 people'``."""
    return f'{count} {"person" if count == 1 else "people"}'


def result_line(path: str, result: ImageResult) -> str:
    """The line printed for a processed image."""
    return (f'{path}: {people_text(len(result.detection))}, '
            f'{result.seconds:.2f} s -> {", ".join(result.outputs)}')
