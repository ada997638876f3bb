"""Reading input images, finding them, and writing results safely.

* :func:`load_image` turns whatever OpenCV decodes (grayscale, 16-bit,
  float, with alpha, huge) into the (H, W, 3) BGR uint8 image the detector
  expects, or raises :class:`ImageError` with a message the user can act on.
* :func:`list_images` expands the command line's files and folders without
  stopping a batch at the first bad item.
* :func:`output_paths` and :func:`write_image_atomic`
  name and write results so that an input is never overwritten and an
  interrupted run never leaves a half-written file.
"""
from __future__ import annotations

import math
import os
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

from common.errors import ToolError
from common.files import input_file_problem, same_file, write_atomic

# ---------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------
# All private to reading and naming image files (none is a fact of the pose
# model, so none belongs in entity.py).

#: Images with more pixels than this are downscaled on load (50 megapixels:
#: above any phone camera; the detector's full-resolution maps of such an
#: image, 57 float32 channels, already take about 11 GB).
MAX_IMAGE_PIXELS = 50_000_000

#: File extensions (lower case) that :func:`list_images` picks up from a
#: directory.  Explicitly named files are kept whatever their extension.
IMAGE_EXTENSIONS: Tuple[str, ...] = (
    '.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')

#: A 16-bit sample ``v`` becomes the 8-bit ``v / 257`` (65535 -> 255).
UINT16_TO_UINT8_DIVISOR = 257

#: Float images are taken to be in [0, 1]; they are clipped to it and scaled
#: by this to 8 bits.
FLOAT_TO_UINT8_SCALE = 255

#: Transparent pixels are composited over this BGR colour (white, what an
#: image viewer usually shows behind a transparent cut-out).
ALPHA_BACKGROUND_BGR: Tuple[int, int, int] = (255, 255, 255)

#: First bytes of every JPEG file.
JPEG_MAGIC = b'\xff\xd8\xff'

#: ``cv2.IMREAD_UNCHANGED`` ignores the EXIF orientation tag, so phone
#: photos would be read sideways.  JPEGs have no alpha channel to keep, so
#: they are read with these flags instead, which keep grayscale and bit
#: depth like ``IMREAD_UNCHANGED`` but apply the EXIF orientation.
JPEG_IMREAD_FLAGS = cv2.IMREAD_ANYCOLOR | cv2.IMREAD_ANYDEPTH

#: Suffixes of the two result files written for an input image.
POSE_IMAGE_SUFFIX = '_pose.png'
KEYPOINTS_JSON_SUFFIX = '_keypoints.json'


class ImageError(ToolError):
    """An image cannot be read or written; the message says what to do."""


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


def load_image(path: str, max_pixels: Optional[int] = None
               ) -> Tuple[np.ndarray, List[str]]:
    """Read an image file as 8-bit BGR.

    Grayscale becomes BGR; an alpha channel is composited over
    :data:`ALPHA_BACKGROUND_BGR`; 16-bit samples are divided by 257; float
    samples are clipped to [0, 1] and scaled to 255.  JPEGs are turned
    upright according to their EXIF orientation.  An image with more than
    ``max_pixels`` pixels is downscaled (``cv2.INTER_AREA``) to fit, keeping
    its aspect ratio, and a warning says so: coordinates found on the
    returned image are then in the downscaled image's pixels.

    Args:
        path: the image file.
        max_pixels: pixel-count cap; ``None`` means :data:`MAX_IMAGE_PIXELS`.

    Returns:
        ``(img, warnings)``: img is a C-contiguous (H, W, 3) uint8 BGR array;
        warnings is a list of messages for the user (empty if none).

    Raises:
        ImageError: the file is missing, empty, unreadable, not a decodable
            image, or has an unsupported sample type or channel count.
    """
    img = cv2.imread(path, _imread_flags(path))
    if img is None:
        raise ImageError(_unreadable_reason(path))
    _check_supported(img, path)
    cap = MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
    img, warnings = _fit_pixel_cap(img, cap, path)
    img = _to_bgr(_to_uint8(img))
    return np.ascontiguousarray(img), warnings


