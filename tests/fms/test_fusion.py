"""Several views of one trial judged together, and retests (fms/fusion.py)."""
import copy

import pytest

from fms import FmsError
from fms.analysis import analyze_track
from fms.fusion import fuse, is_complete, rescore_trial, score_trial, variant
from fms.results import result_document
from tests.fixtures.movements import deep_squat_sequence, leg_raise_sequence

#: Femur angle at the bottom of a quarter squat: the generator's angle is
#: positive with the hip below the knee, so -40 is well above horizontal.
QUARTER_SQUAT_DEG = -40.0


def squat(view, inputs=None, source=None, **kwargs):
    """The result document of a synthetic deep squat filmed from ``view``
    (knees slightly in, well within the threshold: a correct squat)."""
    kwargs.setdefault('knee_medial_hip_widths', 0.1)
    track = deep_squat_sequence(view=view, frames=50, key_frame=25,
                                **kwargs)
    document = result_document(analyze_track(track, 'deep_squat', None,
                                             view, dict(inputs or {})), 's1')
    document['source'] = source or f'squat_{view}.jsonl'
    return document


@pytest.fixture(scope='module')
def correct():
    """Side and front documents of a correct deep squat."""
    return squat('side'), squat('front')


def _criteria(fused):
    return {c.name: (c.view, c.passed) for c in fused.criteria}


def test_side_and_front_fuse_to_a_definite_three(correct):
    side, front = correct
    # Neither view alone decides the score.
    assert side['score'] is None and front['score'] is None
    fused = fuse([side, front])
    assert fused.score == 3
    assert fused.possible == (3,)
    assert fused.to_film == []
    assert fused.views == ('side', 'front')
    assert fused.test == 'deep_squat' and fused.side is None
    assert fused.variant is None
    assert _criteria(fused) == {
        'torso_parallel_tibia': ('side', True),
        'femur_below_horizontal': ('side', True),
        'dowel_over_feet': ('side', True),
        'knees_over_feet': ('front', True)}
    assert fused.repetitions == {'side': 1, 'front': 1}
    assert fused.complete
    # The order of the documents does not change the judgement.
    swapped = fuse([front, side])
    assert swapped.score == 3 and _criteria(swapped) == _criteria(fused)


def test_front_view_of_a_quarter_squat_alone_is_provisional():
    front = squat('front', min_femur_angle_deg=QUARTER_SQUAT_DEG)
    fused = fuse([front])
    assert fused.score is None
    assert fused.possible == (1, 3)
    assert fused.to_film and all('side view' in line
                                 for line in fused.to_film)
    assert fused.reasons[0].startswith('provisional: 1 or 3')
    assert 'side view' in fused.reasons[0]
    assert not fused.complete
    # With the side view, the depth decides: 1.
    side = squat('side', min_femur_angle_deg=QUARTER_SQUAT_DEG)
    both = fuse([side, front])
    assert both.score == 1
    assert _criteria(both)['femur_below_horizontal'] == ('side', False)


def test_two_documents_of_one_view_are_refused(correct):
    side, _ = correct
    other = copy.deepcopy(side)
    other['source'] = 'again_side.jsonl'
    with pytest.raises(FmsError) as raised:
        fuse([side, other])
    message = str(raised.value)
    assert 'squat_side.jsonl' in message
    assert 'again_side.jsonl' in message
    assert 'side view' in message


def test_documents_of_different_tests_are_refused(correct):
    side, _ = correct
    track = leg_raise_sequence(frames=44, key_frame=22, side='left',
                               max_angle_deg=85.0)
    aslr = result_document(analyze_track(track, 'aslr', 'left', 'side', {}),
                           's1')
    aslr['source'] = 'aslr_left_side.jsonl'
    with pytest.raises(FmsError, match='aslr_left_side.jsonl'):
        fuse([side, aslr])
    with pytest.raises(FmsError):
        fuse([])


