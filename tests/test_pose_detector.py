"""The image command line: outputs, file formats, and bad input.

Every run uses the slim networks (conftest's ``slim_weights``): files,
errors and options do not depend on the network's width.
"""
import errno
import json
import os
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

import pose_detector
from tests.cli_checks import listing

ROOT = Path(__file__).resolve().parents[1]
#: A small network input keeps the networks fast on the CPU.
SIZE = '64'


def make_image(path, shape=(60, 90), seed=0):
    img = np.random.default_rng(seed).integers(0, 256, shape + (3,), np.uint8)
    assert cv2.imwrite(str(path), img)
    return path


def run(capsys, weights, *args):
    code = pose_detector.main(['posenet', weights, '--size', SIZE, *args])
    out, err = capsys.readouterr()
    return code, out, err.strip().splitlines()


@pytest.fixture
def weights(slim_weights):
    return slim_weights('posenet')


def test_folder_of_images(tmp_path, capsys, weights):
    inputs = tmp_path / 'in'
    inputs.mkdir()
    make_image(inputs / 'a.jpg')
    make_image(inputs / 'b.png', shape=(90, 60))
    out = tmp_path / 'out'
    code, stdout, errors = run(capsys, weights, '--images', str(inputs),
                               '--out', str(out))
    assert code == 0 and errors == []
    assert sorted(os.listdir(out)) == [
        'a_keypoints.json', 'a_pose.png', 'b_keypoints.json', 'b_pose.png']
    assert cv2.imread(str(out / 'b_pose.png')).shape == (90, 60, 3)
    document = json.loads((out / 'a_keypoints.json').read_text())
    assert document['version'] == 1.3 and isinstance(document['people'], list)
    assert len(stdout.splitlines()) == 2 and 'a.jpg' in stdout


def test_single_image_coco_json_and_maps(tmp_path, capsys, weights):
    image = make_image(tmp_path / '000000000139.jpg')
    coco, maps = tmp_path / 'coco.json', tmp_path / 'maps'
    code, _, errors = run(capsys, weights, '--img', str(image), '--out',
                          str(tmp_path / 'out'), '--coco-json', str(coco),
                          '--maps', str(maps))
    assert code == 0 and errors == []
    results = json.loads(coco.read_text())
    assert all(r['image_id'] == 139 and r['category_id'] == 1
               for r in results)
    assert sorted(os.listdir(maps)) == [
        '000000000139_maps.png', '000000000139_stages.png']


def test_bad_inputs_do_not_stop_the_batch(tmp_path, capsys, weights):
    inputs = tmp_path / 'in'
    inputs.mkdir()
    make_image(inputs / 'good.jpg')
    (inputs / 'empty.jpg').write_bytes(b'')
    (inputs / 'text.png').write_text('not an image')
    out = tmp_path / 'out'
    code, stdout, errors = run(capsys, weights, '--images', str(inputs),
                               str(tmp_path / 'missing.jpg'),
                               str(tmp_path / 'no-images'), '--out', str(out))
    assert code == 2
    assert sorted(os.listdir(out)) == ['good_keypoints.json', 'good_pose.png']
    joined = '\n'.join(errors)
    for name in ('empty.jpg', 'text.png', 'missing.jpg', 'no-images'):
        assert name in joined
    assert 'good.jpg' in stdout


def test_same_names_never_overwrite_each_other(tmp_path, capsys, weights):
    make_image(tmp_path / 'a.jpg')
    make_image(tmp_path / 'a.png', seed=1)
    code, _, errors = run(capsys, weights, '--images', str(tmp_path / 'a.jpg'),
                          str(tmp_path / 'a.png'), '--out', str(tmp_path))
    assert code == 2 and any('a.png' in e and 'overwrite' in e for e in errors)


def test_output_folder_may_be_the_input_folder(tmp_path, capsys, weights):
    """A second run over the same folder skips the tool's own results and
    leaves the inputs untouched."""
    image = make_image(tmp_path / 'a.jpg')
    before = image.read_bytes()
    for _ in range(2):
        code, stdout, _ = run(capsys, weights, '--images', str(tmp_path),
                              '--out', str(tmp_path))
        assert code == 0 and len(stdout.splitlines()) == 1
    assert image.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == [
        'a.jpg', 'a_keypoints.json', 'a_pose.png']


