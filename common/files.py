"""Files: checking inputs and output folders, and writing atomically.

Every result file of the project appears under its final name only when it
is complete: it is written under a hidden temporary name in the same
folder (:func:`temporary_path`) and renamed over the destination
(:func:`commit_file`), so an interrupted run, a full disk or a crash never
leaves a half-written file and never damages the previous file of that
name.  :func:`write_atomic` does this for bytes in memory,
:func:`atomic_file` for a stream, :class:`AtomicOutput` for an output a
writer builds piece by piece and commits or aborts (:class:`AtomicTextFile`:
keypoint lines, tables; a folder of keypoint files).

The ``*_problem`` functions return the one-line message for a path that
cannot be used (or None), worded the same for every command; the caller
raises it as its own :class:`common.errors.ToolError` subclass.  Every
command checks all its outputs this way before any work (before weights
load, before any frame or image): an output file (:func:`output_problem`,
:func:`outputs_problem` for a run's files together) is never an input nor
another output of the run, never an existing folder or device, and its
folder is really writable (:func:`folder_write_problem` tries, since
``os.access`` says yes to root even on ``/proc`` or a read-only mount); an
output folder is checked by :func:`output_dir_problem`.  A write that
failed because the disk is full or read-only is told apart from one bad
file by :func:`is_fatal_write_error` (a batch stops instead of going on).
"""
from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from typing import IO, Iterable, Iterator, List, Optional

