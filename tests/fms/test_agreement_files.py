"""Tests of fms.agreement_files: the agreement report's files."""
import csv
import json
import os

import pytest

from fms import FmsError, agreement, agreement_files
from fms.protocol import TESTS
from tests.fms.scores import make_scores


def test_written_files_exist_and_parse(tmp_path):
    auto, coach = make_scores()
    report = agreement.agreement_report(auto, coach)
    out = tmp_path / 'out' / 'agreement'
    paths = agreement_files.write_agreement(report, str(out))
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
    document = agreement_files.report_document(report)
    json.dumps(document, allow_nan=False)
    assert document['overall']['kappa'] is None
    assert set(document['per_test']) == {'deep_squat'}
    assert set(TESTS) >= set(document['per_test'])


def test_outputs_are_checked_before_writing(tmp_path):
    (tmp_path / 'agreement.json').mkdir()
    with pytest.raises(FmsError, match=r'agreement\.json: is a folder'):
        agreement_files.check_agreement_outputs(str(tmp_path))
    blocker = tmp_path / 'file'
    blocker.write_text('x')
    with pytest.raises(FmsError, match='is a file, not a folder'):
        agreement_files.check_agreement_outputs(str(blocker))
    auto, coach = make_scores()
    report = agreement.agreement_report(auto, coach)
    with pytest.raises(FmsError, match='is a folder'):
        agreement_files.write_agreement(report, str(tmp_path))
    assert sorted(os.listdir(tmp_path)) == ['agreement.json', 'file']
