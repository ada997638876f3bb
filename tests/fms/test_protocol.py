"""Tests of fms.protocol: tests, sides and the trial keys."""
import pytest

from fms import FmsError, protocol


def test_side_rule():
    assert protocol.side_is_valid('aslr', 'left')
    assert not protocol.side_is_valid('aslr', None)
    assert protocol.side_is_valid('deep_squat', None)
    assert protocol.side_is_valid('deep_squat', '')
    assert not protocol.side_is_valid('deep_squat', 'left')
    assert protocol.side_problem('aslr', 'right') is None
    assert protocol.side_problem('aslr', '') == (
        'aslr is scored per side: give left or right (it is empty)')
    assert protocol.side_problem('aslr', 'up') == (
        "aslr is scored per side: give left or right (got 'up')")
    assert 'not scored per side' in protocol.side_problem('deep_squat',
                                                          'left')


def test_check_side_for_the_command_line():
    assert protocol.check_side('aslr', 'left') == 'left'
    assert protocol.check_side('deep_squat', '') is None
    with pytest.raises(FmsError, match='give --side left or --side right'):
        protocol.check_side('aslr', None)
    with pytest.raises(FmsError, match='leave out --side'):
        protocol.check_side('deep_squat', 'left')


def test_counted_score_is_the_lower_side():
    assert protocol.counted_score('aslr', {'left': 3, 'right': 1}) == 1
    assert protocol.counted_score('aslr', {'left': 3}) is None
    assert protocol.counted_score('deep_squat', {None: 2}) == 2
    assert protocol.trial_sides('deep_squat') == (None,)


def test_trial_names_and_order():
    assert protocol.trial_name(('S1', 'aslr', 'left')) == 'S1 aslr (left)'
    assert protocol.trial_name(('S1', 'deep_squat', None)) == \
        'S1 deep_squat'
    keys = [('S1', 'aslr', 'right'), ('S1', 'deep_squat', None),
            ('S0', 'aslr', 'left')]
    assert sorted(keys, key=protocol.trial_order) == [
        ('S0', 'aslr', 'left'), ('S1', 'deep_squat', None),
        ('S1', 'aslr', 'right')]
