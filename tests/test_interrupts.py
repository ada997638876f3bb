"""Ctrl-C or SIGTERM at any moment of a command, start-up included: one
line, exit status 130 / 143, no traceback, nothing left behind."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from common.errors import Interrupted

ROOT = Path(__file__).resolve().parent.parent
#: Bit of a signal in /proc/PID/status's SigCgt mask.
CAUGHT = 'SigCgt:'


def catches(pid: int, signum: int) -> bool:
    """Whether process ``pid`` has a handler for ``signum`` (SIGTERM has
    none until the command installs its own)."""
    try:
        status = Path(f'/proc/{pid}/status').read_text()
    except OSError:
        return False
    mask = next(line for line in status.splitlines()
                if line.startswith(CAUGHT)).split()[1]
    return bool(int(mask, 16) >> (signum - 1) & 1)


def interrupted(argv, signum, folder):
    """``(exit status, stderr lines)`` of a command signalled as soon as
    it handles signals itself, that is, while it is still importing."""
    process = subprocess.Popen([sys.executable, *argv], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    deadline = time.monotonic() + 30
    while not catches(process.pid, signal.SIGTERM):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.005)
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    return process.returncode, err.splitlines()


COMMANDS = {
    'pose_detector.py': lambda d: ['posenet', d / 'w.npz', '--img',
                                   d / 'a.jpg', '--out', d / 'out'],
    'video_pose_detector.py': lambda d: ['--video', d / 'a.mp4', '--json',
                                         d / 'a.jsonl'],
    'convert_model.py': lambda d: ['posenet', d / 'a.caffemodel',
                                   d / 'w.npz'],
    'fms_analyzer.py': lambda d: ['analyze', d / 'a.mp4', '--test',
                                  'deep_squat', '--view', 'side', '--out',
                                  d / 'out'],
}


@pytest.mark.parametrize('signum', [signal.SIGINT, signal.SIGTERM],
                         ids=['SIGINT', 'SIGTERM'])
@pytest.mark.parametrize('script', COMMANDS)
def test_a_signal_while_starting_is_one_line(tmp_path, script, signum):
    argv = [script, *map(str, COMMANDS[script](tmp_path))]
    status, lines = interrupted(argv, signum, tmp_path)
    assert status == 128 + signum
    assert len(lines) == 1, lines
    assert lines[0].startswith(f'{script}: error: interrupted')
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize('stop', [KeyboardInterrupt,
                                  lambda: Interrupted(signal.SIGTERM)],
                         ids=['SIGINT', 'SIGTERM'])
def test_a_signal_while_the_weights_load_leaves_no_file(tmp_path, capsys,
                                                        monkeypatch, stop):
    """The networks (face and hands included) load before any output is
    opened, so a stop then leaves nothing to clean up."""
    import video_pose_detector
    from tests.video_clips import make_clip

    def load(options):
        assert options.face and options.hands
        raise stop()
    monkeypatch.setattr('pose.video_pipeline.load_detectors', load)
    clip = make_clip(tmp_path / 'clip.avi', frames=3)
    status = video_pose_detector.main(
        ['--video', clip, '--face', '--hands', '--json',
         str(tmp_path / 'clip.jsonl'), '--out', str(tmp_path / 'pose.mp4')])
    lines = capsys.readouterr().err.splitlines()
    assert status in (130, 143) and len(lines) == 1
    assert 'interrupted' in lines[0]
    assert os.listdir(tmp_path) == ['clip.avi']
