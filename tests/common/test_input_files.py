"""``common.files.input_file_problem``: the one wording, for every command,
of why an input path cannot be read, found from its metadata alone (a named
pipe is never opened: opening it blocks until someone writes to it)."""
import os
import socket
import threading

import pytest

from common.files import input_file_problem


def problem(path, *args, **kwargs):
    """The message, checked to name ``path`` exactly once."""
    message = input_file_problem(str(path), *args, **kwargs)
    assert message is not None
    assert message.count(str(path)) == 1, message
    return message


def test_a_readable_file_has_no_problem(tmp_path):
    path = tmp_path / 'a.jpg'
    path.write_bytes(b'x')
    assert input_file_problem(str(path), 'image') is None
    os.symlink('a.jpg', tmp_path / 'link.jpg')
    assert input_file_problem(str(tmp_path / 'link.jpg'), 'image') is None


def test_missing_file(tmp_path):
    assert 'no such file; check the path' in problem(tmp_path / 'no.jpg')


def test_folder(tmp_path):
    assert 'is a folder, not an image file' in problem(tmp_path, 'image')


def test_empty_file(tmp_path):
    path = tmp_path / 'empty.csv'
    path.write_bytes(b'')
    assert 'the file is empty (0 bytes)' in problem(path, 'CSV')
    assert input_file_problem(str(path), 'CSV', allow_empty=True) is None


def test_part_of_the_path_is_a_file(tmp_path):
    (tmp_path / 'file').write_bytes(b'x')
    message = problem(tmp_path / 'file' / 'a.jpg')
    assert 'a part of the path is a file, not a folder' in message


def test_named_pipe_is_refused_without_opening_it(tmp_path):
    """Issue case 18: ``os.path.exists`` said yes and the reader blocked
    forever in ``open``.  The check never opens it, so it answers at once
    (in a thread, so that a regression fails instead of hanging)."""
    path = tmp_path / 'pipe.jpg'
    os.mkfifo(path)
    answer = []
    checker = threading.Thread(
        target=lambda: answer.append(problem(path, 'image')), daemon=True)
    checker.start()
    checker.join(timeout=10)
    assert not checker.is_alive()
    assert 'is not a regular file (a named pipe); give an image file' in \
        answer[0]


def test_devices_are_refused():
    """Issue case 18: ``/dev/zero`` passed the check (it is not a regular
    file, so its size, 0, was not looked at), and its reader then called it
    an empty file or read it forever."""
    for allow_empty in (False, True):
        message = problem('/dev/zero', 'weights', allow_empty=allow_empty)
        assert 'is not a regular file (a character device)' in message
        assert 'empty' not in message


def test_socket_is_refused(tmp_path):
    path = tmp_path / 's.jpg'
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        assert 'is not a regular file (a socket)' in problem(path)


def test_symbolic_link_loop(tmp_path):
    """Issue case 18: a loop was "no such file"."""
    os.symlink('self.jpg', tmp_path / 'self.jpg')
    os.symlink('b.jpg', tmp_path / 'a.jpg')
    os.symlink('a.jpg', tmp_path / 'b.jpg')
    for name in ('self.jpg', 'a.jpg'):
        assert 'symbolic link loop' in problem(tmp_path / name)


def test_broken_symbolic_link(tmp_path):
    os.symlink('moved/photo.jpg', tmp_path / 'photo.jpg')
    message = problem(tmp_path / 'photo.jpg')
    assert ('broken symbolic link to moved/photo.jpg, which does not exist'
            in message)


@pytest.mark.skipif(os.geteuid() == 0, reason='root reads any file')
def test_unreadable_file(tmp_path):
    path = tmp_path / 'secret.jpg'
    path.write_bytes(b'x')
    path.chmod(0)
    assert 'permission denied' in problem(path)
