"""Test clips made with cv2.VideoWriter, shared by the video tests.

Frame ``i`` of a clip is a uniform grey of level ``level(i)``, so frames can
be identified after lossy coding; clips can be damaged or rotated in place.
"""
import os
import struct

import cv2
import numpy as np

FOURCCS = {'.avi': 'MJPG', '.mp4': 'mp4v', '.mkv': 'XVID'}
LEVEL_STEP = 8
JPEG_SOI = b'\xff\xd8\xff'
JPEG_SOS = b'\xff\xda'


def level(i):
    """Grey level of frame ``i`` of a test clip."""
    return (i * LEVEL_STEP) % 256


def frame_level(img):
    """Index modulo 32 of the test frame ``img`` (inverse of level)."""
    return int(round(float(img.mean()) / LEVEL_STEP)) % (256 // LEVEL_STEP)


def grey(size, value):
    width, height = size
    return np.full((height, width, 3), value, np.uint8)


def make_clip(path, frames=20, size=(64, 48), fps=10.0):
    """Write a test clip with cv2.VideoWriter; returns the path as str."""
    path = str(path)
    fourcc = cv2.VideoWriter_fourcc(*FOURCCS[os.path.splitext(path)[1]])
    writer = cv2.VideoWriter(path, fourcc, fps, size)
    assert writer.isOpened(), path
    for i in range(frames):
        writer.write(grey(size, level(i)))
    writer.release()
    return path


def damage_mjpeg_frame(path, index, where):
    """Damage frame ``index`` of an MJPEG .avi in place.

    ``where='headers'`` zeroes the JPEG from its SOI marker up to its
    start-of-scan marker (the frame cannot be decoded at all);
    ``where='data'`` overwrites its entropy-coded data (it decodes, garbled).
    """
    data = bytearray(open(path, 'rb').read())
    starts = [i for i in range(len(data)) if data.startswith(JPEG_SOI, i)]
    start = starts[index]
    scan = data.index(JPEG_SOS, start)
    end = data.index(b'\xff\xd9', scan)
    if where == 'headers':
        data[start:scan] = bytes(scan - start)
    else:
        data[scan + 20:end] = b'\xff\x00' * ((end - scan - 20) // 2) + (
            b'\x00' * ((end - scan - 20) % 2))
    open(path, 'wb').write(bytes(data))
    return len(starts)


def set_mp4_rotation(path, degrees):
    """Write a rotation into the track header (tkhd) matrix of an MP4, the
    way phones store portrait videos."""
    one = 1 << 16
    matrix = {0: (one, 0, 0, one), 90: (0, one, -one, 0),
              180: (-one, 0, 0, -one), 270: (0, -one, one, 0)}[degrees]
    data = bytearray(open(path, 'rb').read())
    box = data.index(b'tkhd')
    version = data[box + 4]
    offset = box + 8 + (32 if version == 1 else 20) + 16
    a, b, c, d = matrix
    struct.pack_into('>9i', data, offset, a, b, 0, c, d, 0, 0, 0, 1 << 30)
    open(path, 'wb').write(bytes(data))


def count_frames(path):
    """Frames cv2.VideoCapture decodes from ``path``, and its properties."""
    capture = cv2.VideoCapture(path)
    count, shape = 0, None
    while True:
        ok, img = capture.read()
        if not ok:
            break
        count, shape = count + 1, img.shape
    fps = capture.get(cv2.CAP_PROP_FPS)
    capture.release()
    return count, shape, fps


def full_disk_writer(room, cut=False):
    """A stand-in for ``cv2.VideoWriter`` on a disk that fills up (install
    it with ``monkeypatch.setattr(cv2, 'VideoWriter', ...)`` after making
    the test's clips): the real writer encodes the first ``room`` frames
    and the rest are dropped without a word, as OpenCV does when its writes
    fail; with ``cut`` the file is also cut in half when it is closed (a
    container whose index could not be written)."""
    real = cv2.VideoWriter

    class FullDiskWriter:
        def __init__(self, path, *args):
            self.path, self.frames = path, 0
            self.writer = real(path, *args)

        def isOpened(self):
            return self.writer.isOpened()

        def write(self, img):
            self.frames += 1
            if self.frames <= room:
                self.writer.write(img)

        def release(self):
            self.writer.release()
            if cut and os.path.exists(self.path):
                os.truncate(self.path, os.path.getsize(self.path) // 2)

    return FullDiskWriter
