"""Tests of fms.calibration on toy data: a one-measurement score whose hidden
threshold generates the coach's scores."""
import math

import pytest

from fms import FmsError
from fms import calibration
from tests.fms.toy_calibration import (DEFAULT, DEFAULTS, GRID, HIDDEN,
                                       SPACE, XS, rescore, squat_trials)

def test_recovers_hidden_threshold_and_generalises():
    documents, coach = squat_trials(XS, HIDDEN)
    result = calibration.calibrate(documents, coach, rescore, SPACE,
                                   DEFAULTS)
    assert result.thresholds['deep_squat'] == {'x_min': HIDDEN,
                                               'unused': 5.0}
    # a test without trials keeps its defaults
    assert result.thresholds['aslr'] == {'x_min': 7.0}
    assert result.fitted == {'deep_squat': 20}
    overall = calibration.OVERALL
    assert result.in_sample[overall].kappa == pytest.approx(1.0)
    assert result.in_sample[overall].exact == 1.0
    # defaults 10: trials 10.5 and 11.5 scored 3 instead of 1
    assert result.before[overall].exact == pytest.approx(18 / 20)
    assert result.before[overall].kappa < 1.0
    cross = result.cross_validated[overall]
    assert cross.n == 20
    assert result.before[overall].kappa < cross.kappa <= 1.0
    assert result.generalises
    assert 'generalises' in result.judgement


def test_ties_keep_the_default():
    # every threshold between 1 and 19 reproduces the coach: no evidence
    # to move away from the default, in the grid or not
    xs = [0.5] * 5 + [19.5] * 5
    documents, coach = squat_trials(xs, HIDDEN)
    for default in (DEFAULT, 10.3):
        defaults = {'deep_squat': {'x_min': default, 'unused': 5.0}}
        result = calibration.calibrate(documents, coach, rescore, SPACE,
                                       defaults)
        assert result.thresholds == defaults
        for fold in result.folds:
            assert fold.thresholds == defaults


def test_fit_moves_only_with_evidence():
    documents, coach = squat_trials(XS, HIDDEN)
    keys = sorted(documents)
    fitted = calibration.fit_thresholds(
        [documents[k] for k in keys], [coach[k] for k in keys], rescore,
        {'x_min': GRID}, {'x_min': DEFAULT})
    assert fitted == {'x_min': HIDDEN}
    # without the trial at 11.5, 11 and 12 tie (both reproduce the coach):
    # 11 is nearer the default 10 (which scores 10.5 wrongly)
    kept = [k for k in keys if documents[k]['measurements']['x'] != 11.5]
    fitted = calibration.fit_thresholds(
        [documents[k] for k in kept], [coach[k] for k in kept], rescore,
        {'x_min': GRID}, {'x_min': DEFAULT})
    assert fitted == {'x_min': 11.0}


def test_too_few_trials_keep_defaults():
    documents, coach = squat_trials(XS[:4], 1.0)
    result = calibration.calibrate(documents, coach, rescore, SPACE,
                                   DEFAULTS)
    assert result.fitted == {}
    assert result.thresholds == DEFAULTS
    assert 'fewer than the 5 needed' in result.kept_defaults['deep_squat']


def test_cross_validation_groups_by_subject():
    # a bilateral test: two trials per subject that must stay together
    documents, coach = {}, {}
    for i, x in enumerate(XS):
        subject = f'S{i // 2:02d}'
        for side in ('left', 'right'):
            key = (subject, 'hurdle_step', side)
            documents[key] = {'measurements': {'x': x + (side == 'right')}}
            coach[key] = 3 if documents[key]['measurements']['x'] >= HIDDEN \
                else 1
    space = {'hurdle_step': {'x_min': GRID}}
    defaults = {'hurdle_step': {'x_min': DEFAULT}}
    result = calibration.calibrate(documents, coach, rescore, space,
                                   defaults, folds=4, seed=3)
    assert len(result.folds) == 4
    seen = []
    for fold in result.folds:
        held, train = set(fold.held_out_subjects), set(fold.train_subjects)
        assert held and not held & train
        assert held | train == set(result.subjects)
        assert fold.n_held_out == 2 * len(held)
        assert fold.n_train + fold.n_held_out == len(documents)
        seen += fold.held_out_subjects
    assert sorted(seen) == result.subjects      # each subject held out once


def test_subject_folds_at_most_one_per_subject_and_seeded():
    folds = calibration.subject_folds(['b', 'a', 'c'], folds=5, seed=0)
    assert len(folds) == 3 and sorted(sum(folds, [])) == ['a', 'b', 'c']
    assert calibration.subject_folds(list('abcdefg'), 3, seed=1) \
        == calibration.subject_folds(list('gfedcba'), 3, seed=1)


def test_fewer_than_two_subjects():
    documents, coach = squat_trials([1.0], HIDDEN, subjects=['S1'])
    with pytest.raises(FmsError, match='at least 2 subjects'):
        calibration.calibrate(documents, coach, rescore, SPACE, DEFAULTS)


def test_no_coach_scores_or_bad_search_space():
    documents, coach = squat_trials(XS, HIDDEN)
    with pytest.raises(FmsError, match='no result document has a coach'):
        calibration.calibrate(documents, {}, rescore, SPACE, DEFAULTS)
    with pytest.raises(FmsError, match="'y_min' has no default"):
        calibration.calibrate(documents, coach, rescore,
                              {'deep_squat': {'y_min': GRID}}, DEFAULTS)
    with pytest.raises(FmsError, match='unknown test'):
        calibration.calibrate(documents, coach, rescore,
                              {'squat': {'x_min': GRID}}, DEFAULTS)


def test_figures_per_test_and_nan_free_when_defined():
    documents, coach = squat_trials(XS, HIDDEN)
    result = calibration.calibrate(documents, coach, rescore, SPACE,
                                   DEFAULTS)
    assert set(result.before) == {'overall', 'deep_squat'}
    assert not math.isnan(result.before['deep_squat'].kappa)
