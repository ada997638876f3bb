"""Tests of pose.video_io: reading clips (odd, damaged, rotated, partial),
background threads, atomic writers, output names.

Every clip is made in the tests (see tests/video_clips.py).
"""
import os
import sys
import time

import cv2
import numpy as np
import pytest

from pose import video_io
from pose.video_io import (FrameReader, VideoError, VideoWriter,
                           default_output_path)
from tests.video_clips import (JPEG_SOI, count_frames,
                               damage_mjpeg_frame,
                               frame_level, full_disk_writer, grey, level,
                               make_clip, set_mp4_rotation)

def read_all(source, **kwargs):
    """``(reader, frames)`` after iterating a whole FrameReader."""
    with FrameReader(source, **kwargs) as reader:
        frames = list(reader)
    return reader, frames


def listing(folder):
    return sorted(os.listdir(folder))


def without_pyav(monkeypatch):
    """Make ``import av`` fail, so MP4s go to OpenCV's encoder."""
    monkeypatch.setitem(sys.modules, 'av', None)


class FakeCapture:
    """A stand-in for cv2.VideoCapture (cameras, unknown frame counts,
    errors): ``outcomes`` lists what successive reads return: an image, None
    for a failed read, or an exception to raise; reads past the list fail."""

    def __init__(self, outcomes, fps=0.0, frame_count=0, opened=True):
        self.outcomes = list(outcomes)
        self.props = {cv2.CAP_PROP_FPS: fps,
                      cv2.CAP_PROP_FRAME_COUNT: frame_count,
                      cv2.CAP_PROP_ORIENTATION_AUTO: 0,
                      cv2.CAP_PROP_ORIENTATION_META: 0}
        self.opened = opened
        self.released = False

    def isOpened(self):
        return self.opened

    def get(self, prop):
        return self.props.get(prop, 0.0)

    def set(self, prop, value):
        return False

    def read(self):
        if not self.outcomes:
            return False, None
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome is not None, outcome

    def grab(self):
        return self.read()[0]

    def release(self):
        self.released = True


@pytest.fixture
def fake_capture(monkeypatch):
    """``install(capture)``: FrameReader opens ``capture`` for any source."""
    def install(capture):
        monkeypatch.setattr(video_io, '_new_capture', lambda source: capture)
        return capture
    return install


# ---------------------------------------------------------------------------
# FrameReader: whole clips
# ---------------------------------------------------------------------------


@pytest.mark.parametrize('name,size,fps', [
    ('small.avi', (64, 48), 10.0),
    ('wide.mp4', (320, 180), 25.0),
    ('portrait.mp4', (90, 160), 29.97),
    ('portrait.mkv', (90, 160), 29.97),
])
def test_reads_every_frame_in_order(tmp_path, name, size, fps):
    path = make_clip(tmp_path / name, frames=12, size=size, fps=fps)
    reader, frames = read_all(path)
    info = reader.info
    assert (info.width, info.height) == size
    assert info.fps == pytest.approx(fps, abs=1e-3) and info.fps_known
    assert info.frame_count == 12 and info.rotation == 0
    assert [f.index for f in frames] == list(range(12))
    assert [f.time for f in frames] == pytest.approx(
        [i / info.fps for i in range(12)])
    assert [frame_level(f.image) for f in frames] == list(range(12))
    assert all(f.image.shape == (size[1], size[0], 3)
               and f.image.dtype == np.uint8 for f in frames)
    assert (reader.read, reader.failed, reader.missing) == (12, 0, 0)
    assert reader.expected_frames == 12


