"""Tests of common.files: output checks that try for real (also as root),
atomic writes whose errors name the output."""
import errno
import os
import sys

import pytest

from common import files

#: A folder where nobody can create a file, root included (``os.access``
#: says yes to root there).
UNWRITABLE = '/proc'
linux_only = pytest.mark.skipif(
    not sys.platform.startswith('linux') or not os.path.isdir(UNWRITABLE),
    reason='needs /proc')


def listing(folder):
    return sorted(os.listdir(folder))


@linux_only
def test_a_folder_nobody_can_write_to_is_refused_also_as_root():
    problem = files.output_problem(f'{UNWRITABLE}/out.json')
    assert problem.startswith(f'{UNWRITABLE}/out.json: no file can be '
                              f'created in the folder {UNWRITABLE} (')
    assert 'no file can be created' in files.output_problem(
        f'{UNWRITABLE}/new/deeper/out.json', create_folders=True)
    assert 'no file can be created' in files.output_dir_problem(
        f'{UNWRITABLE}/new')


def test_the_probe_decides_not_os_access(tmp_path, monkeypatch):
    """os.access says yes to root everywhere; a folder where creating a
    file fails is refused all the same, and the probe leaves nothing."""
    real_open = os.open

    def refuse_probes(path, *args, **kwargs):
        if str(path).endswith('.probe'):
            raise PermissionError(errno.EACCES, 'Permission denied', path)
        return real_open(path, *args, **kwargs)

    assert files.output_problem(str(tmp_path / 'a.json')) is None
    assert listing(tmp_path) == []               # the probe was removed
    monkeypatch.setattr(files.os, 'access', lambda *args, **kw: True)
    monkeypatch.setattr(files.os, 'open', refuse_probes)
    assert files.output_problem(str(tmp_path / 'a.json')) == (
        f'{tmp_path / "a.json"}: the folder {tmp_path} is not writable '
        f'(permission denied); choose another output path')


@pytest.mark.skipif(not hasattr(os, 'statvfs'), reason='no statvfs')
def test_a_read_only_file_system_is_named(tmp_path, monkeypatch):
    real = os.statvfs

    class ReadOnly:
        def __init__(self, path):
            self.stat = real(path)
            self.f_flag = self.stat.f_flag | os.ST_RDONLY

        def __getattr__(self, name):
            return getattr(self.stat, name)

    monkeypatch.setattr(files.os, 'statvfs', ReadOnly)
    assert 'read-only file system' in files.output_problem(
        str(tmp_path / 'a.json'))
    assert 'read-only file system' in files.output_dir_problem(
        str(tmp_path / 'out'))
    assert listing(tmp_path) == []


@pytest.mark.skipif(not os.path.exists('/dev/null'), reason='no /dev/null')
def test_a_device_is_no_output():
    assert 'not a regular file' in files.output_problem('/dev/null')


def test_output_folders(tmp_path):
    (tmp_path / 'file').write_text('x')
    assert files.output_dir_problem(str(tmp_path / 'new' / 'deeper')) is None
    assert not (tmp_path / 'new').exists()          # checked, not made
    assert 'is the input' in files.output_dir_problem(
        str(tmp_path / 'file'), [str(tmp_path / 'file')])
    assert 'is a file, not a folder' in files.output_dir_problem(
        str(tmp_path / 'file'))
    assert 'is a file, not a folder' in files.output_dir_problem(
        str(tmp_path / 'file' / 'sub'))


def test_two_outputs_of_one_run_are_two_files(tmp_path):
    a = str(tmp_path / 'a.json')
    assert files.outputs_problem([a, str(tmp_path / 'b.json')]) is None
    assert 'two outputs of this run' in files.outputs_problem(
        [a, str(tmp_path / '.' / 'a.json')])
    source = tmp_path / 'in.png'
    source.write_bytes(b'x')
    assert 'overwrite the input' in files.outputs_problem(
        [a, str(source)], [str(source)])


def test_a_failed_write_names_the_output_and_keeps_the_old_file(tmp_path):
    """A disk-full error while writing names no file (or the hidden
    temporary one): the error names the output, which keeps its old
    content, and nothing else is left."""
    path = tmp_path / 'result.json'
    path.write_bytes(b'old')
    with pytest.raises(OSError) as error:
        with files.atomic_file(str(path)) as stream:
            stream.write(b'new')
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert error.value.filename == str(path)
    assert files.is_fatal_write_error(error.value)
    assert path.read_bytes() == b'old'
    assert listing(tmp_path) == ['result.json']


def test_fatal_write_errors():
    assert files.is_fatal_write_error(OSError(errno.EROFS, 'read-only'))
    assert not files.is_fatal_write_error(
        PermissionError(errno.EACCES, 'denied'))
    assert not files.is_fatal_write_error(ValueError('no'))
