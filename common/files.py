"""Files: checking inputs and output folders, and writing atomically.

Every result file of the project appears under its final name only when it
is complete: it is written under a hidden temporary name in the same
folder (:func:`temporary_path`) and renamed over the destination
(:func:`commit_file`), so an interrupted run, a full disk or a crash never
leaves a half-written file and never damages the previous file of that
name.  :func:`write_atomic` does this for bytes in memory,
:func:`atomic_file` for a stream.

The ``*_problem`` functions return the one-line message for a path that
cannot be used (or None), worded the same for every command; the caller
raises it as its own :class:`common.errors.ToolError` subclass.
"""
from __future__ import annotations

import contextlib
import os
import secrets
from typing import IO, Iterable, Iterator, Optional


def same_file(a: str, b: str) -> bool:
    """True if the paths name the same file (existing or not; symbolic
    links and ``..`` resolved)."""
    if os.path.exists(a) and os.path.exists(b):
        return os.path.samefile(a, b)
    return (os.path.normcase(os.path.realpath(a))
            == os.path.normcase(os.path.realpath(b)))


def input_file_problem(path: str, kind: str = 'input',
                       allow_empty: bool = False) -> Optional[str]:
    """Why ``path`` cannot be read as a ``kind`` file (e.g. ``'image'``),
    or None when it is a readable file, non-empty unless ``allow_empty``
    (for files whose reader explains emptiness better)."""
    if not os.path.exists(path):
        return (f'{path}: no such file; check the path (relative paths '
                f'start from {os.getcwd()})')
    if os.path.isdir(path):
        return f'{path}: is a folder, not {_article(kind)} {kind} file'
    if not os.access(path, os.R_OK):
        return f'{path}: permission denied; make the file readable'
    if (not allow_empty and os.path.isfile(path)
            and os.path.getsize(path) == 0):
        return (f'{path}: the file is empty (0 bytes), probably an '
                f'interrupted download or copy; copy it again')
    return None


def _article(word: str) -> str:
    return 'an' if word[:1] in 'aeiou' else 'a'


def output_problem(path: str, inputs: Iterable[str] = (),
                   create_folders: bool = False) -> Optional[str]:
    """Why no file can be written at ``path``, or None: it is one of the
    ``inputs`` (never overwrite an input), it is an existing folder, or its
    folder is missing (unless ``create_folders`` and it can be created),
    not a folder, or not writable."""
    for source in inputs:
        if source and same_file(path, source):
            return (f'{path} would overwrite the input {source}; choose '
                    f'another output path')
    if os.path.isdir(path):
        return f'{path}: is a folder; give a file name for this output'
    directory = os.path.dirname(os.path.abspath(path))
    if create_folders:
        directory = _existing_ancestor(directory)
    if not os.path.isdir(directory):
        if os.path.exists(directory):
            return (f'{path}: {directory} is a file, not a folder; choose '
                    f'another output path')
        return (f'{path}: the folder {directory} does not exist; create it '
                f'or choose another output path')
    if not os.access(directory, os.W_OK):
        return (f'{path}: the folder {directory} is not writable; choose '
                f'another output path')
    return None


def output_folder_problem(path: str) -> Optional[str]:
    """:func:`output_problem` for a file whose folder must exist."""
    return output_problem(path)


def _existing_ancestor(folder: str) -> str:
    """The nearest of ``folder`` and its parents that exists."""
    while not os.path.exists(folder):
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return folder


def temporary_path(path: str) -> str:
    """A new hidden name beside ``path`` that keeps its extension, e.g.
    ``out/.clip.mp4.1a2b3c4d.part.mp4`` for ``out/clip.mp4`` (writers
    that pick the format from the extension still see it)."""
    directory, name = os.path.split(os.path.abspath(path))
    extension = os.path.splitext(name)[1]
    return os.path.join(directory,
                        f'.{name}.{secrets.token_hex(4)}.part{extension}')


def commit_file(temporary: str, path: str) -> None:
    """Flush ``temporary`` to disk, give it the usual permissions (0o666
    less the umask) and rename it to ``path``, replacing any file there.

    Raises:
        OSError: the rename or the sync failed (``temporary`` is kept for
            the caller's clean-up).
    """
    fd = os.open(temporary, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)
    os.replace(temporary, path)


def remove_quietly(path: str) -> None:
    """Delete ``path`` if it exists, ignoring errors."""
    try:
        os.remove(path)
    except OSError:
        pass


@contextlib.contextmanager
def atomic_file(path: str, mode: str = 'wb', **open_args) -> Iterator[IO]:
    """Open a temporary file beside ``path`` for writing; when the block
    ends normally it becomes ``path`` (:func:`commit_file`), when it raises
    (or is interrupted) it is deleted and ``path`` is left as it was.

    Example::

        with atomic_file('out/weights.npz') as f:
            np.savez(f, **arrays)

    Raises:
        OSError: the folder is missing or not writable, the disk is full...
    """
    temporary = temporary_path(path)
    binary = 'b' in mode
    stream = open(temporary, 'xb' if binary else 'x', **open_args)
    try:
        with stream:
            yield stream
        commit_file(temporary, path)
    except BaseException:
        remove_quietly(temporary)
        raise


def write_atomic(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_file`)."""
    with atomic_file(path) as stream:
        stream.write(data)
