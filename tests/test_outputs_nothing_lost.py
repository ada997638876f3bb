"""Nothing lost, whatever the output paths: every output option of every
command, pointed at one of its inputs, at the weights, at a folder or at a
place where nothing can be written, is refused before any work: exit
status 2, nothing on stdout, exactly one line on stderr, and every file as
it was (hashes before and after).

Each run is an in-process ``main([...])``; the work each command would do
first (load the networks, open the video, read the weights or the scores)
fails the test if it is reached.  Where nothing can be written: ``/proc``,
where even root cannot create a file (``os.access`` says yes to root
everywhere, so the commands try for real).
"""
import os
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

import convert_model
import fms_analyzer
import pose_detector
import video_pose_detector
from tests.cli_checks import listing
from tests.video_clips import make_clip

#: A folder where nobody can create files, root included.
UNWRITABLE = '/proc'
needs_proc = pytest.mark.skipif(
    not sys.platform.startswith('linux') or not os.path.isdir(UNWRITABLE),
    reason='needs /proc')

PROGS = {'pose': pose_detector, 'video': video_pose_detector,
         'convert': convert_model, 'fms': fms_analyzer}


class Files:
    """The inputs of every command, in ``root``."""

    def __init__(self, root: Path, weights: str):
        self.root, self.weights = root, weights
        self.image = root / 'a.jpg'
        img = np.random.default_rng(0).integers(0, 256, (40, 60, 3), np.uint8)
        assert cv2.imwrite(str(self.image), img)
        self.clip = Path(make_clip(root / 'clip.avi', frames=3))
        self.caffemodel = root / 'net.caffemodel'
        self.caffemodel.write_bytes(b'weights to convert')
        self.coach = root / 'coach.csv'
        self.coach.write_text('subject,test,side,score\ns1,deep_squat,,3\n')
        self.results = root / 'results'
        self.results.mkdir()
        self.folder = root / 'folder.json'
        self.folder.mkdir()


#: What an output option is pointed at.  Options whose value is a folder
#: are not tried with a folder, and options of commands without weights
#: not with the weights.
FILE_TARGETS = ('input', 'weights', 'folder', 'unwritable')
FOLDER_TARGETS = ('input', 'weights', 'unwritable')


def argv(f: Files, command: str, option: str, out) -> list:
    """The command line of ``command`` with ``out`` for ``option``."""
    pose = ['posenet', f.weights, '--img', f.image, '--size', '64']
    video = ['--weights', f.weights, '--size', '64', '--video', f.clip]
    fms = ['--auto', f.results, '--coach', f.coach, '--out', out]
    return [str(a) for a in {
        ('pose', '--out'): pose + ['--out', out],
        ('pose', '--coco-json'): pose + ['--out', f.root / 'o',
                                         '--coco-json', out],
        ('pose', '--maps'): pose + ['--out', f.root / 'o', '--maps', out],
        ('video', '--out'): video + ['--out', out],
        ('video', '--json'): video + ['--no-video', '--json', out],
        ('video', '--write-json'): video + ['--no-video', '--write-json',
                                            out],
        ('video', '--csv'): video + ['--no-video', '--csv', out],
        ('video', '--out-dir'): ['--weights', f.weights, '--size', '64',
                                 '--videos', f.clip, '--out-dir', out],
        ('convert', 'OUT'): ['posenet', f.caffemodel, out],
        ('fms', 'analyze --out'): [
            'analyze', f.clip, '--test', 'deep_squat', '--view', 'side',
            '--weights', f.weights, '--size', '64', '--out', out],
        ('fms', 'agreement --out'): ['agreement'] + fms,
        ('fms', 'calibrate --out'): ['calibrate'] + fms,
    }[command, option]]


