"""Poses on image files: detect, draw, write; the image command's job.

:func:`plan_images` checks every output of a run before any work (before
the networks load): the output folders, the COCO file, and for each image
its result files, none of which may replace an input of the run, a weights
file, or another image's results.  :func:`process_image` does one image:
load it (:func:`pose.images.load_image`), detect
(:class:`pose.options.Detectors`), and write ``<stem>_keypoints.json``
(OpenPose format, :mod:`pose.keypoints`) and ``<stem>_pose.png`` (the
drawing) into the output folder, each atomically, and optionally the maps
figures (:mod:`pose.maps_figure`).
"""
from __future__ import annotations

import dataclasses
import os
import time
from typing import Iterable, List, Optional, Sequence, Set, Tuple

import entity
from common.files import output_dir_problem, output_problem, remove_quietly
from pose.detection import Detection
from pose.draw import draw_people
from pose.images import (IMAGE_EXTENSIONS, KEYPOINTS_JSON_SUFFIX,
                         POSE_IMAGE_SUFFIX, ImageError, load_image,
                         output_paths, write_image_atomic)
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


@dataclasses.dataclass
class ImageJob:
    """One image of a run and the files it will write.

    Attributes:
        path: the image file.
        index: its position among the run's images (its COCO image id when
            its name has no digits).
        outputs: the result files: drawing, keypoints, then the maps
            figures when asked for.
    """
    path: str
    index: int
    outputs: List[str]


@dataclasses.dataclass
class ImagePlan:
    """What :func:`plan_images` found.

    Attributes:
        jobs: the images to process.
        refused: one message per image left out because a result file of
            it would replace a file of the run.
    """
    jobs: List[ImageJob]
    refused: List[str]


def maps_paths(path: str, maps: MapsRequest) -> List[str]:
    """The maps figures of the image ``path``: ``<folder>/<stem>_maps.png``
    and ``<folder>/<stem>_stages.png``."""
    from pose.maps_figure import MAPS_FIGURE_SUFFIX, STAGES_FIGURE_SUFFIX
    prefix = os.path.join(maps.folder, _stem(path))
    return [prefix + MAPS_FIGURE_SUFFIX, prefix + STAGES_FIGURE_SUFFIX]


