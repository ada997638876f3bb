"""Tests of fms.curve_plot: the per-frame measures as a PNG."""
import cv2
import numpy as np
import pytest
from matplotlib.colors import to_rgb

from fms import curve_plot
from tests.fms.analyses import FRAMES, synthetic_analysis


def decode(png):
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


def key_line_column(png):
    """The pixel column holding most pixels of the key frame colour."""
    image = decode(png).astype(int)
    rgb = np.array(to_rgb(curve_plot.KEY_FRAME_COLOR)) * 255
    distance = np.abs(image - rgb[::-1]).sum(axis=2)
    counts = (distance < 40).sum(axis=0)
    assert counts.max() > 100          # a line through both panels
    return int(np.argmax(counts))


def test_plot_is_a_png_of_two_stacked_panels():
    image = decode(curve_plot.plot_curves(synthetic_analysis()))
    height, width = image.shape[:2]
    assert width == curve_plot.PLOT_WIDTH_INCHES * curve_plot.PLOT_DPI
    expected = (2 * curve_plot.PANEL_HEIGHT_INCHES
                + curve_plot.TITLE_HEIGHT_INCHES) * curve_plot.PLOT_DPI
    assert abs(height - expected) <= 2


def test_key_frame_line_moves_with_the_key_frame_in_time():
    columns = [key_line_column(curve_plot.plot_curves(synthetic_analysis(k)))
               for k in (10, 30, 50)]
    assert columns[0] < columns[1] < columns[2]
    assert abs((columns[1] - columns[0]) - (columns[2] - columns[1])) <= 2


def test_plot_without_curves_or_with_a_nan_key_value():
    nan_key = synthetic_analysis(key=42)      # knee curve NaN there
    assert decode(curve_plot.plot_curves(nan_key)).shape[1] == 800
    empty = synthetic_analysis()
    empty.curves, empty.curve_thresholds = {}, {}
    assert decode(curve_plot.plot_curves(empty)).shape[0] > 100


def test_key_index_outside_the_track_is_refused():
    with pytest.raises(ValueError, match='key index'):
        curve_plot.plot_curves(synthetic_analysis(key=FRAMES))


def shaded_runs(png, color):
    """Runs of columns of ``color`` along a row near the top of the first
    panel."""
    image = decode(png).astype(int)
    rgb = np.array(to_rgb(color)) * 255
    row = image[int(0.25 * curve_plot.PANEL_HEIGHT_INCHES
                    * curve_plot.PLOT_DPI)]
    hit = (np.abs(row - rgb[::-1]).sum(axis=1) < 6).astype(int)
    return int((np.diff(np.concatenate([[0], hit])) == 1).sum())


def test_each_repetition_is_shaded_and_the_chosen_one_stands_out():
    from fms.results import Repetition
    analysis = synthetic_analysis(key=30)
    analysis.repetitions = [Repetition(0, 19, 10, 1, {}),
                            Repetition(20, 39, 30, 3, {}),
                            Repetition(40, 59, 50, 2, {})]
    analysis.repetition = 1
    png = curve_plot.plot_curves(analysis)
    assert shaded_runs(png, curve_plot.CHOSEN_REPETITION_COLOR) >= 1
    others = [shaded_runs(png, c) for c in curve_plot.REPETITION_COLORS]
    assert others[0] >= 2 or (others[0] >= 1 and others[1] >= 1)
    single = synthetic_analysis(key=30)
    single.repetitions = [Repetition(0, 59, 30, 2, {})]
    single.repetition = 0
    plain = curve_plot.plot_curves(single)
    assert shaded_runs(plain, curve_plot.CHOSEN_REPETITION_COLOR) == 0
    assert abs(key_line_column(png) - key_line_column(plain)) <= 2
