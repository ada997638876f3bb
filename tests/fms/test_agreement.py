"""Tests of fms.agreement: reading the coach's CSV and the automatic results,
the agreement statistics, the report and its files."""
import csv
import json
import math
import os

import numpy as np
import pytest

from fms import FmsError
from fms import agreement
from fms.protocol import TESTS


# ---------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------

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
    kappa = agreement.weighted_kappa(TEXTBOOK_A, TEXTBOOK_B, YES_NO,
                                     weights=None)
    assert kappa == pytest.approx(0.4)
    # with two categories every weighting is the same
    for weights in ('linear', 'quadratic'):
        assert agreement.weighted_kappa(
            TEXTBOOK_A, TEXTBOOK_B, YES_NO, weights) == pytest.approx(0.4)


def test_confusion_matrix_of_small_table_and_orientation():
    matrix = agreement.confusion_matrix(SMALL_A, SMALL_B)
    assert matrix.dtype == np.int64 and matrix.shape == (4, 4)
    np.testing.assert_array_equal(matrix, SMALL_CONFUSION)
    # rows are the first rater (automatic), columns the second (coach)
    one = agreement.confusion_matrix([3], [0])
    assert one[3, 0] == 1 and one.sum() == 1


def test_weighted_kappa_four_categories_by_hand():
    assert agreement.weighted_kappa(SMALL_A, SMALL_B) == pytest.approx(47 / 71)
    assert agreement.weighted_kappa(SMALL_A, SMALL_B, weights='linear') \
        == pytest.approx(21 / 37)
    assert agreement.weighted_kappa(SMALL_A, SMALL_B, weights=None) \
        == pytest.approx(11 / 23)


def test_kappa_is_symmetric_and_one_for_perfect_agreement():
    assert agreement.weighted_kappa(SMALL_B, SMALL_A) \
        == pytest.approx(47 / 71)
    assert agreement.weighted_kappa(SMALL_A, SMALL_A) == pytest.approx(1.0)


def test_degenerate_kappa_is_nan_and_printed_not_available():
    # both raters give 2 to every trial: no disagreement expected by chance
    assert math.isnan(agreement.weighted_kappa([2, 2, 2], [2, 2, 2]))
    assert math.isnan(agreement.weighted_kappa([], []))
    assert agreement.kappa_text(math.nan, 3) == agreement.NOT_AVAILABLE
    # one rater constant, the other not: defined, and 0
    assert agreement.weighted_kappa([2, 2, 2], [1, 2, 3]) \
        == pytest.approx(0.0)


def test_bad_statistics_input():
    with pytest.raises(FmsError, match='4'):
        agreement.confusion_matrix([4], [3])
    with pytest.raises(FmsError, match='2 and 1'):
        agreement.exact_agreement([1, 2], [1])
    with pytest.raises(FmsError, match='weights'):
        agreement.weighted_kappa([1], [1], weights='cubic')


def test_exact_agreement():
    assert agreement.exact_agreement(SMALL_A, SMALL_B) == pytest.approx(5 / 8)
    assert agreement.exact_agreement([1, 2], [1, 2]) == 1.0
    assert math.isnan(agreement.exact_agreement([], []))


# ---------------------------------------------------------------------------
# Test scores
# ---------------------------------------------------------------------------

def test_bilateral_test_counts_lower_side_and_one_side_is_incomplete():
    scores = {('S1', 'hurdle_step', 'left'): 3,
              ('S1', 'hurdle_step', 'right'): 1,
              ('S1', 'deep_squat', None): 2,
              ('S1', 'aslr', 'left'): 2}
    counted = agreement.test_scores(scores)
    assert counted == {('S1', 'hurdle_step'): 1, ('S1', 'deep_squat'): 2}
    assert agreement.incomplete_tests(scores) == [('S1', 'aslr', 'right')]


# ---------------------------------------------------------------------------
# Coach CSV
# ---------------------------------------------------------------------------

def write_text(path, text, encoding='utf-8'):
    path.write_text(text, encoding=encoding)
    return str(path)


def test_coach_csv_any_order_bom_whitespace_extra_columns(tmp_path):
    path = write_text(tmp_path / 'coach.csv',
                      '\ufeffScore, note ,Test,subject,side\n'
                      ' 2 ,ok, deep_squat ,S1,\n'
                      '\n'
                      '3,,Hurdle_Step,S1, LEFT \n',
                      encoding='utf-8')
    scores = agreement.load_coach_csv(path)
    assert scores == {('S1', 'deep_squat', None): 2,
                      ('S1', 'hurdle_step', 'left'): 3}


