"""Tests of pose.images: loading odd images, listing inputs, safe writing."""
import errno
import os
import re
import struct
import threading
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from pose import images
from pose.images import ImageError
from tests.peak_memory import peak_growth


def write(path, img, *params):
    """cv2.imwrite that fails loudly; returns the path as a string."""
    assert cv2.imwrite(str(path), img, list(params)), path
    return str(path)


def touch(path, data=b''):
    path.write_bytes(data)
    return str(path)


def gradient(h=6, w=8):
    """(h, w) uint8 with distinct values."""
    return (np.arange(h * w).reshape(h, w) * 3).astype(np.uint8)


def jpeg_with_exif_orientation(img, orientation):
    """JPEG bytes of ``img`` with an EXIF orientation tag inserted."""
    ok, encoded = cv2.imencode('.jpg', img)
    assert ok
    tiff = (b'II*\x00' + struct.pack('<IH', 8, 1)
            + struct.pack('<HHIHH', 0x0112, 3, 1, orientation, 0)
            + struct.pack('<I', 0))
    app1 = b'Exif\x00\x00' + tiff
    segment = b'\xff\xe1' + struct.pack('>H', len(app1) + 2) + app1
    data = encoded.tobytes()
    return data[:2] + segment + data[2:]


# ---------------------------------------------------------------------------
# load_image
# ---------------------------------------------------------------------------


def test_colour_png_is_returned_unchanged(tmp_path):
    bgr = np.dstack([gradient(), gradient()[::-1], 255 - gradient()])
    img, warnings = images.load_image(write(tmp_path / 'c.png', bgr))
    assert img.dtype == np.uint8 and img.flags['C_CONTIGUOUS']
    np.testing.assert_array_equal(img, bgr)
    assert warnings == []


def test_grayscale_png_becomes_bgr(tmp_path):
    gray = gradient()
    img, _ = images.load_image(write(tmp_path / 'g.png', gray))
    assert img.shape == gray.shape + (3,) and img.dtype == np.uint8
    for channel in range(3):
        np.testing.assert_array_equal(img[..., channel], gray)