@pytest.mark.parametrize('network', ['handnet'])
def test_weights_of_another_network(tmp_path, capsys, slim_weights,
                                    network):
    image = make_image(tmp_path / 'a.jpg')
    code, _, errors = run(capsys, slim_weights(network), '--img',
                          str(image), '--out', str(tmp_path / 'out'))
    assert code == 2 and len(errors) == 1
    assert 'CocoPoseNet' in errors[0]
    assert not (tmp_path / 'out').exists()


def test_damaged_weights(tmp_path, capsys, weights):
    damaged = tmp_path / 'damaged.npz'
    damaged.write_bytes(Path(weights).read_bytes()[:100_000])
    code, _, errors = run(capsys, str(damaged), '--img',
                          str(make_image(tmp_path / 'a.jpg')))
    assert code == 2 and len(errors) == 1 and 'damaged.npz' in errors[0]


def test_size_must_be_a_multiple_of_the_stride(capsys):
    with pytest.raises(SystemExit) as exit_info:
        pose_detector.parse_args(['posenet', 'w.npz', '--img', 'a.jpg',
                                  '--size', '100'])
    assert exit_info.value.code == 2
    assert 'multiple of 8' in capsys.readouterr().err


def test_net_resolution_with_a_negative_width_needs_no_equals_sign():
    args = pose_detector.parse_args(['posenet', 'w.npz', '--img', 'a.jpg',
                                     '--net-resolution', '-1x256'])
    assert (args.net_resolution, args.size) == ((None, 256), 256)


def test_a_bad_net_resolution_is_one_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        pose_detector.parse_args(['posenet', 'w.npz', '--img', 'a.jpg',
                                  '--net-resolution', '-1x250'])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith('pose_detector.py: error: --net-resolution')


@pytest.mark.parametrize('precision', ['tf32', 'float16'])
def test_reduced_precision_on_the_cpu_is_one_line(tmp_path, capsys, weights,
                                                  precision):
    out = tmp_path / 'out'
    code, stdout, errors = run(capsys, weights, '--img',
                               str(make_image(tmp_path / 'a.jpg')),
                               '--out', str(out), '--precision', precision)
    assert code == 2 and stdout == '' and len(errors) == 1
    assert f'--precision {precision} needs a GPU (--gpu N)' in errors[0]
    assert not out.exists()


def test_precision_names_are_checked_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exit_info:
        pose_detector.parse_args(['posenet', 'w.npz', '--img', 'a.jpg',
                                  '--precision', 'float64'])
    assert exit_info.value.code == 2
    assert "invalid choice: 'float64'" in capsys.readouterr().err