def _stem(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def _inode(path: str) -> Optional[Tuple[int, int]]:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def _path_key(path: str) -> str:
    return os.path.normcase(os.path.realpath(path))


def plan_images(paths: Sequence[str], out_dir: str,
                maps: Optional[MapsRequest] = None,
                coco_json: Optional[str] = None,
                inputs: Iterable[str] = (),
                protected: Iterable[str] = ()) -> ImagePlan:
    """Check every output of an image run before any work.

    The output folder, the maps folder and the COCO file must be writable
    (:mod:`common.files`) and none of them an input; each image's result
    files (:func:`pose.images.output_paths`, :func:`maps_paths`) must not
    be any input of the run (``paths``, ``inputs`` such as the weights, or
    the ``protected`` files), the COCO file, an existing folder, or another
    image's result (the first image keeps its name).

    Args:
        paths: the images, in order.
        out_dir: the folder of the drawings and keypoint files.
        maps: the maps figures asked for, or None.
        coco_json: the COCO results file, or None.
        inputs: the other files the run reads (weights).
        protected: other files no output may replace (see
            :func:`unlisted_images`).

    Returns:
        The :class:`ImagePlan`: the images to process, and one message per
        image refused (the batch goes on without it).

    Raises:
        ImageError: an output folder or the COCO file cannot be used, or
            the COCO file is also an image's result (the whole run is
            refused).
    """
    every_input = list(paths) + [p for p in inputs if p]
    _check_run_outputs(out_dir, maps, coco_json, every_input)
    results = []                      # (index, path, outputs or a problem)
    for index, path in enumerate(paths):
        try:
            outputs = list(output_paths(path, out_dir))
        except ImageError as error:
            results.append((index, path, str(error)))
            continue
        outputs += maps_paths(path, maps) if maps else []
        results.append((index, path, outputs))
    if coco_json:
        _check_coco_is_no_result(coco_json, results)
    protected = list(protected)
    owners = {}                       # (device, inode) -> the file it is
    for source in every_input + protected:
        inode = _inode(source)
        if inode is not None:
            owners.setdefault(inode, source)
    plan = ImagePlan([], [])
    claimed = {}                      # output path key -> image writing it
    for index, path, outputs in results:
        problem = (outputs if isinstance(outputs, str) else _conflict(
            path, outputs, owners, claimed, set(protected)))
        if problem:
            plan.refused.append(problem)
            continue
        for out in outputs:
            claimed[_path_key(out)] = path
        plan.jobs.append(ImageJob(path, index, outputs))
    return plan


def _check_run_outputs(out_dir: str, maps: Optional[MapsRequest],
                       coco_json: Optional[str],
                       inputs: List[str]) -> None:
    """ImageError unless the output folders and the COCO file can be
    written without replacing an input."""
    for folder in [out_dir] + ([maps.folder] if maps else []):
        problem = output_dir_problem(folder, inputs)
        if problem:
            raise ImageError(problem)
    if coco_json:
        problem = output_problem(coco_json, inputs, create_folders=True)
        if problem:
            raise ImageError(problem)


def _check_coco_is_no_result(coco_json: str, results) -> None:
    """ImageError when the COCO file is also an image's result file."""
    key = _path_key(coco_json)
    for _, path, outputs in results:
        if isinstance(outputs, str):
            continue
        for out in outputs:
            if _path_key(out) == key:
                raise ImageError(f'{coco_json}: is also the result file '
                                 f'{out} of {path}; give the COCO file '
                                 f'another name')


def _conflict(path: str, outputs: List[str], owners: dict, claimed: dict,
              protected: Set[str]) -> Optional[str]:
    """Why the results of the image ``path`` cannot be written, or None."""
    for out in outputs:
        owner = owners.get(_inode(out))
        if owner is not None and owner in protected:
            stem = os.path.basename(owner)[:-len(POSE_IMAGE_SUFFIX)]
            return (f'{path}: its result {out} would overwrite an image '
                    f'that is not a result of this tool (no '
                    f'{stem}{KEYPOINTS_JSON_SUFFIX} beside it); move that '
                    f'image or choose another output folder')
        if owner is not None:
            return (f'{path}: its result {out} would overwrite the input '
                    f'{owner}; choose another output folder or rename one '
                    f'of them')
        key = _path_key(out)
        if key in claimed:
            return (f'{path}: its results would overwrite those of '
                    f'{claimed[key]} (same name); rename one of them')
        if os.path.exists(out) and not os.path.isfile(out):
            return (f'{path}: its result {out} is a folder (or not a '
                    f'regular file); move it or choose another output '
                    f'folder')
    return None


def _is_file(entry: os.DirEntry) -> bool:
    """``entry.is_file()``, False where it cannot tell (a link loop)."""
    try:
        return entry.is_file()
    except OSError:
        return False


def unlisted_images(items: Iterable[str],
                    listed: Iterable[str] = ()) -> List[str]:
    """Images in the folders among ``items`` that are named like this
    tool's drawings (``<stem>_pose.png``, which the listing of a folder
    skips) but are not: no ``<stem>_keypoints.json`` lies beside them (the
    tool writes it before the drawing).  No output may replace them.

    Args:
        items: the files and folders the user named.
        listed: the images the run processes (left out here).
    """
    listed_keys = {_path_key(p) for p in listed}
    found = []
    for folder in items:
        if not os.path.isdir(folder):
            continue
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if (name.startswith('.') or not name.endswith(POSE_IMAGE_SUFFIX)
                    or os.path.splitext(name)[1].lower()
                    not in IMAGE_EXTENSIONS or not _is_file(entry)):
                continue
            stem = name[:-len(POSE_IMAGE_SUFFIX)]
            keypoints = os.path.join(folder, stem + KEYPOINTS_JSON_SUFFIX)
            if (not os.path.exists(keypoints)
                    and _path_key(entry.path) not in listed_keys):
                found.append(entry.path)
    return found


def process_image(detectors: Detectors, path: str, out_dir: str,
                  maps: Optional[MapsRequest] = None,
                  max_pixels: Optional[int] = None) -> ImageResult:
    """Detect the people of one image file and write its results: the
    keypoint file first, then the drawing (so a drawing always has its
    keypoint file beside it), then the maps figures.  If one of them
    cannot be written, those of them this call created are removed again.

    ``max_pixels``: images whose header declares more pixels are refused
    before decoding (None: :data:`pose.images.MAX_IMAGE_PIXELS`).

    Raises:
        ToolError: the image cannot be read, or an output would replace it.
        OSError: an output cannot be written (nothing half-written stays;
            its ``filename`` names the output).
    """
    img, warnings = load_image(path, max_pixels=max_pixels)
    pose_png, keypoints_json = output_paths(path, out_dir)
    start = time.perf_counter()
    [detection] = detectors.predict([img])
    seconds = time.perf_counter() - start
    outputs = [pose_png, keypoints_json]
    outputs += maps_paths(path, maps) if maps is not None else []
    new = [out for out in outputs if not os.path.exists(out)]
    try:
        write_image_keypoints(keypoints_json, openpose_json(
            detection.poses, detection.confidences, detection.faces,
            detection.hands))
        write_image_atomic(pose_png, draw_people(
            img, detection.poses, detection.faces, detection.hands))
        if maps is not None:
            save_maps(detectors, img, path, maps)
    except BaseException:
        for out in new:
            remove_quietly(out)
        raise
    return ImageResult(detection, outputs, seconds, warnings)


def save_maps(detectors: Detectors, img, path: str,
              maps: MapsRequest) -> List[str]:
    """Write the maps figures of one image (:func:`maps_paths`); returns
    their paths."""
    from pose.maps_figure import save_maps_figures
    os.makedirs(maps.folder, exist_ok=True)
    heatmaps, pafs = detectors.body.stage_maps(img)
    return save_maps_figures(img, heatmaps, pafs,
                             os.path.join(maps.folder, _stem(path)),
                             part=entity.JOINT_INDEX[maps.part],
                             limb=maps.limb)


def people_text(count: int) -> str:
    """``'1 person'``, ``'3 people'``."""
    return f'{count} {"person" if count == 1 else "people"}'


def result_line(path: str, result: ImageResult) -> str:
    """The line printed for a processed image."""
    return (f'{path}: {people_text(len(result.detection))}, '
            f'{result.seconds:.2f} s -> {", ".join(result.outputs)}')