def test_16_bit_png_is_divided_by_257(tmp_path):
    values = gradient()
    img16 = np.dstack([values, values, values]).astype(np.uint16) * 257
    img16[0, 0] = 65535
    img, _ = images.load_image(write(tmp_path / 'd.png', img16))
    assert img.dtype == np.uint8
    np.testing.assert_array_equal(img[0, 0], [255, 255, 255])
    np.testing.assert_array_equal(img[1:], img16[1:] // 257)


def test_float_tiff_is_clipped_and_scaled(tmp_path):
    values = np.array([[-0.5, 0.2, 1.0, 2.0]], np.float32)
    img, _ = images.load_image(write(tmp_path / 'f.tiff', values))
    np.testing.assert_array_equal(img[0, :, 0], [0, 51, 255, 255])


def test_alpha_is_composited_over_white(tmp_path):
    bgra = np.zeros((1, 3, 4), np.uint8)
    bgra[0, :, :3] = (10, 100, 200)
    bgra[0, :, 3] = (255, 0, 128)               # opaque, clear, half
    img, _ = images.load_image(write(tmp_path / 'a.png', bgra))
    assert img.shape == (1, 3, 3)
    np.testing.assert_array_equal(img[0, 0], (10, 100, 200))
    np.testing.assert_array_equal(img[0, 1], (255, 255, 255))
    half = np.round(np.array((10, 100, 200)) * 128 / 255 + 255 * 127 / 255)
    np.testing.assert_array_equal(img[0, 2], half)


def test_jpeg_exif_orientation_is_applied(tmp_path):
    """Orientation 6 (rotate 90 degrees clockwise to view) turns a wide
    image with a white left band into a tall one with a white top band."""
    wide = np.zeros((32, 64, 3), np.uint8)
    wide[:, :16] = 255
    path = touch(tmp_path / 'phone.jpg', jpeg_with_exif_orientation(wide, 6))
    img, _ = images.load_image(path)
    assert img.shape == (64, 32, 3)
    assert img[:12].min() > 200 and img[20:].max() < 50


@pytest.mark.parametrize('make, message', [
    (lambda d: str(d / 'missing.png'), 'no such file'),
    (lambda d: touch(d / 'empty.jpg'), 'is empty'),
    (lambda d: touch(d / 'text.png', b'not an image at all'),
     'not an image OpenCV can decode'),
    (lambda d: str(d), 'is a folder, not an image file'),
], ids=['missing', 'zero-byte-jpg', 'text-named-png', 'directory'])
def test_unreadable_files_raise_image_error(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(ImageError, match=message) as info:
        images.load_image(path)
    assert path in str(info.value)


def test_signed_16_bit_tiff_is_refused(tmp_path):
    path = write(tmp_path / 's.tiff', np.zeros((2, 2), np.int16))
    with pytest.raises(ImageError, match='unsupported sample type int16'):
        images.load_image(path)


def test_oversized_image_is_downscaled_with_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(images, 'DOWNSCALE_PIXELS', 1000)
    big = np.full((50, 100, 3), 77, np.uint8)
    img, warnings = images.load_image(write(tmp_path / 'big.png', big))
    h, w = img.shape[:2]
    assert h * w <= 1000 and (h, w) == (22, 44)     # aspect ratio kept
    assert np.all(img == 77)
    assert len(warnings) == 1
    assert '100x50' in warnings[0] and '44x22' in warnings[0]


def test_downscale_pixels_argument_overrides_the_cap(tmp_path):
    path = write(tmp_path / 'i.png', np.zeros((40, 40, 3), np.uint8))
    assert images.load_image(path, downscale_pixels=1600)[1] == []
    img, warnings = images.load_image(path, downscale_pixels=400)
    assert img.shape == (20, 20, 3) and len(warnings) == 1


def test_the_limits_are_in_order():
    assert 0 < images.DOWNSCALE_PIXELS < images.MAX_IMAGE_PIXELS


# ---------------------------------------------------------------------------
# load_image: refused before decoding (pixel limit, truncation, odd files)
# ---------------------------------------------------------------------------


def png_chunk(kind, data):
    return (struct.pack('>I', len(data)) + kind + data
            + struct.pack('>I', zlib.crc32(kind + data)))


def black_bilevel_png(width, height, rows_per_block=1000):
    """A valid 1-bit grayscale PNG, all black: 400 megapixels fit in a few
    hundred KB, made in a fraction of a second, and OpenCV decodes it into
    width x height bytes.  The zlib stream repeats one deflate block of
    ``rows_per_block`` rows, compressed once (a full flush makes it
    independent of what precedes it)."""
    assert height % rows_per_block == 0
    row = bytes(1 + (width + 7) // 8)              # filter type 0, zeros
    rows = row * rows_per_block
    header = zlib.compress(b'', 9)[:2]             # the 2-byte zlib header
    block = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = block.compress(rows) + block.flush(zlib.Z_FULL_FLUSH)
    checksum = 1
    for _ in range(height // rows_per_block):
        checksum = zlib.adler32(rows, checksum)
    data = (header + block * (height // rows_per_block) + b'\x03\x00'
            + struct.pack('>I', checksum))
    ihdr = struct.pack('>IIBBBBB', width, height, 1, 0, 0, 0, 0)
    return (b'\x89PNG\r\n\x1a\n' + png_chunk(b'IHDR', ihdr)
            + png_chunk(b'IDAT', data) + png_chunk(b'IEND', b''))


def test_bilevel_png_helper_decodes(tmp_path):
    path = touch(tmp_path / 'b.png', black_bilevel_png(3000, 2000))
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    assert img.shape == (2000, 3000) and img.max() == 0


def test_image_over_the_pixel_limit_is_refused_before_decoding(tmp_path):
    """Issue case 7: a small PNG declaring 400 megapixels was decoded in
    full (gigabytes) before being downscaled.  Now its header is read and
    it is refused, naming the option that raises the limit; the process's
    peak memory barely moves (measured in a child process)."""
    path = touch(tmp_path / 'huge.png', black_bilevel_png(20000, 20000))
    assert os.path.getsize(path) < 1_000_000
    growth, error = peak_growth('from pose.images import load_image',
                                f'load_image({path!r})')
    assert error is not None and error[0] == 'ImageError', error
    message = error[1]
    assert message.count(path) == 1
    assert '20000x20000' in message and '--max-pixels 400000000' in message
    assert growth < 64, f'{growth:.0f} MiB'


def test_max_pixels_raises_or_lowers_the_limit(tmp_path):
    path = write(tmp_path / 'i.png', np.zeros((40, 50, 3), np.uint8))
    with pytest.raises(ImageError, match='50x40.*--max-pixels 2000'):
        images.load_image(path, max_pixels=1999)
    img, warnings = images.load_image(path, max_pixels=2000)
    assert img.shape == (40, 50, 3) and warnings == []


def test_pillow_limit_is_not_changed(tmp_path):
    limit = Image.MAX_IMAGE_PIXELS
    path = touch(tmp_path / 'huge.png', black_bilevel_png(20000, 20000))
    with pytest.raises(ImageError):
        images.load_image(path)
    assert Image.MAX_IMAGE_PIXELS == limit


def test_format_unknown_to_pillow_is_left_to_opencv(tmp_path):
    path = write(tmp_path / 'f.hdr', np.full((4, 5, 3), 0.5, np.float32))
    assert images.header_size(path) is None
    img, warnings = images.load_image(path, max_pixels=1)
    assert img.shape == (4, 5, 3) and warnings == []


def jpeg_bytes(img, *params):
    ok, encoded = cv2.imencode('.jpg', img, list(params))
    assert ok
    return encoded.tobytes()


def png_bytes(img):
    ok, encoded = cv2.imencode('.png', img)
    assert ok
    return encoded.tobytes()


def noise(h=48, w=64):
    return (np.random.RandomState(0).rand(h, w, 3) * 255).astype(np.uint8)


def with_exif_thumbnail(jpeg):
    """``jpeg`` with an APP1 segment holding a small JPEG, as cameras store
    a thumbnail: its end-of-image marker comes before the main image's."""
    thumbnail = jpeg_bytes(noise(8, 8))
    app1 = b'Exif\x00\x00' + thumbnail
    segment = b'\xff\xe1' + struct.pack('>H', len(app1) + 2) + app1
    return jpeg[:2] + segment + jpeg[2:]


@pytest.mark.parametrize('make', [
    lambda: jpeg_bytes(noise()),
    lambda: jpeg_bytes(noise(), cv2.IMWRITE_JPEG_PROGRESSIVE, 1),
    lambda: with_exif_thumbnail(jpeg_bytes(noise())),
], ids=['baseline', 'progressive', 'exif-thumbnail'])
def test_truncated_jpeg_is_refused(tmp_path, make):
    """Issue case 16: OpenCV decodes a truncated JPEG (grey where data is
    missing) and only libjpeg said so on stderr; the keypoint file then
    silently lacked whoever stood in the missing part.  It is an error,
    as an empty file is: the fix is to copy it again."""
    data = make()
    complete = touch(tmp_path / 'complete.jpg', data)
    assert images.load_image(complete)[0].shape == (48, 64, 3)
    path = touch(tmp_path / 'cut.jpg', data[:len(data) * 3 // 4])
    assert cv2.imread(path) is not None          # what OpenCV alone does
    with pytest.raises(ImageError, match='JPEG file is truncated') as info:
        images.load_image(path)
    assert str(info.value).count(path) == 1


def test_truncated_png_is_refused(tmp_path):
    data = png_bytes(noise())
    for name, cut in (('mid.png', data[:len(data) // 2]),
                      ('no-iend.png', data[:-12])):
        path = touch(tmp_path / name, cut)
        with pytest.raises(ImageError, match='PNG file is truncated'):
            images.load_image(path)


@pytest.mark.parametrize('name, data', [
    ('motion.jpg', jpeg_bytes(noise()) + b'ftypmp42' + bytes(5000)),
    ('padded.jpg', jpeg_bytes(noise()) + bytes(100)),
    ('thumb.jpg', with_exif_thumbnail(jpeg_bytes(noise())) + b'\x00'),
    ('trailer.png', png_bytes(noise()) + b'appended by some program'),
])
def test_data_after_the_end_marker_is_not_truncation(tmp_path, name, data):
    img, warnings = images.load_image(touch(tmp_path / name, data))
    assert img.shape == (48, 64, 3) and warnings == []


@pytest.fixture
def fifo(tmp_path):
    """A named pipe called ``pipe.jpg``; any reader still blocked on it when
    the test ends is released."""
    path = str(tmp_path / 'pipe.jpg')
    os.mkfifo(path)
    yield path
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:                            # no reader blocked: fine
        pass


def test_named_pipe_is_refused_without_reading(fifo):
    """Issue case 18: opening a FIFO blocks until someone writes to it, so
    a batch hung forever.  It is refused from its metadata."""
    outcome = []

    def load():
        try:
            images.load_image(fifo)
        except ImageError as error:
            outcome.append(str(error))
    reader = threading.Thread(target=load, daemon=True)
    reader.start()
    reader.join(timeout=10)
    assert not reader.is_alive(), 'load_image blocked on the named pipe'
    assert outcome and 'is not a regular file (a named pipe)' in outcome[0]
    assert outcome[0].count(fifo) == 1


@pytest.mark.parametrize('make, message', [
    (lambda d: '/dev/zero', 'is not a regular file (a character device)'),
    (lambda d: link(d / 'loop.jpg', 'loop.jpg'), 'symbolic link loop'),
    (lambda d: link(d / 'gone.jpg', 'moved.jpg'),
     'broken symbolic link to moved.jpg'),
], ids=['dev-zero', 'link-loop', 'broken-link'])
def test_special_paths_are_named_once(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(ImageError, match=re.escape(message)) as info:
        images.load_image(path)
    assert str(info.value).count(path) == 1


def link(path, target):
    os.symlink(target, path)
    return str(path)


# ---------------------------------------------------------------------------
# list_images
# ---------------------------------------------------------------------------


def make_files(directory, names):
    directory.mkdir(exist_ok=True)
    for name in names:
        touch(directory / name, b'x')


def test_directory_is_expanded_sorted_by_extension(tmp_path):
    mixed = tmp_path / 'mixed'
    make_files(mixed, ['c.webp', 'a.JPG', 'b.png', 'notes.txt', 'z.Tiff',
                       '._a.jpg', 'README'])
    make_files(mixed / 'sub.jpg', ['deep.png'])        # a directory
    paths, errors = images.list_images([str(mixed)])
    assert paths == [str(mixed / n) for n in ('a.JPG', 'b.png', 'c.webp',
                                              'z.Tiff')]
    assert errors == []


def test_explicit_files_are_kept_in_order_whatever_the_extension(tmp_path):
    make_files(tmp_path, ['b.txt', 'a.png'])
    inputs = [str(tmp_path / 'b.txt'), str(tmp_path / 'a.png')]
    assert images.list_images(inputs) == (inputs, [])


def test_odd_entries_of_a_folder_are_listed_and_reported(tmp_path, fifo):
    """A link loop called ``photo.jpg`` made the whole folder unlistable
    (``is_file`` raised ELOOP), and a broken link or a pipe with an image
    name was silently left out; now each is listed and load_image says
    what is wrong with it, and the good images are all there."""
    folder = tmp_path
    good = write(folder / 'a.png', np.zeros((4, 4, 3), np.uint8))
    loop = link(folder / 'b.jpg', 'b.jpg')
    broken = link(folder / 'c.jpg', 'nowhere.jpg')
    (folder / 'd.jpg').mkdir()
    paths, errors = images.list_images([str(folder)])
    assert errors == []
    assert paths == [good, loop, broken, fifo]
    for path, message in ((loop, 'symbolic link loop'),
                          (broken, 'broken symbolic link'),
                          (fifo, 'not a regular file')):
        with pytest.raises(ImageError, match=message):
            images.load_image(path)


def test_bad_items_give_errors_and_the_batch_goes_on(tmp_path):
    make_files(tmp_path / 'empty', ['only.txt'])
    make_files(tmp_path / 'good', ['x.jpg'])
    inputs = [str(tmp_path / 'missing.jpg'), str(tmp_path / 'empty'),
              str(tmp_path / 'good')]
    paths, errors = images.list_images(inputs)
    assert paths == [str(tmp_path / 'good' / 'x.jpg')]
    assert len(errors) == 2
    assert 'missing.jpg' in errors[0] and 'no such file' in errors[0]
    assert 'empty' in errors[1] and 'no images' in errors[1]


# ---------------------------------------------------------------------------
# output_paths
# ---------------------------------------------------------------------------


def test_output_paths_are_named_after_the_stem(tmp_path):
    out = str(tmp_path / 'out')
    assert images.output_paths('/photos/party.v2.jpg', out) == (
        os.path.join(out, 'party.v2_pose.png'),
        os.path.join(out, 'party.v2_keypoints.json'))


@pytest.mark.parametrize('link', [os.symlink, os.link])
def test_output_paths_refuse_to_overwrite_the_input(tmp_path, link):
    """The input is a link to what would be its own pose image."""
    out = tmp_path / 'out'
    out.mkdir()
    target = write(out / 'a_pose.png', np.zeros((2, 2, 3), np.uint8))
    (tmp_path / 'in').mkdir()
    image = str(tmp_path / 'in' / 'a.png')
    link(target, image)
    with pytest.raises(ImageError, match='overwrite the input'):
        images.output_paths(image, str(out))


# ---------------------------------------------------------------------------
# write_atomic, write_image_atomic
# ---------------------------------------------------------------------------


def test_write_atomic_replaces_content_and_leaves_no_temp(tmp_path):
    path = tmp_path / 'r.json'
    path.write_bytes(b'old')
    images.write_atomic(str(path), b'new')
    assert path.read_bytes() == b'new'
    assert os.listdir(tmp_path) == ['r.json']


def test_write_atomic_failure_keeps_old_file_and_no_temp(tmp_path,
                                                         monkeypatch):
    path = tmp_path / 'r.json'
    path.write_bytes(b'old')

    def fail(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(os, 'replace', fail)
    with pytest.raises(OSError, match=os.strerror(errno.ENOSPC)):
        images.write_atomic(str(path), b'new')
    assert path.read_bytes() == b'old'
    assert os.listdir(tmp_path) == ['r.json']


def test_write_atomic_into_missing_directory_raises(tmp_path):
    with pytest.raises(OSError):
        images.write_atomic(str(tmp_path / 'nope' / 'r.json'), b'x')
    assert os.listdir(tmp_path) == []


def test_write_image_atomic_round_trips_png(tmp_path):
    img = np.dstack([gradient()] * 3)
    path = str(tmp_path / 'p.png')
    images.write_image_atomic(path, img)
    np.testing.assert_array_equal(cv2.imread(path), img)
    assert os.listdir(tmp_path) == ['p.png']


def test_write_image_atomic_unknown_format_raises(tmp_path):
    with pytest.raises(ImageError, match='cannot encode'):
        images.write_image_atomic(str(tmp_path / 'p.nope'),
                                  np.zeros((2, 2, 3), np.uint8))
    assert os.listdir(tmp_path) == []
