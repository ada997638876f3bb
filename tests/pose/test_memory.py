"""Memory of batched video detection on the CPU: bounded whatever the batch.

``video_pose_detector.py --batch B`` sends B frames through the network
together; their maps are then upsampled to the frame size and decoded one
frame at a time (:meth:`pose.detector.PoseDetector.predict`), so the peak
memory must not grow with B by more than what the batch itself holds at the
network's resolution.  Each run is a child process
(:func:`tests.peak_memory.peak_growth`: how far its peak resident memory
rose above what the imports took) with the slim networks (plumbing: the
full-size maps, whose memory this is about, have the same 19 + 38 channels
at any network width).

The frames are 1280 x 720, so one frame's maps at image resolution
dominate (the 18 joint maps the CPU path makes, 63 MB; all 57 would be
210 MB), and the network input is 64 pixels high, so the network's own
activations are small: keeping every frame's full-size maps of a batch of
8 (as the detector once did: 0.87 GB peak at ``--batch 1``, 8.94 GB at
``--batch 40``) shows as 7 * 210 MB more, and even keeping one extra
frame's joint maps exceeds the margin.
"""
import sys

import pytest

import entity
from pose.keypoints import read_keypoint_lines
from tests.conftest import SLIM_DIVISOR
from tests.peak_memory import peak_growth
from tests.video_clips import make_clip

WIDTH, HEIGHT = 1280, 720
FRAMES = BATCH = 8
SIZE = 64

#: MiB of one frame's final maps (heatmaps then PAFs, float32) at the
#: network's output resolution (``SIZE`` high, 1/8 of the padded input)
#: and at the frame's (``WIDTH`` x ``HEIGHT``), and of one BGR frame.
CHANNELS = entity.NUM_HEATMAPS + entity.NUM_PAF_CHANNELS
_STRIDE = entity.NETWORK_STRIDE
_SCALED_WIDTH = round(WIDTH * SIZE / HEIGHT)
NETWORK_MAPS_MB = (CHANNELS * 4 * (SIZE // _STRIDE)
                   * -(-_SCALED_WIDTH // _STRIDE)) / 2 ** 20
FULL_MAPS_MB = CHANNELS * 4 * WIDTH * HEIGHT / 2 ** 20
FRAME_MB = WIDTH * HEIGHT * 3 / 2 ** 20
#: Allowance for allocator and measurement noise: a quarter of one frame's
#: full-size maps, so a single extra frame's maps held fails the test.
MARGIN_MB = FULL_MAPS_MB / 4

#: The child's set-up: the slim networks (as conftest's ``SLIM_MAIN``), then
#: the command.
SLIM_VIDEO_COMMAND = f"""\
from models import spec
for name, table in list(spec.SPECS.items()):
    slim = spec.narrowed(table, {SLIM_DIVISOR})
    setattr(spec, name.upper(), slim)
    spec.SPECS[name] = slim
import video_pose_detector
"""

pytestmark = pytest.mark.skipif(not sys.platform.startswith('linux'),
                                reason='reads /proc/self/status')


def run_growth(weights, clip, out, batch):
    """MiB the peak resident memory of the video command at ``--batch
    batch`` rose above the memory in use after the imports."""
    argv = ['--weights', weights, '--size', SIZE, '--video', clip,
            '--json', out, '--no-video', '--batch', batch]
    call = f'assert video_pose_detector.main({list(map(str, argv))!r}) == 0'
    growth, error = peak_growth(SLIM_VIDEO_COMMAND, call, timeout=300)
    assert error is None, error
    return growth


def test_batch_does_not_keep_every_frames_full_size_maps(tmp_path,
                                                         slim_weights):
    clip = make_clip(tmp_path / 'hd.avi', frames=FRAMES,
                     size=(WIDTH, HEIGHT))
    weights = slim_weights('posenet')
    one = run_growth(weights, clip, tmp_path / 'b1.jsonl', 1)
    many = run_growth(weights, clip, tmp_path / 'b8.jsonl', BATCH)
    assert ((tmp_path / 'b1.jsonl').read_text()
            == (tmp_path / 'b8.jsonl').read_text())          # same output
    records = read_keypoint_lines(str(tmp_path / 'b8.jsonl'))  # reads back
    assert [r['frame'] for r in records] == list(range(FRAMES))
    allowed = BATCH * (NETWORK_MAPS_MB + FRAME_MB) + MARGIN_MB
    assert many - one < allowed, (
        f'peak growth {many:.0f} MiB at --batch {BATCH}, {one:.0f} MiB at '
        f'--batch 1: {many - one:.0f} MiB more, allowed {allowed:.0f} MiB '
        f'(one frame\'s full-size maps are {FULL_MAPS_MB:.0f} MiB)')