@pytest.mark.parametrize('text, expected', [
    ('subject,test,side\nS1,deep_squat,\n',
     r'coach\.csv, line 1: missing column score'),
    ('subject,test,side,score\nS1,deep_squat,,4\n',
     r"coach\.csv, line 2, column score: score '4' is not an integer 0-3"),
    ('subject,test,side,score\nS1,deep_squat,,2\nS1,squat,,2\n',
     r"coach\.csv, line 3, column test: unknown test 'squat': use one of "
     r"deep_squat, hurdle_step"),
    ('subject,test,side,score\nS1,hurdle_step,,2\n',
     r'coach\.csv, line 2, column side: hurdle_step is scored per side: '
     r'give left or right'),
    ('subject,test,side,score\nS1,deep_squat,left,2\n',
     r'line 2, column side: deep_squat is not scored per side'),
    ('subject,test,side,score\nS1,aslr,left,2\nS1,aslr,left,3\n',
     r'coach\.csv, line 3: S1 aslr \(left\) is scored twice \(also on '
     r'line 2\)'),
    ('subject,test,side,score\n,aslr,left,2\n',
     r'line 2, column subject: the subject is empty'),
    ('subject,test,side,score\nS1,aslr,left,two\n',
     r"line 2, column score: score 'two'"),
    ('', r'coach\.csv is empty'),
    ('subject,test,side,score\n', r'coach\.csv has a header but no scores'),
])
def test_coach_csv_errors(tmp_path, text, expected):
    path = write_text(tmp_path / 'coach.csv', text)
    with pytest.raises(FmsError, match=expected):
        agreement.load_coach_csv(path)


def test_coach_csv_missing_file(tmp_path):
    with pytest.raises(FmsError, match='no such file'):
        agreement.load_coach_csv(str(tmp_path / 'absent.csv'))


# ---------------------------------------------------------------------------
# Automatic results
# ---------------------------------------------------------------------------

def result(subject, test, side, score):
    """A minimal result document (the fields agreement reads)."""
    return {'format': 'fms-result', 'version': 1, 'subject': subject,
            'test': test, 'side': side, 'view': 'side', 'score': score,
            'reasons': [], 'measurements': {}, 'thresholds': {}}


def write_json(path, document):
    path.write_text(json.dumps(document), encoding='utf-8')


def test_auto_results_loaded_and_other_json_skipped(tmp_path):
    write_json(tmp_path / 'a.json', result('S1', 'deep_squat', None, 2))
    write_json(tmp_path / 'b.json', result('S1', 'aslr', 'right', 3))
    write_json(tmp_path / 'summary.json', {'format': 'something-else'})
    (tmp_path / 'notes.json').write_text('not json at all')
    (tmp_path / 'sub').mkdir()
    write_json(tmp_path / 'sub' / 'c.json', result('S2', 'deep_squat', None,
                                                   1))
    skipped = []
    scores, documents = agreement.load_auto_results(str(tmp_path), skipped)
    assert scores == {('S1', 'deep_squat', None): 2,
                      ('S1', 'aslr', 'right'): 3}
    assert documents['S1', 'aslr', 'right']['view'] == 'side'
    assert sorted(os.path.basename(p) for p in skipped) == [
        'notes.json', 'summary.json']


def test_auto_results_duplicate_trial_names_both_files(tmp_path):
    write_json(tmp_path / 'one.json', result('S1', 'aslr', 'left', 2))
    write_json(tmp_path / 'two.json', result('S1', 'aslr', 'left', 3))
    with pytest.raises(FmsError, match=r'one\.json and .*two\.json are both '
                                       r'results of S1 aslr \(left\)'):
        agreement.load_auto_results(str(tmp_path))


@pytest.mark.parametrize('document, expected', [
    (result('S1', 'deep_squat', None, 7), 'score 7'),
    (result('S1', 'squat', None, 2), "unknown test 'squat'"),
    (result('S1', 'aslr', None, 2), 'aslr needs side'),
])
def test_auto_results_broken_result_named(tmp_path, document, expected):
    write_json(tmp_path / 'bad.json', document)
    with pytest.raises(FmsError, match=rf'bad\.json: broken result file: '
                                       rf'{expected}'):
        agreement.load_auto_results(str(tmp_path))


