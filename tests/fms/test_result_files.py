"""Tests of fms.result_files: reading the analyzer's result files."""
import json
import os

import pytest

from fms import FmsError, result_files


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
    scores, documents = result_files.load_auto_results(str(tmp_path), skipped)
    assert scores == {('S1', 'deep_squat', None): 2,
                      ('S1', 'aslr', 'right'): 3}
    assert [d['view'] for d in documents['S1', 'aslr', 'right']] == ['side']
    assert sorted(os.path.basename(p) for p in skipped) == [
        'notes.json', 'summary.json']


def test_auto_results_duplicate_trial_names_both_files(tmp_path):
    write_json(tmp_path / 'one.json', result('S1', 'aslr', 'left', 2))
    write_json(tmp_path / 'two.json', result('S1', 'aslr', 'left', 3))
    with pytest.raises(FmsError, match=r'one\.json and .*two\.json are both '
                                       r'results of S1 aslr \(left\)'):
        result_files.load_auto_results(str(tmp_path))


@pytest.mark.parametrize('document, expected', [
    (result('S1', 'deep_squat', None, 7), 'score 7'),
    (result('S1', 'squat', None, 2), "unknown test 'squat'"),
    (result('S1', 'aslr', None, 2), 'aslr is scored per side'),
])
def test_auto_results_broken_result_named(tmp_path, document, expected):
    write_json(tmp_path / 'bad.json', document)
    with pytest.raises(FmsError, match=rf'bad\.json: broken result file: '
                                       rf'{expected}'):
        result_files.load_auto_results(str(tmp_path))


def test_auto_results_truncated_result_named(tmp_path):
    text = json.dumps(result('S1', 'deep_squat', None, 2))
    (tmp_path / 'cut.json').write_text(text[:len(text) // 2 + 10])
    with pytest.raises(FmsError, match=r'cut\.json, line 1, column \d+: '
                                       r'broken result file'):
        result_files.load_auto_results(str(tmp_path))


def test_auto_results_empty_or_missing_folder(tmp_path):
    with pytest.raises(FmsError, match='no FMS result files'):
        result_files.load_auto_results(str(tmp_path))
    write_json(tmp_path / 'other.json', [1, 2])
    with pytest.raises(FmsError, match='skipped 1 files that are not'):
        result_files.load_auto_results(str(tmp_path))
    with pytest.raises(FmsError, match='no such folder'):
        result_files.load_auto_results(str(tmp_path / 'absent'))


def test_read_result_checks_one_file(tmp_path):
    write_json(tmp_path / 'a.json', result('S1', 'aslr', 'left', 2))
    assert result_files.read_result(str(tmp_path / 'a.json'))['score'] == 2
    write_json(tmp_path / 'b.json', {'format': 'other'})
    with pytest.raises(FmsError, match='b.json: not an FMS result file'):
        result_files.read_result(str(tmp_path / 'b.json'))
    write_json(tmp_path / 'c.json', result('S1', 'aslr', 'left', 7))
    with pytest.raises(FmsError, match='c.json: broken result file'):
        result_files.read_result(str(tmp_path / 'c.json'))
