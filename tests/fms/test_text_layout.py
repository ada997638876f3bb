"""Tests of fms.text_layout: text size, boxes and their placement."""
import numpy as np

from fms import text_layout as layout


def test_style_grows_with_the_image():
    small = layout.text_style((480, 640))
    large = layout.text_style((1080, 1920))
    assert small == (layout.TEXT_SCALE_AT_REFERENCE, 1)
    assert large[0] > small[0] and large[1] >= small[1]


def test_ascii_line_is_one_cut_line():
    assert layout.ascii_line('a\nb  c') == 'a b c'
    assert layout.ascii_line('température') == 'temp?rature'
    long = layout.ascii_line('x' * 200)
    assert len(long) == layout.BOX_MAX_LINE_CHARS and long.endswith('...')


def test_overlap_and_corners():
    box = layout.text_corners('Ag', (10, 30), (0.5, 1))
    assert box[0, 0] == 10 and box[0, 1] < 30 < box[1, 1]
    assert layout.overlap(box, box + 2)
    assert not layout.overlap(box, box + 100)


def test_box_goes_to_the_emptiest_corner():
    points = np.array([[10.0, 10.0], [20.0, 20.0], [600.0, 20.0]])
    assert layout.emptiest_corner((640, 480), (100, 50), 5, points) \
        == (5, 425)


def test_box_shrinks_to_fit_a_small_image():
    lines = [('x' * 70, (255, 255, 255))] * 3
    wide = layout.box_layout(lines, (1.0, 1), (2000, 4000))
    narrow = layout.box_layout(lines, (1.0, 1), (300, 400))
    assert narrow.scale < wide.scale
    assert narrow.size[0] < wide.size[0]