from common.errors import ToolError


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
    or None when it is a readable regular file, non-empty unless
    ``allow_empty`` (for files whose reader explains emptiness better).

    Only the file's metadata is looked at (``os.stat``), nothing is opened:
    a named pipe (FIFO), which would block its reader forever, and a device
    such as ``/dev/zero``, which never ends, are refused as "not a regular
    file" before anything reads them.  A symbolic link is followed; a loop
    of links and a link to nothing are named as such.
    """
    try:
        info = os.stat(path)
    except OSError as error:
        return _unreachable_file_problem(path, error)
    except ValueError:                         # a NUL character in the name
        return f'{path!r}: not a valid file name; check the path'
    if stat.S_ISDIR(info.st_mode):
        return f'{path}: is a folder, not {_article(kind)} {kind} file'
    if not stat.S_ISREG(info.st_mode):
        return (f'{path}: is not a regular file ({_special_file_type(info)});'
                f' give {_article(kind)} {kind} file')
    if not os.access(path, os.R_OK):
        return f'{path}: permission denied; make the file readable'
    if not allow_empty and info.st_size == 0:
        return (f'{path}: the file is empty (0 bytes), probably an '
                f'interrupted download or copy; copy it again')
    return None


def _unreachable_file_problem(path: str, error: OSError) -> str:
    """The message for a path whose ``os.stat`` failed with ``error``."""
    if error.errno == errno.ELOOP:
        return (f'{path}: symbolic link loop (its links lead back to '
                f'themselves); fix or remove the link')
    if os.path.islink(path):             # the link is there, its target not
        try:
            target = f' to {os.readlink(path)}, which does not exist'
        except OSError:
            target = ''
        return (f'{path}: broken symbolic link{target}; fix the link or give '
                f'the file itself')
    if error.errno in (errno.EACCES, errno.EPERM):
        return (f'{path}: permission denied (a folder on the path cannot be '
                f'entered); check its permissions')
    if error.errno == errno.ENOTDIR:
        return (f'{path}: no such file (a part of the path is a file, not a '
                f'folder); check the path')
    if error.errno == errno.ENOENT:
        return (f'{path}: no such file; check the path (relative paths '
                f'start from {os.getcwd()})')
    return f'{path}: {error.strerror or error}; check the path'


#: ``stat`` tests and names of the files that are neither regular files nor
#: folders.
_SPECIAL_FILE_TYPES = ((stat.S_ISFIFO, 'a named pipe'),
                       (stat.S_ISCHR, 'a character device'),
                       (stat.S_ISBLK, 'a block device'),
                       (stat.S_ISSOCK, 'a socket'))


def _special_file_type(info: os.stat_result) -> str:
    """``'a named pipe'``, ``'a character device'``... for ``info``."""
    for test, name in _SPECIAL_FILE_TYPES:
        if test(info.st_mode):
            return name
    return 'a special file'


def _article(word: str) -> str:
    return 'an' if word[:1] in 'aeiou' else 'a'


def output_problem(path: str, inputs: Iterable[str] = (),
                   create_folders: bool = False) -> Optional[str]:
    """Why no file can be written at ``path``, or None: it is one of the
    ``inputs`` (never overwrite an input), it is an existing folder or
    something else that is not a regular file (a device, a pipe), or its
    folder is missing (unless ``create_folders`` and it can be created),
    not a folder, or not writable (:func:`folder_write_problem`: really
    tried, so also as root and on read-only file systems)."""
    for source in inputs:
        if source and same_file(path, source):
            return (f'{path} would overwrite the input {source}; choose '
                    f'another output path')
    if os.path.isdir(path):
        return f'{path}: is a folder; give a file name for this output'
    if os.path.exists(path) and not os.path.isfile(path):
        return (f'{path}: is not a regular file (a device, pipe or '
                f'socket); give a file name for this output')
    directory = os.path.dirname(os.path.abspath(path))
    if create_folders:
        directory = _existing_ancestor(directory)
    if not os.path.isdir(directory):
        if os.path.exists(directory):
            return (f'{path}: {directory} is a file, not a folder; choose '
                    f'another output path')
        return (f'{path}: the folder {directory} does not exist; create it '
                f'or choose another output path')
    problem = folder_write_problem(directory)
    return f'{path}: {problem}' if problem else None


def output_dir_problem(folder: str, inputs: Iterable[str] = ()
                       ) -> Optional[str]:
    """Why files cannot be written into the output folder ``folder``
    (created when missing), or None: it exists but is not a folder (one of
    the ``inputs``, say), a parent of it is a file, or the nearest existing
    one of it and its parents is not writable."""
    for source in inputs:
        if source and same_file(folder, source):
            return (f'{folder}: is the input {source}, not a folder; give '
                    f'a folder for these outputs')
    if os.path.exists(folder) and not os.path.isdir(folder):
        return (f'{folder}: is a file, not a folder; give a folder for '
                f'these outputs')
    existing = _existing_ancestor(os.path.abspath(folder))
    if not os.path.isdir(existing):
        return (f'{folder}: {existing} is a file, not a folder; choose '
                f'another output folder')
    problem = folder_write_problem(existing)
    return f'{folder}: {problem}' if problem else None


def outputs_problem(outputs: Iterable[str], inputs: Iterable[str] = (),
                    create_folders: bool = False) -> Optional[str]:
    """The first :func:`output_problem` of a run's output files, or that
    two of them are one file, or None."""
    inputs = list(inputs)
    seen: List[str] = []
    for path in outputs:
        problem = output_problem(path, inputs, create_folders)
        if problem:
            return problem
        for other in seen:
            if same_file(path, other):
                return (f'{path} is given for two outputs of this run; '
                        f'give each output its own name')
        seen.append(path)
    return None


#: Why creating a file fails, for :func:`folder_write_problem`'s message.
_READ_ONLY_ERRNOS = (errno.EROFS,)


def folder_write_problem(directory: str) -> Optional[str]:
    """Why no file can be created in the existing folder ``directory``,
    or None.  Tried for real (a hidden empty file is created and removed
    at once): ``os.access`` says yes to root everywhere, even where
    nothing can be created (``/proc``, ``/sys``, a read-only mount)."""
    if _read_only_file_system(directory):
        return (f'the folder {directory} is on a read-only file system; '
                f'choose another output path')
    probe = os.path.join(directory, f'.{secrets.token_hex(8)}.probe')
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as error:
        if error.errno in _READ_ONLY_ERRNOS:
            return (f'the folder {directory} is on a read-only file '
                    f'system; choose another output path')
        if error.errno in (errno.EACCES, errno.EPERM):
            return (f'the folder {directory} is not writable (permission '
                    f'denied); choose another output path')
        return (f'no file can be created in the folder {directory} '
                f'({error.strerror or error}); choose another output path')
    os.close(fd)
    remove_quietly(probe)
    return None


def _read_only_file_system(directory: str) -> bool:
    """True when ``directory`` is on a file system mounted read-only."""
    if not hasattr(os, 'statvfs'):
        return False
    try:
        return bool(os.statvfs(directory).f_flag & os.ST_RDONLY)
    except OSError:
        return False


#: ``errno`` values of a write failure that every further write to the same
#: place will meet too (the disk or quota is full, the file system is
#: read-only, a file size limit): a batch should stop, not go on.
FATAL_WRITE_ERRNOS = frozenset(
    number for number in (errno.ENOSPC, getattr(errno, 'EDQUOT', None),
                          errno.EROFS, errno.EFBIG) if number is not None)


def is_fatal_write_error(error: BaseException) -> bool:
    """Whether ``error`` is an OSError of :data:`FATAL_WRITE_ERRNOS`."""
    return (isinstance(error, OSError)
            and error.errno in FATAL_WRITE_ERRNOS)


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


def flush_file(path: str) -> None:
    """Make the written file ``path`` durable (``fsync``).

    Raises:
        OSError: the sync failed.
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def commit_file(temporary: str, path: str) -> None:
    """Flush ``temporary`` to disk (:func:`flush_file`), give it the usual
    permissions (0o666 less the umask) and rename it to ``path``,
    replacing any file there.

    Raises:
        OSError: the rename or the sync failed (``temporary`` is kept for
            the caller's clean-up).
    """
    flush_file(temporary)
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
            (its ``filename`` is ``path``, never the temporary file).
    """
    temporary = temporary_path(path)
    binary = 'b' in mode
    try:
        stream = open(temporary, 'xb' if binary else 'x', **open_args)
    except OSError as error:
        name_output(error, path, temporary)
        raise
    try:
        with stream:
            yield stream
        commit_file(temporary, path)
    except BaseException as error:
        remove_quietly(temporary)
        if isinstance(error, OSError):
            name_output(error, path, temporary)
        raise


def name_output(error: OSError, path: str, temporary: str) -> None:
    """Make ``error`` name the output ``path`` where it named the hidden
    ``temporary`` file or no file (a failed write names none), so that the
    message a user reads names the file they asked for."""
    if error.errno is not None and error.filename in (None, temporary):
        error.filename = path


def write_atomic(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_file`)."""
    with atomic_file(path) as stream:
        stream.write(data)