@pytest.mark.parametrize('degrees', [0, 90, 180, 270])
def test_rotation_metadata_is_applied(tmp_path, degrees):
    size = (64, 48)
    stored = grey(size, 0)
    stored[:8, :16] = (0, 0, 255)      # a red patch in the top-left corner
    path = str(tmp_path / 'phone.mp4')
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 10, size)
    for _ in range(3):
        writer.write(stored)
    writer.release()
    set_mp4_rotation(path, degrees)

    reader, frames = read_all(path)
    upright = np.rot90(stored, k=-degrees // 90)     # clockwise
    assert reader.info.rotation == degrees
    assert (reader.info.height, reader.info.width) == upright.shape[:2]
    red = frames[0].image[..., 2] > 128
    expected = upright[..., 2] > 128
    assert frames[0].image.shape == upright.shape
    np.testing.assert_allclose(np.argwhere(red).mean(0),
                               np.argwhere(expected).mean(0), atol=1.0)


# ---------------------------------------------------------------------------
# FrameReader: damaged and unusable input
# ---------------------------------------------------------------------------


def test_undecodable_frame_is_delivered_empty_and_reading_goes_on(tmp_path):
    path = make_clip(tmp_path / 'damaged.avi', frames=20)
    assert damage_mjpeg_frame(path, 10, 'headers') == 20
    reader, frames = read_all(path)
    assert [f.index for f in frames] == list(range(20))
    assert frames[10].image is None and frames[10].time == pytest.approx(1.0)
    good = [f for f in frames if f.image is not None]
    assert [frame_level(f.image) for f in good] == [f.index for f in good]
    assert (reader.read, reader.failed, reader.missing) == (20, 1, 0)


def test_read_frame_numbers_frames_as_the_reader_does(tmp_path):
    """After an undecodable frame, frame N is still the N-th frame read
    (OpenCV's own frame counter lags by one there)."""
    path = make_clip(tmp_path / 'damaged.avi', frames=20)
    damage_mjpeg_frame(path, 10, 'headers')
    for index in (0, 9, 11, 19):
        assert frame_level(video_io.read_frame(str(path), index)) == index
    for index in (10, 20, -1):
        assert video_io.read_frame(str(path), index) is None
    assert video_io.read_frame(str(tmp_path / 'none.avi'), 0) is None


def test_damaged_entropy_data_decodes_garbled_and_is_not_detected(tmp_path):
    """OpenCV conceals such damage: read() succeeds with a garbled image."""
    path = make_clip(tmp_path / 'garbled.avi', frames=20)
    damage_mjpeg_frame(path, 10, 'data')
    reader, frames = read_all(path)
    assert [f.index for f in frames] == list(range(20))
    assert all(f.image is not None for f in frames)
    assert reader.failed == 0


def test_undecodable_first_frame_is_delivered_empty(tmp_path):
    path = make_clip(tmp_path / 'first.avi', frames=5)
    damage_mjpeg_frame(path, 0, 'headers')
    reader, frames = read_all(path)
    assert [f.image is None for f in frames] == [True] + [False] * 4
    assert (reader.info.width, reader.info.height) == (64, 48)
    assert reader.failed == 1


def test_undecodable_last_frame_counts_as_missing_not_failed(tmp_path):
    path = make_clip(tmp_path / 'last.avi', frames=10)
    damage_mjpeg_frame(path, 9, 'headers')
    reader, frames = read_all(path)
    assert [f.index for f in frames] == list(range(9))
    assert (reader.failed, reader.missing) == (0, 1)


def test_truncated_file_ends_early_and_reports_missing_frames(tmp_path):
    path = make_clip(tmp_path / 'cut.avi', frames=20)
    data = open(path, 'rb').read()
    tenth = [i for i in range(len(data)) if data.startswith(JPEG_SOI, i)][10]
    open(path, 'wb').write(data[:tenth])
    reader, frames = read_all(path)
    assert [f.index for f in frames] == list(range(10))
    assert reader.info.frame_count == 20
    assert (reader.failed, reader.missing) == (0, 10)


@pytest.mark.parametrize('content,message', [
    (None, 'no such file'),
    (b'', 'empty'),
    (b'this is a text file, not a video\n', 'not a video'),
    ('dir', 'is a folder, not a video file'),
])
def test_unusable_path_raises_a_clear_error(tmp_path, content, message):
    path = tmp_path / 'clip.mp4'
    if content == 'dir':
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(VideoError, match=message):
        FrameReader(str(path))


def test_video_without_frames_raises(tmp_path):
    path = make_clip(tmp_path / 'none.avi', frames=0)
    with pytest.raises(VideoError, match='no frame'):
        FrameReader(path)


def test_camera_that_cannot_be_opened_raises(fake_capture):
    fake_capture(FakeCapture([], opened=False))
    with pytest.raises(VideoError, match='camera 3 cannot be opened'):
        FrameReader(3)


# ---------------------------------------------------------------------------
# FrameReader: start and end
# ---------------------------------------------------------------------------


@pytest.mark.parametrize('start,end,indices', [
    (0.5, 1.2, range(5, 12)),
    (0.3, None, range(3, 20)),          # 0.3 * 10 is 3.0000000000000004
    (0.25, 0.5, range(3, 5)),           # between frames: the next one
    (0.0, 0.1, range(0, 1)),
    (1.9, 10.0, range(19, 20)),
])
def test_start_and_end_select_frames(tmp_path, start, end, indices):
    path = make_clip(tmp_path / 'clip.avi', frames=20, fps=10)
    reader, frames = read_all(path, start=start, end=end)
    assert [f.index for f in frames] == list(indices)
    assert [frame_level(f.image) for f in frames] == list(indices)
    assert reader.first_index == indices[0]
    assert reader.expected_frames == len(indices) and reader.missing == 0


def test_start_counts_undecodable_frames_before_it(tmp_path):
    path = make_clip(tmp_path / 'clip.avi', frames=20, fps=10)
    damage_mjpeg_frame(path, 3, 'headers')
    reader, frames = read_all(path, start=0.5)
    assert frames[0].index == 5 and frame_level(frames[0].image) == 5
    assert reader.failed == 0


@pytest.mark.parametrize('start,end,message', [
    (2.0, None, 'after the end'),
    (5.0, 6.0, 'after the end'),
    (-1.0, None, 'invalid'),
    (1.0, 1.0, 'after the start'),
    (0.11, 0.12, 'no frame lies between'),
])
def test_bad_start_or_end_raises(tmp_path, start, end, message):
    path = make_clip(tmp_path / 'clip.avi', frames=20, fps=10)
    with pytest.raises(VideoError, match=message):
        FrameReader(path, start=start, end=end)


def test_start_after_the_end_of_a_cut_off_file_says_what_it_holds(
        tmp_path):
    """The container announces 20 frames (2 s) but the file holds 10: a
    start at 1.5 s is not "at or after the end of the video (2 s)"."""
    path = make_clip(tmp_path / 'cut.avi', frames=20)
    data = open(path, 'rb').read()
    tenth = [i for i in range(len(data)) if data.startswith(JPEG_SOI, i)][10]
    open(path, 'wb').write(data[:tenth])
    with pytest.raises(VideoError) as error:
        FrameReader(path, start=1.5)
    message = str(error.value)
    assert 'it holds 10 frame(s) (1 s at 10 fps)' in message
    assert 'announces 20 frames (2 s)' in message and 'cut off' in message


def test_an_infinite_end_is_the_end(tmp_path):
    path = make_clip(tmp_path / 'clip.avi', frames=20, fps=10)
    _, frames = read_all(path, start=1.5, end=float('inf'))
    assert [f.index for f in frames] == list(range(15, 20))


def test_start_beyond_a_stream_of_unknown_length_raises(fake_capture):
    fake_capture(FakeCapture([grey((8, 8), 0)] * 5, fps=10))
    with pytest.raises(VideoError, match='after the end'):
        FrameReader('rtsp://host/stream', start=1.0)


# ---------------------------------------------------------------------------
# FrameReader: unknown frame count and frame rate (cameras, streams)
# ---------------------------------------------------------------------------


def test_unknown_frame_rate_falls_back_and_unknown_count_reads_to_end(
        fake_capture):
    img = grey((8, 6), 1)
    fake_capture(FakeCapture([img, None, None, img, None]))
    reader, frames = read_all(0)
    assert reader.info.fps == video_io.FALLBACK_FPS
    assert not reader.info.fps_known and reader.info.frame_count == 0
    assert [(f.index, f.image is None) for f in frames] == [
        (0, False), (1, True), (2, True), (3, False)]
    assert (reader.read, reader.failed, reader.missing) == (4, 2, 0)


def test_long_run_of_failed_reads_is_the_end(fake_capture):
    img = grey((8, 6), 1)
    run = video_io.MAX_FAILED_RUN + 1
    fake_capture(FakeCapture([img] + [None] * run + [img], fps=25))
    reader, frames = read_all('rtsp://host/stream')
    assert [f.index for f in frames] == [0] and reader.failed == 0


def test_failures_at_the_end_of_the_selection_are_resolved(fake_capture):
    img = grey((8, 6), 1)
    fake_capture(FakeCapture([img, img, None, img], fps=10))
    reader, frames = read_all('rtsp://host/stream', end=0.3)
    assert [(f.index, f.image is None) for f in frames] == [
        (0, False), (1, False), (2, True)]


# ---------------------------------------------------------------------------
# FrameReader: threads
# ---------------------------------------------------------------------------


def test_decoding_runs_ahead_in_a_bounded_queue(tmp_path):
    path = make_clip(tmp_path / 'clip.avi', frames=40)
    with FrameReader(path, queue_size=3) as reader:
        deadline = time.monotonic() + 2
        while reader._queue.qsize() < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)
        assert reader._queue.qsize() == 3
        assert [f.index for f in reader] == list(range(40))