def test_auto_results_truncated_result_named(tmp_path):
    text = json.dumps(result('S1', 'deep_squat', None, 2))
    (tmp_path / 'cut.json').write_text(text[:len(text) // 2 + 10])
    with pytest.raises(FmsError, match=r'cut\.json, line 1, column \d+: '
                                       r'broken result file'):
        agreement.load_auto_results(str(tmp_path))


def test_auto_results_empty_or_missing_folder(tmp_path):
    with pytest.raises(FmsError, match='no FMS result files'):
        agreement.load_auto_results(str(tmp_path))
    write_json(tmp_path / 'other.json', [1, 2])
    with pytest.raises(FmsError, match='skipped 1 files that are not'):
        agreement.load_auto_results(str(tmp_path))
    with pytest.raises(FmsError, match='no such folder'):
        agreement.load_auto_results(str(tmp_path / 'absent'))


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

def full_screen(subject, scores):
    """Trial scores of a subject: ``scores`` maps test -> score (unilateral)
    or (left, right) (bilateral)."""
    trials = {}
    for test, value in scores.items():
        if isinstance(value, tuple):
            trials[subject, test, 'left'] = value[0]
            trials[subject, test, 'right'] = value[1]
        else:
            trials[subject, test, None] = value
    return trials


A_AUTO = {'deep_squat': 2, 'hurdle_step': (2, 1), 'inline_lunge': (3, 2),
          'shoulder_mobility': (2, 2), 'aslr': (3, 3),
          'trunk_stability_pushup': 2, 'rotary_stability': (2, 2)}
# differs: deep_squat 3 (-1), hurdle_step right 2 (-1), push-up 3 (-1)
A_COACH = dict(A_AUTO, deep_squat=3, hurdle_step=(2, 2),
               trunk_stability_pushup=3)
B_COACH = {'deep_squat': 1, 'hurdle_step': (2, 2), 'inline_lunge': (2, 2),
           'shoulder_mobility': (1, 3), 'aslr': (2, 2),
           'trunk_stability_pushup': 1, 'rotary_stability': (1, 1)}
# differs: deep_squat 3 (+2), aslr left 0 (-2); aslr right missing
B_AUTO = dict(B_COACH, deep_squat=3)


def make_scores():
    auto = {**full_screen('A', A_AUTO), **full_screen('B', B_AUTO)}
    auto['B', 'aslr', 'left'] = 0
    del auto['B', 'aslr', 'right']
    coach = {**full_screen('A', A_COACH), **full_screen('B', B_COACH),
             ('C', 'deep_squat', None): 2}
    return auto, coach


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


def test_format_report_tables():
    auto, coach = make_scores()
    text = agreement.format_report(agreement.agreement_report(auto, coach))
    assert "coach has subject 'C'" in text
    assert 'B: total not compared: missing in the automatic results: aslr ' \
        '(right side)' in text
    lines = text.splitlines()
    header = lines.index(next(line for line in lines
                              if line.startswith('test ')))
    assert set(lines[header + 1]) == {'-', ' '}
    # columns aligned: every row of the table has the same width
    rows = lines[header:header + 2 + len(TESTS) + 1]
    assert rows[-1].startswith('overall')
    assert len({len(row) for row in rows}) == 1
    squat = next(line for line in lines if line.startswith('deep_squat '))
    assert squat.split()[1:3] == ['2', '0.00']
    assert agreement.NOT_AVAILABLE not in squat


def test_format_report_prints_not_available_with_reason():
    # every trial scored 2 by both: kappa is undefined
    auto = {('S1', 'deep_squat', None): 2, ('S2', 'deep_squat', None): 2}
    text = agreement.format_report(agreement.agreement_report(auto,
                                                              dict(auto)))
    overall = next(line for line in text.splitlines()
                   if line.startswith('overall '))
    assert overall.split() == ['overall', '2', '1.00',
                               agreement.NOT_AVAILABLE]
    assert agreement.KAPPA_UNDEFINED_REASON in text


def test_written_files_exist_and_parse(tmp_path):
    auto, coach = make_scores()
    report = agreement.agreement_report(auto, coach)
    out = tmp_path / 'out' / 'agreement'
    paths = agreement.write_agreement(report, str(out))
    assert sorted(os.listdir(out)) == sorted(
        ['agreement.json', 'disagreements.csv', 'confusion_matrices.png'])
    assert [os.path.basename(p) for p in paths] == [
        'agreement.json', 'disagreements.csv', 'confusion_matrices.png']
    document = json.loads((out / 'agreement.json').read_text())
    assert document['format'] == 'fms-agreement'
    assert document['overall']['n'] == 23
    assert document['per_test']['deep_squat']['confusion'][3][1] == 1
    assert document['totals']['subjects'] == [
        {'subject': 'A', 'automatic': 14, 'coach': 17}]
    with open(out / 'disagreements.csv', newline='') as f:
        rows = list(csv.DictReader(f))
    assert [(r['subject'], r['test'], r['difference']) for r in rows][:2] \
        == [('B', 'deep_squat', '2'), ('B', 'aslr', '-2')]
    assert (out / 'confusion_matrices.png').read_bytes()[:8] \
        == b'\x89PNG\r\n\x1a\n'


def test_report_document_is_strict_json():
    auto = {('S1', 'deep_squat', None): 2, ('S2', 'deep_squat', None): 2}
    report = agreement.agreement_report(auto, dict(auto))
    document = agreement.report_document(report)
    json.dumps(document, allow_nan=False)
    assert document['overall']['kappa'] is None
    assert set(document['per_test']) == {'deep_squat'}
    assert set(TESTS) >= set(document['per_test'])