def test_command_line_process(tmp_path, weights, slim_command):
    """The script itself, in its own process: exit status and one line per
    image."""
    image = make_image(tmp_path / 'a.jpg')
    result = subprocess.run(
        slim_command('pose_detector.py', 'posenet', weights, '--img', image,
                     '--out', tmp_path / 'out', '--size', SIZE),
        cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ''
    assert result.stdout.count('\n') == 1 and 'a_pose.png' in result.stdout


def test_face_and_hands_in_the_keypoint_file(tmp_path, capsys, weights,
                                             slim_weights):
    image = make_image(tmp_path / 'a.jpg', shape=(240, 320))
    code, _, errors = run(capsys, weights, '--img', str(image), '--out',
                          str(tmp_path / 'out'), '--face', '--hands',
                          '--face-weights', slim_weights('facenet'),
                          '--hand-weights', slim_weights('handnet'))
    assert code == 0 and errors == []
    people = json.loads((tmp_path / 'out' / 'a_keypoints.json').read_text()
                        )['people']
    assert people, 'random weights find people at this size'
    for person in people:
        assert len(person['face_keypoints_2d']) == 70 * 3
        assert len(person['hand_left_keypoints_2d']) == 21 * 3
        assert len(person['hand_right_keypoints_2d']) == 21 * 3


def test_missing_face_weights_is_one_line(tmp_path, capsys, weights):
    code, _, errors = run(capsys, weights, '--img',
                          str(make_image(tmp_path / 'a.jpg')), '--face',
                          '--face-weights', str(tmp_path / 'none.npz'))
    assert code == 2 and len(errors) == 1 and 'none.npz' in errors[0]


def test_verbose_reports_the_blas_kernel(tmp_path, capsys, weights):
    image = make_image(tmp_path / 'a.png')
    code, stdout, errors = run(capsys, weights, '--img', str(image),
                               '--out', str(tmp_path / 'out'), '--verbose')
    assert code == 0 and errors == []
    blas = [line for line in stdout.splitlines() if line.startswith("NumPy's BLAS: ")]
    assert blas and 'kernel' in blas[0] and 'threads' in blas[0]


# ---------------------------------------------------------------------------
# Nothing lost: every output checked before the networks load, no input
# ever replaced, a full disk one line
# ---------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch):
    """Fail the test if the networks are loaded (the outputs are checked
    first)."""
    def load(*args, **kwargs):
        raise AssertionError('the networks were loaded before the outputs '
                             'were checked')
    monkeypatch.setattr(pose_detector, 'load_detectors', load)


def refused(capsys, weights, folder, *args):
    """The command refuses: exit 2, nothing on stdout, one error line
    (returned), ``folder`` exactly as it was."""
    before = listing(folder)
    code, stdout, errors = run(capsys, weights, *map(str, args))
    assert code == 2 and stdout == '', (stdout, errors)
    assert len(errors) == 1, errors
    assert errors[0].startswith('pose_detector.py: error: ')
    assert listing(folder) == before
    return errors[0]


def test_an_input_named_like_a_result_is_never_replaced(tmp_path, capsys,
                                                        weights):
    """Case 2, named explicitly: the results of a.png would replace the
    input a_pose.png (before it is read); a.png is refused, the rest of the
    batch goes on."""
    make_image(tmp_path / 'a.png')
    drawing = make_image(tmp_path / 'a_pose.png', seed=1).read_bytes()
    code, stdout, errors = run(capsys, weights, '--images',
                               str(tmp_path / 'a.png'),
                               str(tmp_path / 'a_pose.png'),
                               '--out', str(tmp_path))
    assert code == 2
    assert (tmp_path / 'a_pose.png').read_bytes() == drawing
    assert 'would overwrite the input' in errors[0] and 'a.png' in errors[0]
    assert 'a_pose.png' in stdout and (tmp_path / 'a_pose_pose.png').exists()


def test_an_image_named_like_a_result_in_the_output_folder_stays(
        tmp_path, capsys, weights):
    """Case 2, in a folder that is also --out: a_pose.png without
    a_keypoints.json beside it is not this tool's result, so the results
    of a.png may not replace it."""
    make_image(tmp_path / 'a.png')
    make_image(tmp_path / 'b.png')
    drawing = make_image(tmp_path / 'a_pose.png', seed=1).read_bytes()
    code, stdout, errors = run(capsys, weights, '--images', str(tmp_path),
                               '--out', str(tmp_path))
    assert code == 2
    assert (tmp_path / 'a_pose.png').read_bytes() == drawing
    assert 'not a result of this tool' in errors[0]
    assert not (tmp_path / 'a_keypoints.json').exists()
    assert 'b.png' in stdout and (tmp_path / 'b_pose.png').exists()


def test_coco_json_may_not_be_an_input_image(tmp_path, capsys, weights,
                                             no_network):
    """Case 3."""
    image = make_image(tmp_path / 'a.jpg')
    message = refused(capsys, weights, tmp_path, '--img', image, '--out',
                      tmp_path / 'out', '--coco-json', image)
    assert 'would overwrite the input' in message


def test_coco_json_may_not_be_a_result_file(tmp_path, capsys, weights,
                                            no_network):
    image = make_image(tmp_path / 'a.jpg')
    out = tmp_path / 'out'
    message = refused(capsys, weights, tmp_path, '--img', image, '--out',
                      out, '--coco-json', out / 'a_keypoints.json')
    assert 'is also the result file' in message


@pytest.mark.parametrize('where', ['file', 'unwritable'])
def test_an_unusable_out_is_refused_before_the_network(
        tmp_path, capsys, weights, no_network, where):
    """Case 8: --out naming an existing file, or a place where nothing can
    be created (/proc, even for root): one line, no traceback, before the
    networks load."""
    image = make_image(tmp_path / 'a.jpg')
    if where == 'file':
        out = tmp_path / 'taken'
        out.write_text('a file')
    else:
        if not os.path.isdir('/proc'):
            pytest.skip('needs /proc')
        out = '/proc/pose-results'
    message = refused(capsys, weights, tmp_path, '--img', image, '--out',
                      out)
    assert ('is a file, not a folder' if where == 'file'
            else 'no file can be created') in message


@pytest.mark.parametrize('option, make, words', [
    ('--coco-json', 'folder', 'is a folder'),
    ('--maps', 'file', 'is a file, not a folder'),
    ('--maps', 'under a file', 'is a file, not a folder'),
])
def test_coco_json_and_maps_in_a_bad_place_are_refused_first(
        tmp_path, capsys, weights, no_network, option, make, words):
    """Case 9: no crash after the whole batch."""
    image = make_image(tmp_path / 'a.jpg')
    target = tmp_path / 'target'
    if make == 'folder':
        target.mkdir()
    else:
        target.write_text('a file')
        if make == 'under a file':
            target = target / 'deeper'
    message = refused(capsys, weights, tmp_path, '--img', image, '--out',
                      tmp_path / 'out', option, target)
    assert words in message


def test_coco_json_in_a_missing_folder_is_created(tmp_path, capsys,
                                                  weights):
    """Case 9: a missing folder is made, like --out's."""
    image = make_image(tmp_path / 'a.jpg')
    coco = tmp_path / 'new' / 'coco.json'
    code, _, errors = run(capsys, weights, '--img', str(image), '--out',
                          str(tmp_path / 'out'), '--coco-json', str(coco))
    assert code == 0 and errors == []
    assert isinstance(json.loads(coco.read_text()), list)


class FullDisk:
    """``open`` for common.files on a full disk: the hidden files of the
    outputs whose names contain ``which`` open, but writing to them
    fails."""

    def __init__(self, which=''):
        self.which = which

    def __call__(self, path, mode='r', *args, **kwargs):
        stream = open(path, mode, *args, **kwargs)
        if self.which not in os.path.basename(path):
            return stream
        return FullDiskStream(stream)


class FullDiskStream:
    def __init__(self, stream):
        self.stream = stream

    def write(self, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stream.close()
        return False


def test_a_full_disk_stops_the_batch_with_one_line(tmp_path, capsys, weights,
                                                   monkeypatch):
    """Case 11 (image keypoints): one line naming the file, exit 2, no
    traceback, nothing half-written, not one error per image."""
    from common import files
    inputs = tmp_path / 'in'
    inputs.mkdir()
    for name in ('a.jpg', 'b.jpg', 'c.jpg'):
        make_image(inputs / name)
    out = tmp_path / 'out'
    monkeypatch.setattr(files, 'open', FullDisk(), raising=False)
    code, stdout, errors = run(capsys, weights, '--images', str(inputs),
                               '--out', str(out))
    assert code == 2 and stdout == ''
    assert errors == [f'pose_detector.py: error: {out / "a_keypoints.json"}'
                      f': No space left on device; check the path, '
                      f'permissions and free space']
    assert os.listdir(out) == []


def test_a_full_disk_on_the_coco_json_is_one_line(tmp_path, capsys, weights,
                                                  monkeypatch):
    """Case 11 (COCO file): the error names the file, not the hidden one,
    and the earlier file stays."""
    from common import files
    image = make_image(tmp_path / 'a.jpg')
    coco = tmp_path / 'coco.json'
    coco.write_text('[]')
    monkeypatch.setattr(files, 'open', FullDisk('coco.json'), raising=False)
    code, _, errors = run(capsys, weights, '--img', str(image), '--out',
                          str(tmp_path / 'out'), '--coco-json', str(coco))
    assert code == 2
    assert errors == [f'pose_detector.py: error: {coco}: No space left on '
                      f'device; check the path, permissions and free space']
    assert coco.read_text() == '[]'
    assert sorted(os.listdir(tmp_path)) == ['a.jpg', 'coco.json', 'out']


def test_max_pixels_refuses_large_images_and_the_batch_goes_on(
        tmp_path, capsys, weights):
    big = make_image(tmp_path / 'big.png', shape=(60, 90))
    small = make_image(tmp_path / 'small.png', shape=(40, 50))
    code, out, err = run(capsys, weights, '--images', str(big), str(small),
                         '--max-pixels', '2000', '--out',
                         str(tmp_path / 'out'))
    assert code == 2
    assert len(err) == 2 and str(big) in err[0] and '--max-pixels' in err[0]
    assert err[0].count(str(big)) == 1
    assert sorted(os.listdir(tmp_path / 'out')) == [
        'small_keypoints.json', 'small_pose.png']
    assert out.startswith(f'{small}: ')


def test_a_link_loop_named_like_a_result_is_skipped(tmp_path, capsys,
                                                    weights):
    make_image(tmp_path / 'a.png')
    os.symlink('loop_pose.png', tmp_path / 'loop_pose.png')
    code, out, err = run(capsys, weights, '--images', str(tmp_path))
    assert code == 0 and err == [] and out.startswith(f'{tmp_path / "a.png"}')
