"""Reading input images, finding them, and writing results safely.

* :func:`load_image` turns whatever OpenCV decodes (grayscale, 16-bit,
  float, with alpha, huge) into the (H, W, 3) BGR uint8 image the detector
  expects, or raises :class:`ImageError` with a message the user can act on.
  Before anything is decoded it refuses what is not a regular file (a named
  pipe would block it forever), an image whose header declares more than
  :data:`MAX_IMAGE_PIXELS` pixels, and a truncated JPEG or PNG; an image
  between :data:`DOWNSCALE_PIXELS` and that limit is decoded and downscaled.
* :func:`list_images` expands the command line's files and folders without
  stopping a batch at the first bad item.
* :func:`output_paths` and :func:`write_image_atomic`
  name and write results so that an input is never overwritten and an
  interrupted run never leaves a half-written file.
"""
from __future__ import annotations

import math
import mmap
import os
import threading
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np
from PIL import Image

from common.errors import ToolError
from common.files import input_file_problem, same_file, write_atomic

# ---------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------
# All private to reading and naming image files (none is a fact of the pose
# model, so none belongs in entity.py).

#: Images whose header declares more pixels than this are refused before
#: anything is decoded (200 megapixels: a 200 MP phone photo, 16320x12240,
#: is just under it).  Without it, a PNG of a few MB declaring 400
#: megapixels took 14.7 GB.  At the limit, an 8-bit colour PNG takes 1.2 GB
#: to load (decoded, then downscaled to :data:`DOWNSCALE_PIXELS`); 16-bit
#: colour with alpha takes 8 bytes a pixel to decode instead of 3, float
#: 16.  The image command raises it with :data:`MAX_PIXELS_OPTION`, the
#: library with ``load_image(path, max_pixels=...)``.
MAX_IMAGE_PIXELS = 200_000_000

#: The command-line option that raises :data:`MAX_IMAGE_PIXELS`, named in
#: the message refusing an image.
MAX_PIXELS_OPTION = '--max-pixels'

#: Images with more pixels than this (and at most :data:`MAX_IMAGE_PIXELS`)
#: are decoded, then downscaled (50 megapixels: above any phone camera's
#: usual photo; the detector's full-resolution maps of such an image, 57
#: float32 channels, already take about 11 GB).
DOWNSCALE_PIXELS = 50_000_000

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

#: The end-of-image marker that closes a complete JPEG's last scan.
JPEG_END = b'\xff\xd9'

#: At most this many JPEG segments are walked to find the first scan (real
#: files have a few dozen); past it the file is left to the decoder.
JPEG_MAX_SEGMENTS = 1000

#: First bytes of every PNG file.
PNG_MAGIC = b'\x89PNG\r\n\x1a\n'

#: The IEND chunk (length 0, type, CRC) that ends a complete PNG.
PNG_END = b'\x00\x00\x00\x00IEND\xaeB`\x82'

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


def load_image(path: str, max_pixels: Optional[int] = None,
               downscale_pixels: Optional[int] = None
               ) -> Tuple[np.ndarray, List[str]]:
    """Read an image file as 8-bit BGR.

    Grayscale becomes BGR; an alpha channel is composited over
    :data:`ALPHA_BACKGROUND_BGR`; 16-bit samples are divided by 257; float
    samples are clipped to [0, 1] and scaled to 255.  JPEGs are turned
    upright according to their EXIF orientation.  An image with more than
    ``downscale_pixels`` pixels is downscaled (``cv2.INTER_AREA``) to fit,
    keeping its aspect ratio, and a warning says so: coordinates found on
    the returned image are then in the downscaled image's pixels.

    Before decoding, the file is checked: it must be a regular file
    (:func:`common.files.input_file_problem`: a named pipe or a device is
    never opened), its header (read by Pillow, without decoding) must not
    declare more than ``max_pixels`` pixels, and a JPEG or PNG must end
    with its end marker (:func:`truncation_problem`).  Formats that Pillow
    cannot identify go to OpenCV unchecked (OpenCV refuses more than 2**30
    pixels itself).

    Args:
        path: the image file.
        max_pixels: images declaring more pixels are refused; ``None``
            means :data:`MAX_IMAGE_PIXELS`.
        downscale_pixels: images with more pixels are downscaled; ``None``
            means :data:`DOWNSCALE_PIXELS`.

    Returns:
        ``(img, warnings)``: img is a C-contiguous (H, W, 3) uint8 BGR array;
        warnings is a list of messages for the user (empty if none).

    Raises:
        ImageError: the file is missing, not a regular file, empty,
            unreadable, larger than ``max_pixels``, truncated, not a
            decodable image, or has an unsupported sample type or channel
            count.  The message names ``path`` once.
    """
    problem = (input_file_problem(path, 'image')
               or pixel_count_problem(path, max_pixels)
               or truncation_problem(path))
    if problem:
        raise ImageError(problem)
    img = cv2.imread(path, _imread_flags(path))
    if img is None:
        raise ImageError(_unreadable_reason(path))
    _check_supported(img, path)
    cap = DOWNSCALE_PIXELS if downscale_pixels is None else downscale_pixels
    img, warnings = _fit_pixel_cap(img, cap, path)
    img = _to_bgr(_to_uint8(img))
    return np.ascontiguousarray(img), warnings


# Pillow's own limit (Image.MAX_IMAGE_PIXELS, a module global) is lifted
# while a header is read, under this lock, so that this module alone
# decides; Pillow decodes nothing here.
_PILLOW_LIMIT_LOCK = threading.Lock()


