"""Figures of the network's confidence maps and part affinity fields.

:func:`save_maps_figures` writes two PNGs, like the figures of Cao et al.:

* ``<prefix>_maps.png``: the final stage's confidence maps (maximum over
  the 18 joints) and PAFs (largest limb-field magnitude, plus arrows of one
  limb's field) over the image;
* ``<prefix>_stages.png``: one joint's confidence map (top row) and one
  limb's PAF magnitude (bottom row) at every stage, showing how the stages
  refine them.

Rendering uses a :class:`matplotlib.figure.Figure` with the Agg canvas,
never pyplot, so no global figure state is touched and no display is
needed.
"""
from __future__ import annotations

import io
from typing import List, Sequence, Tuple, Union

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import entity
from common.files import write_atomic

# ---------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------
# All private to these figures (layout, colours, file names); the skeleton
# they show is entity's.

#: Joint and limb shown by default in the stages figure: the right wrist and
#: the right forearm, as in the paper's stage-by-stage figure.
DEFAULT_FIGURE_PART = 'RWrist'
DEFAULT_FIGURE_LIMB: Tuple[str, str] = ('RElbow', 'RWrist')

#: Suffixes of the two figure files after the caller's prefix.
MAPS_FIGURE_SUFFIX = '_maps.png'
STAGES_FIGURE_SUFFIX = '_stages.png'

#: Maps are subsampled so that their longer side has at most this many
#: pixels before plotting (enough for the figure's resolution; keeps large
#: images fast).
FIGURE_MAP_MAX_SIDE = 800

#: Width of one panel in inches, and the figures' resolution: 600 and 250
#: pixel wide panels, two side by side and one per stage (six for the body
#: network) in a row.
MAPS_PANEL_INCHES = 6.0
STAGES_PANEL_INCHES = 2.5
FIGURE_DPI = 100

#: Colour map, opacity and value range of a map drawn over the image
#: (the authors' demo notebook: ``plt.imshow(heatmap, alpha=.5)`` over the
#: image, with matplotlib's colour map of the time, ``jet``; confidence maps
#: and PAF magnitudes are trained towards [0, 1]).
MAP_COLORMAP = 'jet'
MAP_OPACITY = 0.5
MAP_DISPLAY_RANGE: Tuple[float, float] = (0.0, 1.0)

#: PAF arrows: about this many along the image's longer side, only where
#: the field is at least this strong, each as long as this fraction of the
#: spacing between arrows for a unit vector.
QUIVER_ARROWS_PER_SIDE = 32
QUIVER_MIN_MAGNITUDE = 0.1
QUIVER_ARROW_LENGTH_FRACTION = 0.9
QUIVER_COLOR = 'white'


def save_maps_figures(img: np.ndarray,
                      heatmaps_stages: Sequence[np.ndarray],
                      pafs_stages: Sequence[np.ndarray],
                      out_prefix: str,
                      part: Union[int, str] = DEFAULT_FIGURE_PART,
                      limb: Union[int, Tuple[str, str]] = DEFAULT_FIGURE_LIMB
                      ) -> List[str]:
    """Write the maps figure and the stages figure as PNG files.

    Args:
        img: (H, W, 3) uint8 BGR image.
        heatmaps_stages: one (19, H, W) float32 array of confidence maps per
            stage (18 joints in :data:`entity.JOINT_NAMES` order, then the
            background), at image resolution; the last is the final stage.
        pafs_stages: one (38, H, W) float32 array of PAFs per stage (x and y
            channels of each limb as in :data:`entity.LIMB_PAF_CHANNELS`).
        out_prefix: path prefix of the files, e.g. ``out/photo``.
        part: joint of the stages figure, a name of
            :data:`entity.JOINT_NAMES` or its index.
        limb: limb of the arrows and the stages figure, an index into
            :data:`entity.LIMBS` or a (from, to) pair of joint names.

    Returns:
        ``[maps_png_path, stages_png_path]``: ``out_prefix`` plus
        :data:`MAPS_FIGURE_SUFFIX` and :data:`STAGES_FIGURE_SUFFIX`.

    Raises:
        ValueError: inconsistent shapes, or an unknown part or limb.
    """
    _check_maps(img, heatmaps_stages, pafs_stages)
    joint, limb_index = _joint_index(part), _limb_index(limb)
    step = _display_step(img.shape[:2])
    rgb = np.ascontiguousarray(img[::step, ::step, ::-1])
    heatmaps = [h[:, ::step, ::step] for h in heatmaps_stages]
    pafs = [p[:, ::step, ::step] for p in pafs_stages]
    extent = (0, img.shape[1], img.shape[0], 0)   # pixel coordinates
    maps_fig = _maps_figure(rgb, heatmaps[-1], pafs[-1], limb_index, extent)
    stages_fig = _stages_figure(rgb, heatmaps, pafs, joint, limb_index,
                                extent)
    paths = [out_prefix + MAPS_FIGURE_SUFFIX,
             out_prefix + STAGES_FIGURE_SUFFIX]
    for fig, path in zip((maps_fig, stages_fig), paths):
        write_atomic(path, _png_bytes(fig))
    return paths