def test_differing_repetition_counts_fuse_each_views_best(correct):
    side, front = correct
    shallow = squat('side', min_femur_angle_deg=-25.0)
    two = copy.deepcopy(side)
    # The side view found two repetitions: a shallow one, then the correct.
    two['repetitions'] = [copy.deepcopy(shallow['repetitions'][0]),
                          copy.deepcopy(side['repetitions'][0])]
    two['repetitions'][1]['index'] = 2
    fused = fuse([two, front])
    assert fused.score == 3
    assert fused.repetitions == {'side': 2, 'front': 1}
    assert any('the views found 2 and 1 repetitions' in line
               and 'best repetition' in line for line in fused.reasons)
    # The same counts pair the repetitions: the best pair is named.
    front_two = copy.deepcopy(front)
    front_two['repetitions'] = [copy.deepcopy(front['repetitions'][0])
                                for _ in range(2)]
    paired = fuse([two, front_two])
    assert paired.score == 3
    assert paired.repetitions == {'side': 2, 'front': 2}
    assert 'repetition 2 of 2, the best' in paired.reasons


def test_pain_in_either_views_inputs_gives_zero(correct):
    side, front = correct
    hurt = squat('front', inputs={'pain': True})
    assert fuse([side, hurt]).score == 0
    assert fuse([hurt, side]).score == 0
    assert fuse([side, front]).score == 3


def test_score_trial_takes_the_heels_raised_retests_two():
    flat = [squat(view, min_femur_angle_deg=-25.0, source=f'flat_{view}')
            for view in ('side', 'front')]
    raised = [squat(view, inputs={'heels_raised': True},
                    source=f'raised_{view}') for view in ('side', 'front')]
    scored = score_trial(flat + raised)
    assert scored.score == 2
    assert scored.possible == (2,)
    assert [v.variant for v in scored.variants] == [None, 'heels raised']
    assert [v.score for v in scored.variants] == [1, 2]
    assert scored.counted.variant == 'heels raised'
    assert scored.counted.views == ('side', 'front')
    # Retests listed first still come second; the first trial alone is 1.
    assert [v.variant for v in score_trial(raised + flat).variants] == [
        None, 'heels raised']
    assert score_trial(flat).score == 1


def test_variant_words():
    assert variant('deep_squat', {'heels_raised': True}) == 'heels raised'
    assert variant('deep_squat', {'heels_raised': False}) is None
    assert variant('deep_squat', {}) is None
    assert variant('rotary_stability', {'pattern': 'diagonal'}) == 'diagonal'
    assert variant('rotary_stability', {'pattern': 'unilateral'}) is None
    assert variant('aslr', {'heels_raised': True}) is None


def test_is_complete_needs_both_deep_squat_views(correct):
    side, front = correct
    assert not is_complete([front])
    assert not is_complete([side])
    assert is_complete([side, front])


def test_rescore_trial_with_other_thresholds(correct):
    side, front = correct              # femur 10 deg below, knees 0.1 in
    assert rescore_trial([side, front], {}) == 3
    assert rescore_trial([side, front], {'femur_angle_min_deg': 20.0}) == 1
    assert rescore_trial([side, front],
                         {'knee_medial_max_hip_widths': 0.05}) == 1
    shallow = [squat(view, min_femur_angle_deg=-25.0)
               for view in ('side', 'front')]
    assert rescore_trial(shallow, {}) == 1
    assert rescore_trial(shallow, {'femur_angle_min_deg': -30.0}) == 3
    # The documents themselves are not changed by a rescore.
    assert fuse([side, front]).score == 3


def test_merged_measurements_prefer_the_side_view():
    from fms.fusion import _merged_measurements
    from fms.measurements import Measurement
    merged = _merged_measurements([
        ('side', {'same_side_leg': Measurement(0.9, '')}, {}),
        ('front', {'same_side_leg': Measurement(0.1, '')}, {})])
    assert merged['same_side_leg'].value == 0.9
