"""Tests of fms.outputs: output paths checked first, written atomically,
errors naming the real path."""
import os

import pytest

from common import files
from fms import FmsError, outputs


def test_problems_of_output_paths(tmp_path):
    source = tmp_path / 'in.jsonl'
    source.write_text('x')
    (tmp_path / 'folder.json').mkdir()
    (tmp_path / 'file').write_text('x')
    def problem(path, inputs=()):
        return files.output_problem(path, inputs, create_folders=True)

    assert problem(str(tmp_path / 'a.json')) is None
    assert problem(str(tmp_path / 'new' / 'deeper' / 'a.json')) is None
    assert 'overwrite the input' in problem(str(source), [str(source)])
    assert 'is a folder' in problem(str(tmp_path / 'folder.json'))
    assert 'is a file, not a folder' in problem(
        str(tmp_path / 'file' / 'sub' / 'a.json'))


def test_the_output_check_is_the_common_one():
    # one output_problem, in common.files: fms.outputs keeps no copy
    assert not hasattr(outputs, 'output_problem')


def test_check_outputs_raises_the_first_problem(tmp_path):
    (tmp_path / 'b.json').mkdir()
    with pytest.raises(FmsError, match=r'b\.json: is a folder'):
        outputs.check_outputs([str(tmp_path / 'a.json'),
                               str(tmp_path / 'b.json')])


def test_write_outputs_creates_folders(tmp_path):
    path = str(tmp_path / 'x' / 'y' / 'a.json')
    assert outputs.write_outputs({path: b'{}\n'}) == [path]
    assert open(path, 'rb').read() == b'{}\n'


def test_a_failed_write_names_the_output_and_removes_the_others(tmp_path):
    first = str(tmp_path / 'first.json')
    blocked = tmp_path / 'second.png'
    blocked.mkdir()                    # the rename onto it fails
    with pytest.raises(FmsError) as error:
        outputs.write_outputs({first: b'1', str(blocked): b'2'})
    message = str(error.value)
    assert message.startswith(f'{blocked}: cannot write the file')
    assert '.part' not in message      # never the hidden temporary file
    assert sorted(os.listdir(tmp_path)) == ['second.png']


def test_json_bytes_are_strict_and_end_with_a_newline():
    assert outputs.json_bytes({'a': None}) == b'{\n  "a": null\n}\n'
    with pytest.raises(ValueError):
        outputs.json_bytes({'a': float('nan')})
