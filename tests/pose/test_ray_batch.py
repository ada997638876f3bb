"""The batch on a local Ray instance: the slim networks in two CPU workers,
clips of a few frames, real worker processes killed by SIGKILL.

One Ray instance serves the module.  The workers are separate processes, so
the slim layer tables are installed there by the ``make_detectors`` functions
below (shipped by value), as ``tests/conftest.py`` does in this process.
"""
import functools
import glob
import json
import os
import signal
import sys
import threading
import time

import pytest

from models import spec as specs
from pose.batch import (DONE, FAILED, STOPPED, BatchRequest, LocalRunner,
                        run_batch)
from pose.options import VideoOptions, load_detectors
from tests.conftest import SLIM_SPECS
from tests.fixtures.detectors import before_each_batch
from tests.video_clips import count_frames, make_clip

ray = pytest.importorskip(
    'ray', reason='Ray is not installed (pip install -r requirements-ray.txt)')

from pose import ray_batch  # noqa: E402
from pose.ray_batch import RayBatchError, RayRunner  # noqa: E402

#: Network input height of the slim runs.
SIZE = 64
#: Frames of each clip.
FRAMES = 12
#: Width of the clip whose frames kill the worker processing them.
DEADLY_WIDTH = 80
#: Seconds the slowed networks sleep per frame (a video lasts ~1 s, so a
#: worker can be killed inside one).
FRAME_SLEEP = 0.08


# -- make_detectors for the workers (module-level, shipped by value) --------

def slim_detectors(options):
    """The slim networks (installed in the worker process first)."""
    for name, table in SLIM_SPECS.items():
        setattr(specs, name.upper(), table)
        specs.SPECS[name] = table
    return load_detectors(options)


def slow_detectors(options, marks):
    """The slim networks, sleeping per frame; the first frame of each video
    writes ``marks/<pid>`` (this process is inside a video)."""
    detectors = slim_detectors(options)

    def slow(images):
        open(os.path.join(marks, str(os.getpid())), 'w').close()
        time.sleep(FRAME_SLEEP * len(images))
    before_each_batch(detectors, slow)
    return detectors


def deadly_detectors(options):
    """The slim networks, whose process dies (SIGKILL, as the kernel's OOM
    killer does it) on a frame :data:`DEADLY_WIDTH` pixels wide."""
    detectors = slim_detectors(options)

    def deadly(images):
        if images and images[0].shape[1] == DEADLY_WIDTH:
            os.kill(os.getpid(), signal.SIGKILL)
    before_each_batch(detectors, deadly)
    return detectors


# -- fixtures ----------------------------------------------------------------

@pytest.fixture(scope='module')
def cluster():
    """One local Ray instance with two CPUs for the module."""
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             logging_level='ERROR')
    yield ray
    ray.shutdown()


@pytest.fixture
def options(slim_weights):
    return VideoOptions(weights=slim_weights('posenet'), size=SIZE)


def make_videos(folder, count, deadly=None):
    """``count`` clips ``v0.avi``...; clip ``deadly`` is
    :data:`DEADLY_WIDTH` wide."""
    os.makedirs(folder, exist_ok=True)
    for i in range(count):
        size = (DEADLY_WIDTH if i == deadly else 64, 48)
        make_clip(os.path.join(folder, f'v{i}.avi'), frames=FRAMES,
                  size=size)
    return str(folder)


def manifest_lines(out):
    """The video lines of ``out``'s manifest (its header left out)."""
    with open(os.path.join(out, 'batch.jsonl')) as manifest:
        lines = [json.loads(line) for line in manifest if line.strip()]
    return [line for line in lines if 'name' in line]


def keypoint_lines(out, name):
    with open(os.path.join(out, f'{name}.jsonl')) as lines:
        return lines.read().splitlines()


def hidden_temporaries(out):
    return glob.glob(os.path.join(out, '**', '.*.part*'), recursive=True)


# -- tests -------------------------------------------------------------------

def test_same_keypoints_as_the_local_runner(cluster, options, tmp_path):
    videos = make_videos(tmp_path / 'videos', 5)
    runner = RayRunner('local', options, workers=2,
                       make_detectors=slim_detectors)
    summary = run_batch(BatchRequest(videos, str(tmp_path / 'ray'), options),
                        runner, progress=False)
    local = run_batch(BatchRequest(videos, str(tmp_path / 'here'), options),
                      LocalRunner(options, progress=False), progress=False)
    assert summary.exit_status() == local.exit_status() == 0
    lines = manifest_lines(tmp_path / 'ray')
    assert sorted(line['name'] for line in lines) == [f'v{i}' for i in
                                                      range(5)]
    assert {line['status'] for line in lines} == {DONE}
    assert {line['attempts'] for line in lines} == {1}
    assert len({line['worker'] for line in lines}) == 2   # both worked
    assert all(line['worker'].startswith(ray.util.get_node_ip_address())
               for line in lines)
    for i in range(5):
        ours = keypoint_lines(tmp_path / 'ray', f'v{i}')
        assert len(ours) == FRAMES
        assert ours == keypoint_lines(tmp_path / 'here', f'v{i}')
    assert len(runner.load_seconds) == 2