def test_early_stop_and_close_end_the_thread(tmp_path):
    path = make_clip(tmp_path / 'long.avi', frames=300)
    reader = FrameReader(path, queue_size=2)
    for frame in reader:
        if frame.index == 1:
            break
    started = time.monotonic()
    reader.close()
    reader._thread.join(1.0)
    assert not reader._thread.is_alive()
    assert time.monotonic() - started < 1.0
    assert reader.read == 2
    reader.close()                       # idempotent


def test_close_before_iterating_and_iterating_after_close(tmp_path):
    path = make_clip(tmp_path / 'clip.avi', frames=30)
    reader = FrameReader(path, queue_size=2)
    reader.close()
    assert not reader._thread.is_alive()
    assert list(reader) == []
    with pytest.raises(RuntimeError, match='only once'):
        iter(reader)


def test_exception_in_the_thread_is_raised_in_the_consumer(fake_capture):
    img = grey((8, 6), 1)
    capture = fake_capture(FakeCapture([img, img, OSError('disk gone')],
                                       fps=10))
    frames = []
    with pytest.raises(OSError, match='disk gone'):
        with FrameReader('rtsp://host/stream') as reader:
            for frame in reader:
                frames.append(frame.index)
    assert frames == [0, 1]
    assert capture.released and not reader._thread.is_alive()


