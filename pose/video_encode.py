"""H.264 video encoding with PyAV, for the videos web browsers play.

:class:`H264Encoder` writes BGR frames as H.264 (libx264, 4:2:0 chroma,
``yuv420p``) into an MP4 or QuickTime container with FFmpeg's libraries
through PyAV (``pip install av``).  It has the interface of
``cv2.VideoWriter`` that :class:`pose.video_io.VideoWriter` drives
(``isOpened``, ``write``, ``release``), so that writer keeps its contract
(background thread, hidden temporary file, read-back check, commit or
abort) whichever encoder it uses; :func:`open_encoder` picks one from the
extension and what is installed.
"""
from __future__ import annotations

import fractions
from typing import Any, Optional, Tuple

import numpy as np

#: Extensions whose containers (MP4, QuickTime) are written as H.264 when
#: PyAV is installed.
H264_EXTENSIONS = frozenset(('.mp4', '.m4v', '.mov'))

#: The FFmpeg encoder and the pixel format: 4:2:0 chroma, the only one
#: every browser decodes (H.264 "High" profile).
H264_CODEC = 'libx264'
H264_PIXEL_FORMAT = 'yuv420p'

#: The MP4 FourCC of H.264, reported as :attr:`VideoWriter.fourcc`.
H264_FOURCC = 'avc1'

#: libx264's own defaults, written out (``preset medium``, constant rate
#: factor 23: visually close to the input at a moderate size).
X264_OPTIONS = {'preset': 'medium', 'crf': '23'}

#: Container option: the index (``moov``) at the front of the file, so a
#: browser starts playing before the whole file is downloaded.
MP4_OPTIONS = {'movflags': '+faststart'}

#: Largest denominator of a frame rate written as a fraction: 1001 keeps
#: the NTSC rates exact (29.97 = 30000/1001, 23.976 = 24000/1001).
MAX_RATE_DENOMINATOR = 1001

#: The smallest side libx264 encodes in 4:2:0 (two pixels: one chroma
#: sample).
MIN_SIDE = 2


def h264_available() -> bool:
    """Whether PyAV is importable and its FFmpeg has libx264."""
    try:
        import av
    except ImportError:
        return False
    return H264_CODEC in av.codecs_available


def frame_rate(fps: float) -> fractions.Fraction:
    """``fps`` as a fraction (denominator <= :data:`MAX_RATE_DENOMINATOR`),
    e.g. 29.97002997 -> 30000/1001."""
    return fractions.Fraction(fps).limit_denominator(MAX_RATE_DENOMINATOR)


class H264Encoder:
    """BGR frames to an H.264 ``.mp4``/``.m4v``/``.mov`` file.

    Frames are cropped to even width and height (the last column or row
    dropped, as OpenCV's 4:2:0 encoders do), numbered from 0 at
    ``frame_rate(fps)``.  Errors (a full disk included) are raised by
    :meth:`write` and :meth:`release`, which ``VideoWriter`` reports.

    Attributes:
        output_size: ``(width, height)`` written.
    """

    def __init__(self, path: str, fps: float, size: Tuple[int, int]):
        """Open ``path`` for writing.

        Args:
            path: the file (its extension picks the container).
            fps: frames per second, > 0.
            size: ``(width, height)`` of the frames given to :meth:`write`.
        """
        import av
        width, height = size
        self.output_size = (width - width % 2, height - height % 2)
        self._container: Optional[Any] = None
        if min(self.output_size) < MIN_SIDE:
            return                      # isOpened() says no, as OpenCV's
        rate = frame_rate(fps)
        open(path, 'xb').close()        # FFmpeg creates it only at the
        container = av.open(path, 'w', options=MP4_OPTIONS)  # first frame
        try:
            stream = container.add_stream(H264_CODEC, rate=rate,
                                          options=X264_OPTIONS)
            stream.width, stream.height = self.output_size
            stream.pix_fmt = H264_PIXEL_FORMAT
            stream.codec_context.time_base = 1 / rate
        except BaseException:
            container.close()
            raise
        self._container, self._stream = container, stream
        self._time_base = 1 / rate
        self._frames = 0

    def isOpened(self) -> bool:           # noqa: N802 (cv2's name)
        return self._container is not None

    def write(self, img: np.ndarray) -> None:
        """Encode one (H, W, 3) uint8 BGR frame of the opening size."""
        import av
        width, height = self.output_size
        frame = av.VideoFrame.from_ndarray(
            np.ascontiguousarray(img[:height, :width]), format='bgr24')
        frame.pts, frame.time_base = self._frames, self._time_base
        self._frames += 1
        self._container.mux(self._stream.encode(frame))

    def release(self) -> None:
        """Flush the encoder and close the file; a second call does
        nothing."""
        container, self._container = self._container, None
        if container is None:
            return
        try:
            container.mux(self._stream.encode(None))
        finally:
            container.close()


def open_encoder(path: str, extension: str, fps: float,
                 size: Tuple[int, int], fourcc: str
                 ) -> Tuple[Any, str, Optional[str]]:
    """The encoder for a video file.

    Args:
        path: the (temporary) file to write.
        extension: the destination's extension, lower case.
        fps, size: frame rate and ``(width, height)``.
        fourcc: OpenCV's codec for the extension, used without PyAV.

    Returns:
        ``(encoder, fourcc, warning)``: an object with ``isOpened``,
        ``write`` and ``release``; the codec's FourCC; a line for the user
        when an MP4 falls back to OpenCV's MPEG-4 Part 2, else None.
    """
    import cv2
    warning = None
    if extension in H264_EXTENSIONS:
        if h264_available():
            return H264Encoder(path, fps, size), H264_FOURCC, None
        warning = (f'{extension} written as MPEG-4 Part 2 ({fourcc}), which '
                   f'most web browsers will not play; pip install av for '
                   f'H.264')
    writer = cv2.VideoWriter(path, cv2.CAP_FFMPEG,
                             cv2.VideoWriter_fourcc(*fourcc), fps, size)
    return writer, fourcc, warning
