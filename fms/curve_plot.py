"""The per-frame measures of a trial as a PNG plot.

Uses a :class:`matplotlib.figure.Figure` with the Agg canvas, never pyplot.
"""
from __future__ import annotations

import io
from typing import Tuple

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from fms.labels import format_value, trial_title, words
from fms.results import Analysis

#: Figure width, height of one panel and of the title band, in inches, and
#: resolution (so one panel is 800 x 220 pixels).
PLOT_WIDTH_INCHES = 8.0
PANEL_HEIGHT_INCHES = 2.2
TITLE_HEIGHT_INCHES = 0.5
PLOT_DPI = 100

#: Colours (matplotlib names): the curve, the key frame line and marker,
#: and the threshold lines in turn.
CURVE_COLOR = 'tab:blue'
KEY_FRAME_COLOR = '#d62728'
THRESHOLD_COLORS: Tuple[str, ...] = ('tab:orange', 'tab:green',
                                     'tab:purple', 'tab:brown')
CURVE_LINE_WIDTH = 1.5
KEY_LINE_WIDTH = 1.5
THRESHOLD_LINE_WIDTH = 1.0
GRID_ALPHA = 0.3
#: Background of each repetition's span (:attr:`fms.results.Analysis.
#: repetitions`), alternating so that neighbours are told apart, and of
#: the chosen (scored) one: opaque, behind the grid and the curve.
REPETITION_COLORS: Tuple[str, ...] = ('#ececec', '#dadada')
CHOSEN_REPETITION_COLOR = '#fbdcdc'
#: Key frames of the repetitions not chosen: thin dotted lines.
OTHER_KEY_COLOR = 'tab:gray'
OTHER_KEY_LINE_WIDTH = 1.0
#: Offset of the key frame value's annotation from its point, in points.
ANNOTATION_OFFSET_POINTS: Tuple[int, int] = (6, 6)


def check_key_index(analysis: Analysis) -> None:
    """ValueError unless the key index is inside the track."""
    if not 0 <= analysis.key_index < len(analysis.track.times):
        raise ValueError(f'key index {analysis.key_index} is outside the '
                         f'track ({len(analysis.track.times)} frames)')


def plot_curves(analysis: Analysis) -> bytes:
    """The per-frame measures of a trial as a PNG plot.

    One panel per curve of ``analysis.curves`` (stacked, sharing the time
    axis in seconds from ``analysis.track.times``), y label with its unit,
    the lines of ``analysis.curve_thresholds`` dashed and labelled, the key
    frame as a vertical :data:`KEY_FRAME_COLOR` line on every panel with
    the curve's value there annotated; NaN frames are left as gaps.  When
    the analysis has several repetitions, each one's span is shaded
    (:data:`REPETITION_COLORS`, the chosen one
    :data:`CHOSEN_REPETITION_COLOR`), labelled ``rep 2: 3`` (its number and
    score) on the top panel, and the other repetitions' key frames are
    dotted lines.  The title gives the test, side, view and suggested
    score.

    Returns:
        PNG bytes of a ``PLOT_WIDTH_INCHES * PLOT_DPI`` (800) pixels wide
        image, 220 pixels high per panel (one empty panel without curves)
        plus the title band.
    """
    check_key_index(analysis)
    names = list(analysis.curves)
    panels = max(1, len(names))
    fig = Figure(figsize=(PLOT_WIDTH_INCHES,
                          panels * PANEL_HEIGHT_INCHES + TITLE_HEIGHT_INCHES),
                 dpi=PLOT_DPI, layout='constrained')
    FigureCanvasAgg(fig)
    axes = fig.subplots(panels, 1, sharex=True, squeeze=False)[:, 0]
    times = np.asarray(analysis.track.times, np.float64)
    key_time = float(times[analysis.key_index])
    for index, ax in enumerate(axes):
        _shade_repetitions(ax, analysis, times, index == 0)
    for ax, name in zip(axes, names):
        _plot_panel(ax, analysis, name, times, key_time)
    if not names:
        axes[0].axvline(key_time, color=KEY_FRAME_COLOR,
                        linewidth=KEY_LINE_WIDTH)
        axes[0].text(0.5, 0.5, 'no per-frame measures', ha='center',
                     va='center', transform=axes[0].transAxes)
    axes[-1].set_xlabel('time (s)')
    fig.suptitle(trial_title(analysis))
    buffer = io.BytesIO()
    fig.savefig(buffer, format='png', dpi=PLOT_DPI)
    return buffer.getvalue()


def _shade_repetitions(ax, analysis: Analysis, times: np.ndarray,
                       labelled: bool) -> None:
    """Shade each repetition's span on ``ax`` (nothing for a single one),
    with its number and score on the ``labelled`` panel, and the other
    repetitions' key frames dotted."""
    repetitions = analysis.repetitions
    if len(repetitions) < 2:
        return
    step = float(np.median(np.diff(times))) if len(times) > 1 else 0.0
    for i, repetition in enumerate(repetitions):
        chosen = i == analysis.repetition
        start = float(times[repetition.first_index]) - step / 2
        stop = float(times[repetition.last_index]) + step / 2
        color = CHOSEN_REPETITION_COLOR if chosen else \
            REPETITION_COLORS[i % len(REPETITION_COLORS)]
        ax.axvspan(start, stop, color=color, zorder=0, linewidth=0)
        if not chosen:
            ax.axvline(float(times[repetition.key_index]),
                       color=OTHER_KEY_COLOR, linestyle=':',
                       linewidth=OTHER_KEY_LINE_WIDTH)
        if labelled:
            score = ('/'.join(map(str, repetition.possible)) or '-'
                     if repetition.score is None else repetition.score)
            ax.text((start + stop) / 2, 0.98, f'rep {i + 1}: {score}',
                    ha='center', va='top',
                    fontsize='small', transform=ax.get_xaxis_transform())


def _plot_panel(ax, analysis: Analysis, name: str, times: np.ndarray,
                key_time: float) -> None:
    """Draw one curve, its thresholds and the key frame on ``ax``."""
    values = np.asarray(analysis.curves[name], np.float64)
    unit = analysis.curve_units.get(name, '')
    ax.plot(times, values, color=CURVE_COLOR, linewidth=CURVE_LINE_WIDTH)
    thresholds = analysis.curve_thresholds.get(name, [])
    for i, (label, value) in enumerate(thresholds):
        ax.axhline(value, linestyle='--', linewidth=THRESHOLD_LINE_WIDTH,
                   color=THRESHOLD_COLORS[i % len(THRESHOLD_COLORS)],
                   label=f'{label}: {format_value(value, unit)}')
    ax.axvline(key_time, color=KEY_FRAME_COLOR, linewidth=KEY_LINE_WIDTH)
    key_value = values[analysis.key_index]
    if np.isfinite(key_value):
        ax.plot([key_time], [key_value], 'o', color=KEY_FRAME_COLOR)
        ax.annotate(format_value(key_value, unit), (key_time, key_value),
                    xytext=ANNOTATION_OFFSET_POINTS,
                    textcoords='offset points')
    else:
        ax.annotate('not found at the key frame', (key_time, 1.0),
                    xycoords=('data', 'axes fraction'),
                    xytext=(ANNOTATION_OFFSET_POINTS[0], 0),
                    textcoords='offset points', va='top')
    ax.set_ylabel(f'{words(name)}\n({unit})' if unit else words(name))
    ax.grid(alpha=GRID_ALPHA)
    if thresholds:
        ax.legend(loc='best', fontsize='small')
