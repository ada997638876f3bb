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