def header_size(path: str) -> Optional[Tuple[int, int]]:
    """``(width, height)`` declared by the image file's header, read by
    Pillow without decoding any pixel; None when Pillow cannot identify the
    file (OpenCV may still decode it)."""
    with _PILLOW_LIMIT_LOCK:
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            with Image.open(path) as image:
                return image.size
        except Exception:    # unidentified or damaged: OpenCV will judge
            return None
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def pixel_count_problem(path: str, max_pixels: Optional[int] = None
                        ) -> Optional[str]:
    """Why the image at ``path`` is too large to decode (its header declares
    more than ``max_pixels``, default :data:`MAX_IMAGE_PIXELS`), or None."""
    limit = MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
    size = header_size(path)
    if size is None or size[0] * size[1] <= limit:
        return None
    width, height = size
    pixels = width * height
    return (f'{path}: the image is {width}x{height} ({pixels / 1e6:.1f} '
            f'megapixels), more than the limit of {limit / 1e6:g} '
            f'megapixels (decoding it takes at least {pixels * 3 / 1e9:,.1f}'
            f' GB of memory); if the file is genuine, raise the limit with '
            f'{MAX_PIXELS_OPTION} {pixels}')


def truncation_problem(path: str) -> Optional[str]:
    """Why ``path``, a JPEG or a PNG, is truncated (it lacks the end marker
    that its encoder always writes: JPEG's ``FFD9``, PNG's ``IEND``
    chunk), or None (complete, another format, or unreadable: the decoder
    then judges).  Cheap: the last bytes are read, and only when something
    follows the end marker (a phone's motion-photo video, padding) is the
    file searched for it, memory-mapped."""
    try:
        with open(path, 'rb') as f:
            head = f.read(len(PNG_MAGIC))
            size = os.fstat(f.fileno()).st_size
            if head.startswith(JPEG_MAGIC):
                kind, complete = 'JPEG', _jpeg_complete(f, size)
            elif head == PNG_MAGIC:
                kind, complete = 'PNG', _png_complete(f, size)
            else:
                return None
    except (OSError, ValueError):
        return None
    if complete:
        return None
    return (f'{path}: the {kind} file is truncated (its end marker is '
            f'missing), probably an interrupted download or copy; copy it '
            f'again')


def _ends_with(f, size: int, marker: bytes) -> bool:
    if size < len(marker):
        return False
    f.seek(size - len(marker))
    return f.read(len(marker)) == marker


def _found_after(f, marker: bytes, start: int, reverse: bool = False
                 ) -> bool:
    """Whether ``marker`` occurs in the file at or after ``start``."""
    with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        found = (data.rfind if reverse else data.find)(marker, start)
    return found >= 0


def _jpeg_complete(f, size: int) -> bool:
    """Whether the JPEG ``f`` has its end-of-image marker after its first
    scan (the thumbnail in its EXIF header has one of its own)."""
    if _ends_with(f, size, JPEG_END):
        return True
    scan = _jpeg_first_scan(f)
    return scan is None or (scan < size and _found_after(f, JPEG_END, scan))


def _jpeg_first_scan(f) -> Optional[int]:
    """Offset of the JPEG's first entropy-coded scan, its end when it ends
    first, or None when its segments cannot be followed (left to the
    decoder)."""
    f.seek(2)                                   # after start-of-image FFD8
    for _ in range(JPEG_MAX_SEGMENTS):
        marker = f.read(2)
        while marker[1:] == b'\xff':                # fill bytes
            marker = marker[1:] + f.read(1)
        field = f.read(2) if len(marker) == 2 else b''
        if len(field) < 2:
            return f.tell()                     # ends inside the headers
        if marker[0] != 0xFF:
            return None
        if 0xD0 <= marker[1] <= 0xD7 or marker[1] == 0x01:
            f.seek(-2, os.SEEK_CUR)             # a marker without length
            continue
        length = int.from_bytes(field, 'big')
        if length < 2:
            return None
        f.seek(length - 2, os.SEEK_CUR)
        if marker[1] == 0xDA:                   # start of scan
            return f.tell()
    return None


def _png_complete(f, size: int) -> bool:
    """Whether the PNG ``f`` holds its IEND chunk (last, or followed by
    data that some programs append)."""
    return (_ends_with(f, size, PNG_END)
            or _found_after(f, PNG_END[:8], len(PNG_MAGIC), reverse=True))


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
    problem = input_file_problem(path, 'image')    # changed since checked
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

    A directory contributes its entries with an extension in
    :data:`IMAGE_EXTENSIONS` (any case) that are not folders, sorted by
    name, not recursing into subdirectories and skipping hidden files
    (names starting with ``.``, such as macOS ``._photo.jpg`` resource
    files) and the tool's own ``*_pose.png`` results; a broken symbolic
    link or a named pipe called ``photo.jpg`` is listed, so that
    :func:`load_image` reports it instead of it being silently left out,
    and it never stops the listing of the others.  A file is kept as given,
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
    """True for a visible entry with an image extension that is not a
    folder nor one of this tool's own results (``*_pose.png``, so a folder
    can be processed again with itself as the output folder)."""
    extension = os.path.splitext(entry.name)[1].lower()
    if (entry.name.startswith('.') or entry.name.endswith(POSE_IMAGE_SUFFIX)
            or extension not in IMAGE_EXTENSIONS):
        return False
    try:
        return not entry.is_dir()
    except OSError:           # a symbolic link loop: load_image says so
        return True


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
