"""The image command line: outputs, file formats, and bad input.

Every run uses the slim networks (conftest's ``slim_weights``): files,
errors and options do not depend on the network's width.
"""
import json
import os
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

import pose_detector

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