def wait_for_mark(marks, timeout=30.0):
    """The pid of the first worker process that marks itself inside a
    video (see :func:`slow_detectors`), or None after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = os.listdir(marks)
        if pids:
            return int(pids[0])
        time.sleep(0.02)
    return None


def kill_first_busy_worker(marks, killed):
    """SIGKILL the first worker process that marks itself inside a video."""
    pid = wait_for_mark(marks)
    if pid is not None:
        killed.append(pid)
        os.kill(pid, signal.SIGKILL)


def test_a_worker_killed_inside_a_video(cluster, options, tmp_path):
    videos = make_videos(tmp_path / 'videos', 4)
    marks = tmp_path / 'marks'
    marks.mkdir()
    out = str(tmp_path / 'out')
    runner = RayRunner('local', options, workers=2, make_detectors=(
        functools.partial(slow_detectors, marks=str(marks))))
    killed = []
    killer = threading.Thread(target=kill_first_busy_worker,
                              args=(str(marks), killed))
    killer.start()
    summary = run_batch(BatchRequest(videos, out, options), runner,
                        progress=False)
    killer.join()
    assert killed and summary.exit_status() == 0
    lines = manifest_lines(out)
    assert sorted(line['name'] for line in lines) == [f'v{i}' for i in
                                                      range(4)]
    assert {line['status'] for line in lines} == {DONE}
    assert sorted(line['attempts'] for line in lines) == [1, 1, 1, 2]
    assert f'pid {killed[0]}' not in {line['worker'] for line in lines}
    assert runner.deaths == 1
    for i in range(4):
        assert len(keypoint_lines(out, f'v{i}')) == FRAMES
        assert count_frames(os.path.join(out, f'v{i}_pose.mp4'))[0] == FRAMES
    assert hidden_temporaries(out) == []


def test_a_video_that_kills_every_worker_fails_alone(cluster, options,
                                                     tmp_path):
    videos = make_videos(tmp_path / 'videos', 3, deadly=1)
    out = str(tmp_path / 'out')
    runner = RayRunner('local', options, workers=2, retries=1,
                       make_detectors=deadly_detectors)
    summary = run_batch(BatchRequest(videos, out, options), runner,
                        progress=False)
    assert summary.exit_status() != 0
    by_name = {line['name']: line for line in manifest_lines(out)}
    assert by_name['v1']['status'] == FAILED
    assert by_name['v1']['attempts'] == 2
    reason = by_name['v1']['reason']
    assert reason.startswith('the worker processing it died 2 times: ')
    assert '\n' not in reason
    assert by_name['v0']['status'] == by_name['v2']['status'] == DONE
    assert len(keypoint_lines(out, 'v2')) == FRAMES
    assert not os.path.exists(os.path.join(out, 'v1.jsonl'))
    assert hidden_temporaries(out) == []


def test_more_workers_than_the_cluster_has(cluster, options):
    with pytest.raises(RayBatchError, match='3 worker.*2 CPU'):
        RayRunner('local', options, workers=3)


def test_without_ray(monkeypatch, options):
    monkeypatch.setitem(sys.modules, 'ray', None)
    with pytest.raises(RayBatchError) as error:
        RayRunner('local', options)
    assert str(error.value) == ('--ray needs Ray: pip install -r '
                                'requirements-ray.txt')


def test_an_address_that_does_not_answer(monkeypatch, options):
    monkeypatch.setattr(ray, 'is_initialized', lambda: False)
    monkeypatch.setattr(ray_batch, 'CONNECT_TIMEOUT_SECONDS', 2.0)
    with pytest.raises(RayBatchError) as error:
        RayRunner('127.0.0.1:1', options)
    message = str(error.value)
    assert message.startswith('--ray 127.0.0.1:1: cannot connect')
    assert 'ray start --head' in message and '\n' not in message


def test_a_stopped_batch_keeps_nothing_half_done(cluster, options,
                                                 tmp_path):
    videos = make_videos(tmp_path / 'videos', 4)
    marks = tmp_path / 'marks'
    marks.mkdir()
    out = str(tmp_path / 'out')
    stop = threading.Event()
    runner = RayRunner('local', options, workers=2, stop=stop,
                       make_detectors=functools.partial(slow_detectors,
                                                        marks=str(marks)))
    stopper = threading.Thread(target=lambda: (wait_for_mark(str(marks)),
                                               stop.set()))
    stopper.start()
    summary = run_batch(BatchRequest(videos, out, options), runner,
                        progress=False, stop=stop)
    stopper.join()
    assert summary.stopped_by == 'stop' and summary.exit_status() == 130
    lines = manifest_lines(out)
    # Every video in hand when the batch stopped is recorded: stopped (its
    # outputs deleted), or done if it ended first; the others never start.
    statuses = [line['status'] for line in lines]
    assert STOPPED in statuses and set(statuses) <= {STOPPED, DONE}
    assert 1 <= len(lines) <= 2
    assert summary.counts['not started'] == 4 - len(lines)
    for line in lines:
        outputs = glob.glob(os.path.join(out, f'{line["name"]}*'))
        if line['status'] == STOPPED:
            assert outputs == []
        else:
            keypoints = os.path.join(out, f'{line["name"]}.jsonl')
            assert len(open(keypoints).read().splitlines()) == FRAMES
    assert hidden_temporaries(out) == []
