"""Tests of fms.statistics: confusion matrix, exact agreement, kappa."""
import math

import numpy as np
import pytest

from fms import FmsError, statistics, tables

# 2 categories, the textbook example (Wikipedia, "Cohen's kappa"): 50
# applications, rater A rows, rater B columns, categories (yes, no):
#        B yes  B no
# A yes    20     5      A: 25 yes, 25 no
# A no     10    15      B: 30 yes, 20 no
# po = (20 + 15) / 50 = 0.7; pe = 0.5 * 0.6 + 0.5 * 0.4 = 0.5;
# kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4.
TEXTBOOK_A = ['yes'] * 25 + ['no'] * 25
TEXTBOOK_B = ['yes'] * 20 + ['no'] * 5 + ['yes'] * 10 + ['no'] * 15
YES_NO = ('yes', 'no')

# 4 categories (0-3), 8 trials:
SMALL_A = [0, 1, 1, 2, 2, 3, 3, 3]
SMALL_B = [0, 1, 2, 2, 3, 3, 3, 1]
# observed counts O (rows A, columns B)   row sums r = [1, 2, 2, 3]
#   [1 0 0 0]                             column sums c = [1, 2, 2, 3]
#   [0 1 1 0]
#   [0 0 1 1]
#   [0 1 0 2]
# expected counts E = r c^T / 8.
# Quadratic, w = (i - j)^2 / 9:
#   observed disagreement = (1 + 1 + 4) / 9 / 8 = 48 / 576
#   sum (i - j)^2 r_i c_j = 2 * 8 * 37 - 2 * 15^2 = 142
#   (sum r = 8, sum r i = 15, sum r i^2 = 37),
#   expected disagreement = 142 / 9 / 64 = 142 / 576
#   kappa = 1 - 48 / 142 = 47 / 71
# Linear, w = |i - j| / 3:
#   observed = (1 + 1 + 2) / 3 / 8 = 32 / 192
#   sum |i - j| r_i c_j = 2 * (2 + 4 + 9 + 4 + 12 + 6) = 74 -> 74 / 192
#   kappa = 1 - 32 / 74 = 21 / 37
# Unweighted: po = 5 / 8, pe = (1 + 4 + 4 + 9) / 64 = 18 / 64,
#   kappa = (40 - 18) / (64 - 18) = 11 / 23
SMALL_CONFUSION = [[1, 0, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1], [0, 1, 0, 2]]


def test_unweighted_kappa_textbook_example():
    kappa = statistics.weighted_kappa(TEXTBOOK_A, TEXTBOOK_B, YES_NO,
                                     weights=None)
    assert kappa == pytest.approx(0.4)
    # with two categories every weighting is the same
    for weights in ('linear', 'quadratic'):
        assert statistics.weighted_kappa(
            TEXTBOOK_A, TEXTBOOK_B, YES_NO, weights) == pytest.approx(0.4)


def test_confusion_matrix_of_small_table_and_orientation():
    matrix = statistics.confusion_matrix(SMALL_A, SMALL_B)
    assert matrix.dtype == np.int64 and matrix.shape == (4, 4)
    np.testing.assert_array_equal(matrix, SMALL_CONFUSION)
    # rows are the first rater (automatic), columns the second (coach)
    one = statistics.confusion_matrix([3], [0])
    assert one[3, 0] == 1 and one.sum() == 1


def test_weighted_kappa_four_categories_by_hand():
    assert statistics.weighted_kappa(SMALL_A, SMALL_B) \
        == pytest.approx(47 / 71)
    assert statistics.weighted_kappa(SMALL_A, SMALL_B, weights='linear') \
        == pytest.approx(21 / 37)
    assert statistics.weighted_kappa(SMALL_A, SMALL_B, weights=None) \
        == pytest.approx(11 / 23)


def test_kappa_is_symmetric_and_one_for_perfect_agreement():
    assert statistics.weighted_kappa(SMALL_B, SMALL_A) \
        == pytest.approx(47 / 71)
    assert statistics.weighted_kappa(SMALL_A, SMALL_A) == pytest.approx(1.0)


def test_degenerate_kappa_is_nan_and_printed_not_available():
    # both raters give 2 to every trial: no disagreement expected by chance
    assert math.isnan(statistics.weighted_kappa([2, 2, 2], [2, 2, 2]))
    assert math.isnan(statistics.weighted_kappa([], []))
    assert tables.kappa_text(math.nan, 3) == tables.NOT_AVAILABLE
    # one rater constant, the other not: defined, and 0
    assert statistics.weighted_kappa([2, 2, 2], [1, 2, 3]) \
        == pytest.approx(0.0)


def test_bad_statistics_input():
    with pytest.raises(FmsError, match='4'):
        statistics.confusion_matrix([4], [3])
    with pytest.raises(FmsError, match='2 and 1'):
        statistics.exact_agreement([1, 2], [1])
    with pytest.raises(FmsError, match='weights'):
        statistics.weighted_kappa([1], [1], weights='cubic')


def test_exact_agreement():
    assert statistics.exact_agreement(SMALL_A, SMALL_B) == pytest.approx(5 / 8)
    assert statistics.exact_agreement([1, 2], [1, 2]) == 1.0
    assert math.isnan(statistics.exact_agreement([], []))