def _imread_flags(path: str) -> int:
    """IMREAD flags for ``path``: see :data:`JPEG_IMREAD_FLAGS`."""
    try:
        with open(path, 'rb') as f:
            head = f.read(len(JPEG_MAGIC))
    except OSError:
        return cv2.IMREAD_UNCHANGED    # imread fails too; diagnosed after
    return JPEG_IMREAD_FLAGS if head == JPEG_MAGIC else cv2.IMREAD_UNCHANGED


def _unreadable_reason(path: str) -> str:
    """Why ``cv2.imread`` returned None for ``path``, and what to do."""
    problem = input_file_problem(path, 'image')
    if problem:
        return problem
    return (f'{path}: not an image OpenCV can decode (corrupt, truncated, '
            'or an unsupported format); convert it to JPEG or PNG')


def _check_supported(img: np.ndarray, path: str) -> None:
    """Raise ImageError unless the sample type and channels are handled."""
    kind = img.dtype
    if kind not in (np.uint8, np.uint16) and kind.kind != 'f':
        raise ImageError(f'{path}: unsupported sample type {kind}; '
                         'convert it to an 8-bit JPEG or PNG')
    channels = 1 if img.ndim == 2 else img.shape[2]
    if channels not in (1, 3, 4):
        raise ImageError(f'{path}: unsupported number of channels '
                         f'({channels}); convert it to an RGB JPEG or PNG')


def _fit_pixel_cap(img: np.ndarray, max_pixels: int, path: str
                   ) -> Tuple[np.ndarray, List[str]]:
    """Downscale ``img`` to at most ``max_pixels`` pixels (INTER_AREA)."""
    h, w = img.shape[:2]
    if h * w <= max_pixels:
        return img, []
    scale = math.sqrt(max_pixels / (h * w))
    new_w, new_h = max(1, int(w * scale)), max(1, int(h * scale))
    small = cv2.resize(img, (new_w, new_h), interpolation=cv2.INTER_AREA)
    warning = (f'{path}: {w}x{h} image ({h * w / 1e6:.1f} MP) is larger '
               f'than the {max_pixels / 1e6:g} MP limit; downscaled to '
               f'{new_w}x{new_h}, and keypoints are in those pixels')
    return small, [warning]


def _to_uint8(img: np.ndarray) -> np.ndarray:
    """8-bit samples from uint8, uint16 or float ones (see load_image)."""
    if img.dtype == np.uint8:
        return img
    if img.dtype == np.uint16:
        return cv2.convertScaleAbs(img, alpha=1.0 / UINT16_TO_UINT8_DIVISOR)
    unit = np.clip(np.nan_to_num(img.astype(np.float32), nan=0.0), 0.0, 1.0)
    return cv2.convertScaleAbs(unit, alpha=FLOAT_TO_UINT8_SCALE)


def _to_bgr(img: np.ndarray) -> np.ndarray:
    """(H, W, 3) BGR from 1-, 3- or 4-channel uint8 ``img``."""
    if img.ndim == 2 or img.shape[2] == 1:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 4:
        return _composite_alpha(img)
    return img


def _composite_alpha(bgra: np.ndarray) -> np.ndarray:
    """BGRA uint8 composited over :data:`ALPHA_BACKGROUND_BGR`."""
    alpha = bgra[..., 3:].astype(np.float32) / 255.0
    background = np.array(ALPHA_BACKGROUND_BGR, np.float32)
    out = bgra[..., :3] * alpha + background * (1.0 - alpha)
    return np.round(out).astype(np.uint8)


# ---------------------------------------------------------------------------
# Finding inputs
# ---------------------------------------------------------------------------


