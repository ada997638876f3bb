"""Tests of fms.agreement: the comparison of automatic and coach scores."""
import numpy as np
import pytest

from fms import FmsError, agreement
from tests.fms.scores import make_scores


def test_bilateral_test_counts_lower_side_and_one_side_is_incomplete():
    scores = {('S1', 'hurdle_step', 'left'): 3,
              ('S1', 'hurdle_step', 'right'): 1,
              ('S1', 'deep_squat', None): 2,
              ('S1', 'aslr', 'left'): 2}
    counted = agreement.test_scores(scores)
    assert counted == {('S1', 'hurdle_step'): 1, ('S1', 'deep_squat'): 2}
    assert agreement.incomplete_tests(scores) == [('S1', 'aslr', 'right')]


def test_report_totals_risk_flag_complete_and_incomplete_subject():
    auto, coach = make_scores()
    report = agreement.agreement_report(auto, coach)
    # A: automatic 2+1+2+2+3+2+2 = 14 (at risk), coach 3+2+2+2+3+3+2 = 17
    assert [(t.subject, t.automatic, t.coach) for t in report.totals] \
        == [('A', 14, 17)]
    assert 'B' in report.incomplete_subjects
    assert 'aslr (left side)' not in report.incomplete_subjects['B']
    assert 'missing in the automatic results: aslr (right side)' \
        in report.incomplete_subjects['B']
    ta = report.totals_agreement
    assert ta.n == 1 and ta.exact == 0.0
    assert ta.mean_absolute_difference == pytest.approx(3.0)
    # rows automatic (at risk, not), columns coach
    np.testing.assert_array_equal(ta.risk_table, [[0, 1], [0, 0]])
    assert ta.risk_agreement == 0.0
    assert ta.risk_kappa == pytest.approx(0.0)


def test_report_disagreements_sorted_by_size():
    auto, coach = make_scores()
    report = agreement.agreement_report(auto, coach)
    found = [(t.subject, t.test, t.side, t.automatic, t.coach, t.difference)
             for t in report.disagreements]
    assert found == [
        ('B', 'deep_squat', None, 3, 1, 2),
        ('B', 'aslr', 'left', 0, 2, -2),
        ('A', 'deep_squat', None, 2, 3, -1),
        ('A', 'hurdle_step', 'right', 1, 2, -1),
        ('A', 'trunk_stability_pushup', None, 2, 3, -1),
    ]


def test_report_counts_per_test_and_mismatch_messages():
    auto, coach = make_scores()
    report = agreement.agreement_report(auto, coach)
    assert len(report.matched) == 2 * 12 - 1
    assert report.subjects_only_coach == ['C']
    assert report.only_coach == [('B', 'aslr', 'right'),
                                 ('C', 'deep_squat', None)]
    assert ("coach has subject 'C' with no automatic results: check the "
            "subject names") in report.notes
    assert any('B aslr (right)' in note and 'C deep_squat' not in note
               for note in report.notes)
    squat = report.per_test['deep_squat']
    assert squat.n == 2 and squat.exact == 0.0
    assert squat.confusion[2, 3] == 1 and squat.confusion[3, 1] == 1
    assert report.overall.n == 23
    assert report.overall.exact == pytest.approx(18 / 23)
    assert report.overall.confusion.sum() == 23


def test_report_without_any_match():
    auto = {('s1', 'deep_squat', None): 2}
    coach = {('S1', 'deep_squat', None): 2}
    with pytest.raises(FmsError, match=r"no trial matches .*subjects s1\).*"
                                       r"subjects S1\)"):
        agreement.agreement_report(auto, coach)