def test_threads_are_daemons(tmp_path):
    path = make_clip(tmp_path / 'clip.avi', frames=3)
    with FrameReader(path) as reader, VideoWriter(
            str(tmp_path / 'out.avi'), 10, (64, 48)) as writer:
        assert reader._thread.daemon and writer._thread.daemon


# ---------------------------------------------------------------------------
# VideoWriter
# ---------------------------------------------------------------------------


@pytest.mark.parametrize('name,size,fps', [
    ('out.mp4', (64, 48), 10.0),
    ('out.avi', (320, 180), 25.0),
    ('out.mkv', (90, 160), 29.97),
    ('out.mov', (64, 48), 29.97),
])
def test_writer_round_trip(tmp_path, name, size, fps):
    path = str(tmp_path / name)
    with VideoWriter(path, fps, size) as writer:
        for i in range(13):
            writer.write(grey(size, level(i)))
        assert listing(tmp_path)[0].endswith('.part' + os.path.splitext(
            name)[1])
        assert writer.commit() == path
    assert listing(tmp_path) == [name] and writer.written == 13
    count, shape, read_fps = count_frames(path)
    assert count == 13 and shape == (size[1], size[0], 3)
    assert read_fps == pytest.approx(fps, abs=0.01)
    _, frames = read_all(path)
    assert [frame_level(f.image) for f in frames] == list(range(13))