# ---------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------


def _check_maps(img: np.ndarray, heatmaps_stages: Sequence[np.ndarray],
                pafs_stages: Sequence[np.ndarray]) -> None:
    """Raise ValueError unless the shapes fit together."""
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        raise ValueError('expected an (H, W, 3) uint8 BGR image, got '
                         f'{img.dtype} {img.shape}')
    if not heatmaps_stages or len(heatmaps_stages) != len(pafs_stages):
        raise ValueError(f'{len(heatmaps_stages)} heatmap stages and '
                         f'{len(pafs_stages)} PAF stages; need as many of '
                         'each, at least one')
    size = img.shape[:2]
    for name, stages, channels in (
            ('heatmaps', heatmaps_stages, entity.NUM_HEATMAPS),
            ('PAFs', pafs_stages, entity.NUM_PAF_CHANNELS)):
        for stage, maps in enumerate(stages, 1):
            if maps.shape != (channels,) + size:
                raise ValueError(
                    f'stage {stage} {name}: shape {maps.shape}, expected '
                    f'{(channels,) + size} (maps at image resolution)')


def _joint_index(part: Union[int, str]) -> int:
    """Index into :data:`entity.JOINT_NAMES` of a joint name or index."""
    if isinstance(part, str):
        if part not in entity.JOINT_INDEX:
            raise ValueError(f'unknown joint {part!r}; one of '
                             f'{", ".join(entity.JOINT_NAMES)}')
        return entity.JOINT_INDEX[part]
    if not 0 <= part < entity.NUM_JOINTS:
        raise ValueError(f'joint index {part} not in [0, '
                         f'{entity.NUM_JOINTS})')
    return int(part)


def _limb_index(limb: Union[int, Tuple[str, str]]) -> int:
    """Index into :data:`entity.LIMBS` of a limb index or joint-name pair."""
    if isinstance(limb, (int, np.integer)):
        if not 0 <= limb < entity.NUM_LIMBS:
            raise ValueError(f'limb index {limb} not in [0, '
                             f'{entity.NUM_LIMBS})')
        return int(limb)
    pair = tuple(_joint_index(name) for name in limb)
    if pair not in entity.LIMBS:
        raise ValueError(f'no limb joins {limb[0]!r} and {limb[1]!r}')
    return entity.LIMBS.index(pair)


def _limb_label(limb_index: int) -> str:
    """E.g. ``'RElbow-RWrist'``."""
    a, b = entity.LIMBS[limb_index]
    return f'{entity.JOINT_NAMES[a]}-{entity.JOINT_NAMES[b]}'


# ---------------------------------------------------------------------------
# Maps
# ---------------------------------------------------------------------------