#: (command, output option) -> the targets it is tried with.
OPTIONS = {
    ('pose', '--out'): FOLDER_TARGETS,
    ('pose', '--coco-json'): FILE_TARGETS,
    ('pose', '--maps'): FOLDER_TARGETS,
    ('video', '--out'): FILE_TARGETS,
    ('video', '--json'): FILE_TARGETS,
    ('video', '--write-json'): FOLDER_TARGETS,
    ('video', '--csv'): FILE_TARGETS,
    ('video', '--out-dir'): FOLDER_TARGETS,
    ('convert', 'OUT'): ('input', 'folder', 'unwritable'),
    ('fms', 'analyze --out'): FOLDER_TARGETS,
    ('fms', 'agreement --out'): ('input', 'unwritable'),
    ('fms', 'calibrate --out'): ('input', 'folder', 'unwritable'),
}

#: The input each command is pointed at for the target 'input'.
INPUT = {'pose': 'image', 'video': 'clip', 'convert': 'caffemodel',
         'fms': 'coach'}


def target(f: Files, command: str, option: str, kind: str) -> str:
    if kind == 'input':
        return str(f.clip if option == 'analyze --out'
                   else getattr(f, INPUT[command]))
    if kind == 'weights':
        return f.weights
    if kind == 'folder':
        return str(f.folder)
    folder_option = (OPTIONS[command, option] is FOLDER_TARGETS
                     or option == 'agreement --out')
    suffix = '' if folder_option else '.out'
    return f'{UNWRITABLE}/nothing-lost{suffix}'


def never(what):
    def reached(*args, **kwargs):
        raise AssertionError(f'{what} before the outputs were checked')
    return reached


@pytest.fixture
def weights(slim_weights):
    """The slim body weights (made before ``no_work``, which forbids
    reading weights)."""
    return slim_weights('posenet')


@pytest.fixture
def no_work(monkeypatch, weights):
    """The first work of each command fails the test if reached."""
    monkeypatch.setattr(pose_detector, 'load_detectors',
                        never('the networks were loaded'))
    monkeypatch.setattr('pose.video_pipeline.FrameReader',
                        never('the video was opened'))
    monkeypatch.setattr('pose.video_pipeline.load_detectors',
                        never('the networks were loaded'))
    monkeypatch.setattr('models.convert.read_weights',
                        never('the weights were read'))
    monkeypatch.setattr('pose.api.run_video', never('the video was run'))
    monkeypatch.setattr(fms_analyzer, 'load_trials',
                        never('the scores were read'))


CASES = [pytest.param(command, option, kind,
                      id=f'{command} {option} -> {kind}',
                      marks=[needs_proc] if kind == 'unwritable' else [])
         for (command, option), kinds in OPTIONS.items() for kind in kinds]


@pytest.mark.parametrize('command, option, kind', CASES)
def test_an_output_that_would_lose_something_is_refused_first(
        tmp_path, capsys, weights, no_work, command, option, kind):
    f = Files(tmp_path, weights)
    out = target(f, command, option, kind)
    before = {**listing(tmp_path), **listing(Path(f.weights))}
    status = PROGS[command].main(argv(f, command, option, out))
    stdout, stderr = capsys.readouterr()
    assert status == 2, stderr
    assert stdout == ''
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f'{PROGS[command].PROG}: error: '), lines[0]
    assert (UNWRITABLE if kind == 'unwritable' else out) in lines[0]
    assert {**listing(tmp_path), **listing(Path(f.weights))} == before


@needs_proc
def test_agreement_into_a_read_only_place_is_refused_before_work(
        tmp_path, capsys):
    """Case 13: as root ``os.access`` says yes everywhere; the folder is
    tried for real, before the scores are read and the report printed."""
    results = tmp_path / 'results'
    results.mkdir()
    coach = tmp_path / 'coach.csv'
    coach.write_text('subject,test,side,score\ns1,deep_squat,,3\n')
    out = f'{UNWRITABLE}/agreement'
    status = fms_analyzer.main(['agreement', '--auto', str(results),
                                '--coach', str(coach), '--out', out])
    stdout, stderr = capsys.readouterr()
    assert status == 2 and stdout == ''
    assert stderr.splitlines() == [
        f'fms_analyzer.py: error: {out}/agreement.json: no file can be '
        f'created in the folder {UNWRITABLE} (No such file or directory); '
        f'choose another output path']