@pytest.mark.parametrize('name', ['odd.mp4', 'odd.avi'])
def test_odd_sizes_are_written_one_pixel_smaller(tmp_path, name):
    path = str(tmp_path / name)
    with VideoWriter(path, 10, (65, 49)) as writer:
        for i in range(3):
            writer.write(grey((65, 49), level(i)))
        writer.commit()
    assert writer.output_size == (64, 48)
    assert count_frames(path)[:2] == (3, (48, 64, 3))


def test_existing_file_is_replaced_only_at_commit(tmp_path):
    path = tmp_path / 'out.mp4'
    path.write_bytes(b'old result')
    writer = VideoWriter(str(path), 10, (64, 48))
    for i in range(4):
        writer.write(grey((64, 48), level(i)))
    time.sleep(0.1)
    assert path.read_bytes() == b'old result'
    writer.commit()
    assert count_frames(str(path))[0] == 4


def stop_with_abort(writer):
    writer.abort()


def stop_with_exception(writer):
    with pytest.raises(KeyError):
        with writer:
            raise KeyError('user error')


def stop_without_commit(writer):
    with writer:
        pass


@pytest.mark.parametrize('stop', [stop_with_abort, stop_with_exception,
                                  stop_without_commit])
def test_writer_that_is_not_committed_leaves_nothing(tmp_path, stop):
    existing = tmp_path / 'out.mp4'
    existing.write_bytes(b'old result')
    writer = VideoWriter(str(existing), 10, (64, 48), queue_size=2)
    for i in range(10):
        writer.write(grey((64, 48), level(i)))
    stop(writer)
    assert listing(tmp_path) == ['out.mp4']
    assert existing.read_bytes() == b'old result'
    writer.abort()                       # idempotent


@pytest.mark.parametrize('name,cut,found', [
    ('out.avi', False, 'reads back with 3 of the 8 frames written'),
    ('out.mp4', True, 'cannot be opened again'),
])
def test_a_video_that_does_not_read_back_whole_is_not_saved(
        tmp_path, monkeypatch, name, cut, found):
    """OpenCV says nothing when its writes fail (a full disk): the file is
    read back before the rename, and one that is cut off is deleted and
    leaves the previous file of that name as it was."""
    existing = tmp_path / name
    existing.write_bytes(b'a good earlier result')
    without_pyav(monkeypatch)           # OpenCV's encoder, replaced below
    monkeypatch.setattr(cv2, 'VideoWriter', full_disk_writer(3, cut))
    writer = VideoWriter(str(existing), 10, (64, 48))
    for i in range(8):
        writer.write(grey((64, 48), level(i)))
    with pytest.raises(VideoError) as error:
        writer.commit()
    assert str(error.value).startswith(f'{existing}: the video written '
                                       f'{found}')
    assert 'not saved' in str(error.value)
    assert existing.read_bytes() == b'a good earlier result'
    assert listing(tmp_path) == [name]


