"""Tests of pose.options: the detector arguments of the commands."""
import argparse

import pytest

from pose.options import (add_detector_arguments, check_detector_arguments,
                          join_net_resolution)


def parse(words):
    """The detector arguments of ``words`` as a command parses them."""
    parser = argparse.ArgumentParser(prog='command')
    add_detector_arguments(parser)
    args = parser.parse_args(join_net_resolution(words))
    check_detector_arguments(parser, args)
    return args


@pytest.mark.parametrize('words, resolution', [
    (['--net-resolution', '-1x368'], (None, 368)),
    (['--net-resolution=-1x368'], (None, 368)),
    (['--net-resolution', '656x368'], (656, 368)),
    (['--net-resolution', '-1X256'], (None, 256)),
])
def test_net_resolution_is_read_as_openpose_users_write_it(words,
                                                            resolution):
    args = parse(words)
    assert args.net_resolution == resolution
    assert args.size == resolution[1]


def test_net_resolution_joins_only_its_own_value():
    words = ['--size', '-1x368', '--net-resolution', '656x368', '-1x368',
             '--', '--net-resolution', '-1x256']
    assert join_net_resolution(words) == words
    assert join_net_resolution(['a.jpg', '--net-resolution', '-1x368']) == \
        ['a.jpg', '--net-resolution=-1x368']


def test_net_resolution_reads_the_process_arguments_by_default(monkeypatch):
    monkeypatch.setattr('sys.argv', ['command', '--net-resolution', '-8x8'])
    assert join_net_resolution() == ['--net-resolution=-8x8']


def test_a_negative_value_of_another_option_is_not_taken_for_net_resolution(
        capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse(['--net-resolution', '656x368', '--weights', '-1x368'])
    assert exit_info.value.code == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert errors[-1] == ('command: error: argument --weights: expected one '
                          'argument')


@pytest.mark.parametrize('value, words', [
    ('-1x370', 'multiples of 8'),
    ('-2x368', 'not -2'),
    ('-1x', 'expected one argument'),
])
def test_a_bad_net_resolution_is_one_line(capsys, value, words):
    with pytest.raises(SystemExit) as exit_info:
        parse(['--net-resolution', value])
    assert exit_info.value.code == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert errors[-1].startswith('command: error: ')
    assert words in errors[-1]
