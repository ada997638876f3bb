"""The report files of one analysed trial: a JSON result, a plot, an image.

:func:`write_report` writes three files for an :class:`~fms.results.Analysis`:

* ``<stem>.json``: :func:`fms.results.result_document`, pretty-printed;
* ``<stem>_angles.png``: :func:`fms.curve_plot.plot_curves`, the per-frame
  measures over time with their thresholds and the key frame marked;
* ``<stem>_key_frame.png``: :func:`fms.key_frame.key_frame_image`, the
  subject's skeleton at the key frame with the measured values beside
  their joints and the criteria's verdicts.

The paths are checked before anything is rendered, everything is rendered
before anything is written, each file is written atomically and an input
file is never overwritten (:mod:`fms.outputs`).
"""
from __future__ import annotations

import os
from typing import Dict, Optional, Sequence, Tuple

import cv2
import numpy as np

from fms import FmsError
from fms.curve_plot import plot_curves
from fms.key_frame import key_frame_image
from fms.outputs import check_outputs, json_bytes, write_outputs
from fms.results import Analysis, result_document

#: Suffixes of the three report files after the caller's stem.
JSON_SUFFIX = '.json'
PLOT_SUFFIX = '_angles.png'
KEY_FRAME_SUFFIX = '_key_frame.png'


def report_paths(out_dir: str, stem: str) -> Dict[str, str]:
    """``{'json', 'plot', 'image'}`` -> the report's file paths in
    ``out_dir``; FmsError unless ``stem`` is a plain file name stem."""
    if (not stem or stem in ('.', '..') or os.sep in stem
            or (os.altsep and os.altsep in stem)):
        raise FmsError(f'report name {stem!r} must be a file name without '
                       'folders; give the folder as the output directory')
    return {'json': os.path.join(out_dir, stem + JSON_SUFFIX),
            'plot': os.path.join(out_dir, stem + PLOT_SUFFIX),
            'image': os.path.join(out_dir, stem + KEY_FRAME_SUFFIX)}


def write_report(analysis: Analysis, subject: str, out_dir: str, stem: str,
                 image: Optional[np.ndarray] = None,
                 frame_size: Optional[Tuple[int, int]] = None, *,
                 input_paths: Sequence[str] = ()) -> Dict[str, str]:
    """Write the JSON result, the curve plot and the key frame image.

    Args:
        analysis, subject: what :func:`fms.results.result_document` takes.
        out_dir: the output folder (created if needed).
        stem: file name stem of the three files, e.g. ``'anna_deep_squat'``.
        image: the key frame's video frame, (H, W, 3) uint8 BGR, or None.
        frame_size: ``(width, height)`` of the video frames, or None.
        input_paths: further input files (the video) that must not be
            overwritten; the track's source file is always protected.

    Returns:
        ``{'json': path, 'plot': path, 'image': path}``.

    Raises:
        FmsError: a bad stem, an output that would overwrite an input, or
            a folder or file that cannot be created or written (nothing
            this call created is left behind).
    """
    paths = report_paths(out_dir, stem)
    check_outputs(paths.values(), [analysis.track.source, *input_paths])
    contents = {
        paths['json']: json_bytes(result_document(analysis, subject)),
        paths['plot']: plot_curves(analysis),
        paths['image']: _png(key_frame_image(analysis, image, frame_size)),
    }
    write_outputs(contents)
    return paths


def _png(image: np.ndarray) -> bytes:
    """PNG bytes of a BGR uint8 image."""
    ok, encoded = cv2.imencode('.png', image)
    if not ok:
        raise FmsError('cannot encode the key frame image as PNG')
    return encoded.tobytes()
