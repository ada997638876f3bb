"""Tests of fms.labels: values, criteria and the trial summary in words."""
import dataclasses

from fms import labels
from tests.fms.analyses import KEY, synthetic_analysis


def test_format_value_and_words():
    assert labels.format_value(97.4, 'deg') == '97 deg'
    assert labels.format_value(0.254, 'fraction') == '0.25 fraction'
    assert labels.format_value(3.0, '') == '3.00'
    assert labels.words('knee_flexion') == 'knee flexion'


def test_criterion_lines():
    analysis = synthetic_analysis()
    lines = [labels.criterion_line(c) for c in analysis.criteria]
    assert lines[0] == ('PASS femur below horizontal: 95 deg '
                        '(limit >= 90 deg)')
    assert lines[1] == 'FAIL trunk parallel tibia: 30 deg (limit <= 20 deg)'
    assert lines[2] == 'n/a  knee valgus: needs the front view'


def test_summary_lines():
    analysis = synthetic_analysis()
    lines = labels.analysis_summary(analysis, 'anna')
    assert lines[0] == 'anna: deep_squat, side view: suggested score 2/3'
    assert lines[1] == (f'key frame {KEY + 100} at {KEY / 30:.2f} s '
                        f'(lowest hip position)')
    assert lines[2].startswith('  PASS femur below horizontal')
    assert lines[-1] == '  - trunk leans forward more than 20 deg'
    assert labels.trial_title(analysis) == ('deep squat, side view: '
                                            'suggested score 2/3')


def test_scores_in_words():
    assert labels.scores_in_words((3,)) == '3'
    assert labels.scores_in_words((1, 3)) == '1 or 3'
    assert labels.scores_in_words((1, 2, 3)) == '1, 2 or 3'


def test_a_provisional_score_is_never_given_as_a_score():
    analysis = dataclasses.replace(synthetic_analysis(), score=None,
                                   possible=(1, 3))
    assert labels.score_words(analysis) == 'provisional: 1 or 3'
    lines = labels.analysis_summary(analysis, 'anna')
    assert lines[0] == 'anna: deep_squat, side view: provisional: 1 or 3'
    assert labels.trial_title(analysis) == ('deep squat, side view: '
                                            'provisional: 1 or 3')
    assert not any('None' in line for line in lines)