class AtomicOutput:
    """An output written under a hidden temporary name: open, then either
    committed (moved into place by :meth:`commit`) or aborted (deleted by
    :meth:`abort`); as a context manager, leaving the block without
    :meth:`commit` aborts.

    Subclasses create the temporary output, then call this ``__init__``;
    they write after :meth:`_check_open`, implement :meth:`_finish` (move
    it into place) and :meth:`_discard` (delete it), and set :attr:`error`
    to their module's :class:`common.errors.ToolError` subclass, which
    every one-line problem is raised as.

    Attributes:
        path: the destination.
    """
    error = ToolError

    def __init__(self, path: str):
        self.path = path
        self._state = 'open'

    def _check_open(self, action: str = 'write') -> None:
        """``error`` unless the output is still open for writing."""
        if self._state != 'open':
            raise self.error(f'{self.path}: {action} after the writer was '
                             f'{self._state}')

    def commit(self) -> str:
        """Move the output into place; a second call does nothing.
        Returns ``path``.

        Raises:
            error: the writer was aborted.
            OSError: the disk is full... (the temporary output is deleted).
        """
        if self._state == 'committed':
            return self.path
        self._check_open('commit')
        try:
            self._finish()
        except BaseException:
            self.abort()
            raise
        self._state = 'committed'
        return self.path

    def abort(self) -> None:
        """Delete the temporary output; does nothing after :meth:`commit`
        or a previous abort."""
        if self._state != 'open':
            return
        self._state = 'aborted'
        self._discard()

    def _finish(self) -> None:
        raise NotImplementedError

    def _discard(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> bool:
        self.abort()
        return False


class AtomicTextFile(AtomicOutput):
    """A text file written piece by piece, atomically
    (:class:`AtomicOutput`): the pieces go to a hidden temporary file beside
    ``path`` (UTF-8), which :meth:`commit` syncs and renames to ``path``
    (replacing a file there) and :meth:`abort` deletes.  Subclasses write
    to ``self._file``.

    Attributes:
        path: the destination.
        temp_path: the temporary file.
    """

    def __init__(self, path: str, newline: Optional[str] = '\n'):
        """Create the temporary file.

        Raises:
            error: the folder is missing or not writable, or ``path`` is
                a folder.
        """
        problem = output_problem(path)
        if problem:
            raise self.error(problem)
        self.temp_path = temporary_path(path)
        try:
            self._file = open(self.temp_path, 'x', encoding='utf-8',
                              newline=newline)
        except OSError as e:
            raise self.error(f'{path}: cannot create the file '
                             f'({e.strerror}); choose another path') from e
        super().__init__(path)

    def _finish(self) -> None:
        self._file.close()
        commit_file(self.temp_path, self.path)

    def _discard(self) -> None:
        try:
            self._file.close()
        except OSError:
            pass
        remove_quietly(self.temp_path)