def test_a_full_disk_fails_the_next_write(tmp_path, monkeypatch):
    """The writer checks the free space after every frame, so a run on a
    full disk stops at once rather than after the whole video."""
    monkeypatch.setattr(video_io, '_free_bytes', lambda folder: 0)
    writer = VideoWriter(str(tmp_path / 'out.mp4'), 10, (64, 48))
    with pytest.raises(VideoError, match='the disk is full'):
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            writer.write(grey((64, 48), 0))
            time.sleep(0.01)
    writer.abort()
    assert listing(tmp_path) == []


def test_finish_checks_before_the_rename(tmp_path):
    path = tmp_path / 'out.avi'
    writer = VideoWriter(str(path), 10, (64, 48))
    writer.write(grey((64, 48), 0))
    writer.finish()
    assert listing(tmp_path) == [os.path.basename(writer.temp_path)]
    writer.abort()                       # a finished writer can still go
    assert listing(tmp_path) == []


def test_writer_misuse_raises(tmp_path):
    path = str(tmp_path / 'out.avi')
    writer = VideoWriter(path, 10, (64, 48))
    with pytest.raises(ValueError, match=r'\(48, 64, 3\)'):
        writer.write(grey((48, 64), 0))
    with pytest.raises(ValueError, match='uint8'):
        writer.write(np.zeros((48, 64, 3), np.float32))
    writer.write(grey((64, 48), 0))
    writer.commit()
    assert writer.commit() == path       # a second commit does nothing
    with pytest.raises(VideoError, match='after the writer was committed'):
        writer.write(grey((64, 48), 0))


def test_commit_without_frames_raises_and_leaves_nothing(tmp_path):
    writer = VideoWriter(str(tmp_path / 'out.mp4'), 10, (64, 48))
    with pytest.raises(VideoError, match='no frames'):
        writer.commit()
    assert listing(tmp_path) == []
    with pytest.raises(VideoError, match='aborted'):
        writer.commit()


@pytest.mark.parametrize('name,fps,size,message', [
    ('out.xyz', 10, (64, 48), 'cannot write ".xyz"'),
    ('missing/out.mp4', 10, (64, 48), 'does not exist'),
    ('out.mp4', 0, (64, 48), 'invalid frame rate'),
    ('out.mp4', 10, (0, 48), 'invalid frame size'),
    ('out.mp4', 10, (1, 1), 'cannot write a 1x1 video'),
])
def test_writer_that_cannot_be_opened_raises(tmp_path, name, fps, size,
                                             message):
    with pytest.raises(VideoError, match=message):
        VideoWriter(str(tmp_path / name), fps, size)
    assert listing(tmp_path) == []


def test_written_frames_can_be_reused_by_the_caller(tmp_path):
    path = str(tmp_path / 'out.avi')
    img = grey((64, 48), 0)
    with VideoWriter(path, 10, (64, 48)) as writer:
        for i in range(5):
            img[:] = level(i)            # the same buffer, changed each time
            writer.write(img)
        writer.commit()
    _, frames = read_all(path)
    assert [frame_level(f.image) for f in frames] == list(range(5))


# ---------------------------------------------------------------------------
# default_output_path
# ---------------------------------------------------------------------------


@pytest.mark.parametrize('video,kwargs,expected', [
    ('clip.mov', {}, 'clip_pose.mp4'),
    (os.path.join('in', 'clip.mp4'), {}, os.path.join('in', 'clip_pose.mp4')),
    (os.path.join('a.b', 'clip'), {}, os.path.join('a.b', 'clip_pose.mp4')),
    ('clip.v2.avi', {'suffix': '_out', 'extension': '.avi'},
     'clip.v2_out.avi'),
    ('clip.mp4', {'extension': '.jsonl'}, 'clip_pose.jsonl'),
])
def test_default_output_path(video, kwargs, expected):
    assert default_output_path(video, **kwargs) == expected


def test_default_output_path_is_never_the_input(tmp_path):
    video = str(tmp_path / 'clip.mp4')
    with pytest.raises(VideoError, match='is the input itself'):
        default_output_path(video, suffix='')
