"""The README's Python examples run as written, in order, in one session.

They run in a folder laid out as the README assumes (``models/*.npz``,
``data/grace_hopper.jpg``, a ``clip.mp4``), with slim synthesized weights
in place of CMU's and a small copy of the portrait: the examples are about
the API, not the numbers.
"""
import pathlib
import re
import shutil

import cv2
import pytest

from tests.video_clips import make_clip

ROOT = pathlib.Path(__file__).resolve().parent.parent
WEIGHTS = {'posenet': 'coco_posenet.npz', 'facenet': 'facenet.npz',
           'handnet': 'handnet.npz'}


def python_blocks():
    text = (ROOT / 'README.md').read_text()
    return re.findall(r'^```python\n(.*?)^```', text, re.S | re.M)


def test_the_readme_has_python_examples():
    assert len(python_blocks()) >= 4


def test_the_python_examples_run(tmp_path, monkeypatch, slim_networks,
                                 slim_weights):
    (tmp_path / 'models').mkdir()
    for network, name in WEIGHTS.items():
        shutil.copy(slim_weights(network), tmp_path / 'models' / name)
    (tmp_path / 'data').mkdir()
    portrait = cv2.imread(str(ROOT / 'data' / 'grace_hopper.jpg'))
    cv2.imwrite(str(tmp_path / 'data' / 'grace_hopper.jpg'),  # fewer crops
                cv2.resize(portrait, (64, 75), interpolation=cv2.INTER_AREA))
    make_clip(tmp_path / 'clip.mp4', frames=4, size=(96, 64))
    monkeypatch.chdir(tmp_path)
    session = {}
    for number, block in enumerate(python_blocks(), start=1):
        try:
            exec(compile(block, f'README.md python block {number}', 'exec'),
                 session)
        except Exception as error:      # name the block that failed
            pytest.fail(f'README python block {number} failed: {error!r}\n'
                        f'{block}')
    assert (tmp_path / 'pose.png').is_file()
    assert (tmp_path / 'clip.jsonl').is_file()
