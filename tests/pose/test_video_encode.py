"""H.264 outputs through PyAV, and OpenCV's mp4v when PyAV is missing."""
import fractions
import os
import sys

import pytest

from pose import video_encode
from pose.video_io import VideoWriter
from tests.video_clips import grey, level

av = pytest.importorskip('av')


def written(path, fps, size, count):
    with VideoWriter(str(path), fps, size) as writer:
        for i in range(count):
            writer.write(grey(size, level(i)))
        writer.commit()
    return writer


@pytest.mark.parametrize('name, fps, size, rate', [
    ('out.mp4', 30000 / 1001, (64, 48), fractions.Fraction(30000, 1001)),
    ('odd.mov', 12.5, (65, 49), fractions.Fraction(25, 2)),
])
def test_mp4_is_h264_yuv420p_with_every_frame(tmp_path, name, fps, size,
                                              rate):
    path = tmp_path / name
    writer = written(path, fps, size, 7)
    assert writer.fourcc == 'avc1' and writer.warning is None
    width, height = size[0] - size[0] % 2, size[1] - size[1] % 2
    assert writer.output_size == (width, height)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == 'h264'
        assert stream.codec_context.pix_fmt == 'yuv420p'
        assert (stream.codec_context.width,
                stream.codec_context.height) == (width, height)
        assert stream.average_rate == rate
        frames = list(container.decode(stream))
    assert len(frames) == 7
    assert os.listdir(tmp_path) == [name]


def test_without_pyav_mp4_is_mp4v_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, 'av', None)     # import av fails
    assert not video_encode.h264_available()
    writer = written(tmp_path / 'out.mp4', 10, (64, 48), 3)
    assert writer.fourcc == 'mp4v'
    assert 'browsers' in writer.warning and 'pip install av' in \
        writer.warning
    monkeypatch.undo()
    with av.open(str(tmp_path / 'out.mp4')) as container:
        assert container.streams.video[0].codec_context.name == 'mpeg4'


def test_other_extensions_stay_opencv(tmp_path):
    writer = written(tmp_path / 'out.avi', 10, (64, 48), 2)
    assert writer.fourcc == 'MJPG' and writer.warning is None


def test_frame_rate_keeps_ntsc_rates_exact():
    assert video_encode.frame_rate(29.97002997) == fractions.Fraction(
        30000, 1001)
    assert video_encode.frame_rate(25.0) == 25
