"""Checks shared by the command-line tests."""
import hashlib
from pathlib import Path

import numpy as np

import convert_model

ERROR_PREFIX = 'convert_model.py: error: '


def listing(path):
    """Every file and folder under ``path`` (hidden ones too; or the file
    itself), by path, with a hash of each file's bytes: equal listings
    before and after a command mean it changed nothing there."""
    path = Path(path)
    paths = [path] if path.is_file() else sorted(path.rglob('*'))
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            if p.is_file() else 'folder' for p in paths}


def assert_refused(capsys, argv, folder, *fragments):
    """``main(argv)`` exits with 2, writes one error line naming the problem
    (every fragment), and leaves ``folder`` exactly as it was."""
    before = listing(folder)
    status = convert_model.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ''
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(ERROR_PREFIX), lines[0]
    for fragment in fragments:
        assert fragment in lines[0]
    assert listing(folder) == before
    return lines[0]


def read_npz(path):
    """Every array of an .npz, loaded without pickles."""
    with np.load(path, allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


def assert_same_npz(got_path, want_path):
    """The two .npz files hold the same keys and bit-identical arrays."""
    got, want = read_npz(got_path), read_npz(want_path)
    assert set(got) == set(want)
    wrong = [key for key in want
             if got[key].dtype != want[key].dtype
             or got[key].shape != want[key].shape
             or not np.array_equal(got[key], want[key])]
    assert wrong == []