def _display_step(image_size: Tuple[int, int]) -> int:
    """Subsampling step that brings the longer side to the display cap."""
    return max(1, -(-max(image_size) // FIGURE_MAP_MAX_SIDE))


def _limb_field(pafs: np.ndarray, limb_index: int
                ) -> Tuple[np.ndarray, np.ndarray]:
    """(x, y) components, each (h, w), of one limb's PAF."""
    cx, cy = entity.LIMB_PAF_CHANNELS[limb_index]
    return pafs[cx], pafs[cy]


def _max_paf_magnitude(pafs: np.ndarray) -> np.ndarray:
    """(h, w): the largest limb-field magnitude at each pixel."""
    cx, cy = (list(c) for c in zip(*entity.LIMB_PAF_CHANNELS))
    return np.hypot(pafs[cx], pafs[cy]).max(axis=0)


# ---------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------


def _maps_figure(rgb: np.ndarray, heatmaps: np.ndarray, pafs: np.ndarray,
                 limb_index: int, extent: Tuple[int, int, int, int]
                 ) -> Figure:
    """Final confidence maps | final PAFs with one limb's arrows."""
    fig = _new_figure(1, 2, MAPS_PANEL_INCHES, rgb.shape[:2])
    left, right = fig.subplots(1, 2)
    _overlay(left, rgb, heatmaps[:entity.NUM_JOINTS].max(axis=0), extent,
             'Confidence maps (max over joints)')
    _overlay(right, rgb, _max_paf_magnitude(pafs), extent,
             f'PAFs (max magnitude); arrows: {_limb_label(limb_index)}')
    _quiver(right, *_limb_field(pafs, limb_index), extent)
    return fig


def _stages_figure(rgb: np.ndarray, heatmaps: Sequence[np.ndarray],
                   pafs: Sequence[np.ndarray], joint: int, limb_index: int,
                   extent: Tuple[int, int, int, int]) -> Figure:
    """Row 1: one joint's map per stage; row 2: one limb's PAF magnitude."""
    stages = len(heatmaps)
    fig = _new_figure(2, stages, STAGES_PANEL_INCHES, rgb.shape[:2])
    axes = fig.subplots(2, stages, squeeze=False)
    for s in range(stages):
        _overlay(axes[0, s], rgb, heatmaps[s][joint], extent,
                 f'Stage {s + 1}: {entity.JOINT_NAMES[joint]}')
        _overlay(axes[1, s], rgb,
                 np.hypot(*_limb_field(pafs[s], limb_index)), extent,
                 f'Stage {s + 1}: {_limb_label(limb_index)}')
    return fig


def _new_figure(rows: int, cols: int, panel_inches: float,
                map_size: Tuple[int, int]) -> Figure:
    """An Agg-backed figure with panels of the maps' aspect ratio."""
    panel_height = panel_inches * map_size[0] / map_size[1]
    fig = Figure(figsize=(cols * panel_inches, rows * panel_height),
                 dpi=FIGURE_DPI, layout='constrained')
    FigureCanvasAgg(fig)
    return fig


def _overlay(ax, rgb: np.ndarray, values: np.ndarray,
             extent: Tuple[int, int, int, int], title: str) -> None:
    """Draw ``values`` (h, w) in colour over the image on ``ax``."""
    ax.imshow(rgb, extent=extent)
    ax.imshow(values, cmap=MAP_COLORMAP, alpha=MAP_OPACITY,
              vmin=MAP_DISPLAY_RANGE[0], vmax=MAP_DISPLAY_RANGE[1],
              extent=extent)
    ax.set_title(title, fontsize='small')
    ax.set_axis_off()


def _quiver(ax, u: np.ndarray, v: np.ndarray,
            extent: Tuple[int, int, int, int]) -> None:
    """Arrows of the (u, v) field (h, w each) where it is strong."""
    h, w = u.shape
    step = max(1, max(h, w) // QUIVER_ARROWS_PER_SIDE)
    rows, cols = np.mgrid[step // 2:h:step, step // 2:w:step]
    u, v = u[rows, cols], v[rows, cols]
    strong = np.hypot(u, v) >= QUIVER_MIN_MAGNITUDE
    if not strong.any():
        return
    pixels_per_cell = extent[1] / w              # display step of the maps
    x = (cols[strong] + 0.5) * pixels_per_cell   # cell centres, image pixels
    y = (rows[strong] + 0.5) * pixels_per_cell
    length = step * pixels_per_cell * QUIVER_ARROW_LENGTH_FRACTION
    ax.quiver(x, y, u[strong], v[strong], color=QUIVER_COLOR, angles='xy',
              scale_units='xy', scale=1.0 / length)


def _png_bytes(fig: Figure) -> bytes:
    """The figure rendered as PNG."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format='png', dpi=FIGURE_DPI)
    return buffer.getvalue()
