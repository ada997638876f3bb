"""Tests of fms.tables: aligned text tables and figures."""
import math

from fms import tables


def test_aligned_table():
    lines = tables.aligned_table([['name', 'n'], ['squat', '12']],
                                 [False, True])
    assert lines == ['name    n', '-----  --', 'squat  12']


def test_side_by_side_pads_blocks():
    assert tables.side_by_side([['ab', 'c'], ['x']]) == ['ab    x', 'c']


def test_undefined_figures():
    assert tables.fraction_text(math.nan) == tables.NOT_AVAILABLE
    assert tables.fraction_text(2 / 3) == '0.67'
    assert tables.kappa_text(0.5, 0) == tables.NOT_AVAILABLE
    assert tables.kappa_text(0.5, 3) == '0.50'