def list_images(inputs: Sequence[str]) -> Tuple[List[str], List[str]]:
    """Expand files and directories into the list of images to process.

    A directory contributes its files with an extension in
    :data:`IMAGE_EXTENSIONS` (any case), sorted by name, not recursing into
    subdirectories and skipping hidden files (names starting with ``.``,
    such as macOS ``._photo.jpg`` resource files) and the tool's own
    ``*_pose.png`` results.  A file is kept as given,
    whatever its extension.  Never raises for a bad item, so a batch goes on.

    Args:
        inputs: file and directory paths, as typed by the user.

    Returns:
        ``(paths, errors)``: the image paths in input order, and one message
        per input that yielded nothing (missing, unreadable directory,
        directory without images).
    """
    paths: List[str] = []
    errors: List[str] = []
    for item in inputs:
        if os.path.isdir(item):
            found, error = _images_in_dir(item)
            paths.extend(found)
            if error:
                errors.append(error)
        elif os.path.exists(item):
            paths.append(item)
        else:
            errors.append(input_file_problem(item, 'image'))
    return paths, errors


def _images_in_dir(directory: str) -> Tuple[List[str], Optional[str]]:
    """Sorted image files directly in ``directory``, or an error message."""
    try:
        names = sorted(entry.name for entry in os.scandir(directory)
                       if _is_image_entry(entry))
    except OSError as e:
        return [], f'{directory}: cannot list the directory ({e.strerror})'
    if not names:
        return [], (f'{directory}: no images in this directory (looked for '
                    f'{" ".join(IMAGE_EXTENSIONS)}; subdirectories are not '
                    'searched)')
    return [os.path.join(directory, name) for name in names], None


def _is_image_entry(entry: os.DirEntry) -> bool:
    """True for a visible file with an image extension that is not one of
    this tool's own results (``*_pose.png``), so a folder can be processed
    again with itself as the output folder."""
    extension = os.path.splitext(entry.name)[1].lower()
    return (not entry.name.startswith('.')
            and not entry.name.endswith(POSE_IMAGE_SUFFIX)
            and extension in IMAGE_EXTENSIONS and entry.is_file())


# ---------------------------------------------------------------------------
# Writing results
# ---------------------------------------------------------------------------


def output_paths(image_path: str, out_dir: str) -> Tuple[str, str]:
    """The result files of one input image.

    Returns:
        ``(pose_png_path, keypoints_json_path)``:
        ``<out_dir>/<stem>_pose.png`` and ``<out_dir>/<stem>_keypoints.json``
        where ``<stem>`` is the input's file name without its extension.

    Raises:
        ImageError: one of them would be the input file itself.
    """
    stem = os.path.splitext(os.path.basename(image_path))[0]
    outputs = (os.path.join(out_dir, stem + POSE_IMAGE_SUFFIX),
               os.path.join(out_dir, stem + KEYPOINTS_JSON_SUFFIX))
    for out in outputs:
        if same_file(out, image_path):
            raise ImageError(
                f'{image_path}: writing the results to {out} would overwrite '
                'the input; choose another output directory or rename the '
                'input')
    return outputs


def write_image_atomic(path: str, img: np.ndarray) -> None:
    """Encode ``img`` in the format of ``path``'s extension, write atomically.

    Args:
        path: destination, e.g. ``out/photo_pose.png``.
        img: (H, W, 3) uint8 BGR (or anything ``cv2.imencode`` accepts).

    Raises:
        ImageError: the image cannot be encoded in that format.
        OSError: as :func:`write_atomic`.
    """
    extension = os.path.splitext(path)[1]
    try:
        ok, encoded = cv2.imencode(extension, img)
    except cv2.error as e:
        raise ImageError(f'{path}: cannot encode the image as '
                         f'"{extension}" ({e.err}); use .png or .jpg') from e
    if not ok:
        raise ImageError(f'{path}: cannot encode the image as '
                         f'"{extension}"; use .png or .jpg')
    write_atomic(path, encoded.tobytes())
