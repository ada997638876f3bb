"""The Caffe -> Chainer converter (:mod:`models.convert`) and its command line.

Every caffemodel here is synthesized with the real layer names
(:mod:`models.synthetic`, fixed seed), so the expected value of every
converted parameter is known exactly.  The helpers read the layer tables
installed when they are called: tests of formats, messages and refused
inputs ask for conftest's ``slim_networks`` (the same layers, a fraction of
the channels); those about the real layer shapes use the full-size ones.
"""
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import chainer
import numpy as np
import pytest

import convert_model
from tests.cli_checks import (ERROR_PREFIX, assert_refused, assert_same_npz,
                              listing, read_npz)
from models import NETWORKS
from models.caffemodel import write_caffemodel
from models.convert import (WeightsError, convert, load_weights,
                            write_npz_atomic)
from models.spec import SPECS, deploy_prototxt
from models.synthetic import (caffe_layers, synthesize_weights,
                              write_synthetic_caffemodel)

REPO = Path(__file__).resolve().parents[1]
#: The seed of conftest's ``synthesized_weights``, so that the full-size
#: conversions are the session's, made once (checked in ``converted``).
SEED = 11
#: Convolution layers of each network, as in CMU's prototxts.
LAYER_COUNTS = {'posenet': 92, 'facenet': 52, 'handnet': 52}


# ---------------------------------------------------------------------------
# Helpers and shared files
# ---------------------------------------------------------------------------


@pytest.fixture(scope='session')
def caffemodel(tmp_path_factory):
    """``caffemodel(network, style='V2', legacy_shape=False)`` -> the path of
    a synthesized caffemodel of the installed layer table, written once per
    session."""
    folder = tmp_path_factory.mktemp('caffemodels')
    paths = {}

    def get(network, style='V2', legacy_shape=False):
        variant = (SPECS[network], style, legacy_shape)
        if variant not in paths:
            path = folder / (f'{network}-{style}-{legacy_shape}-'
                             f'{len(paths)}.caffemodel')
            write_synthetic_caffemodel(str(path), SPECS[network], SEED,
                                       style=style, legacy_shape=legacy_shape)
            paths[variant] = path
        return paths[variant]
    yield get
    shutil.rmtree(folder)     # hundreds of MB for full-size networks


@pytest.fixture(scope='session')
def converted(tmp_path_factory, caffemodel, synthesized_weights):
    """``converted(network)`` -> the npz converted from ``caffemodel(network)``
    (the same weights), once per session and layer table; the full-size ones
    are conftest's ``synthesized_weights``."""
    assert synthesized_weights.seed == SEED
    folder = tmp_path_factory.mktemp('converted')
    paths = {}

    def get(network):
        if SPECS[network] is synthesized_weights.tables[network]:
            return Path(synthesized_weights(network))
        if SPECS[network] not in paths:
            path = folder / f'{network}-{len(paths)}.npz'
            convert(network, str(caffemodel(network)), str(path))
            paths[SPECS[network]] = path
        return paths[SPECS[network]]
    yield get
    shutil.rmtree(folder)


def run(network, source, destination):
    return convert_model.main([network, str(source), str(destination)])


def expected_arrays(network):
    """``{'conv1_1/W': W, 'conv1_1/b': b, ...}`` as synthesized."""
    arrays = {}
    for name, weights, bias in synthesize_weights(SPECS[network], SEED):
        arrays[f'{name}/W'] = weights
        arrays[f'{name}/b'] = bias
    return arrays


def parameter_count(network):
    return sum(a.size for a in expected_arrays(network).values())


def nan_model(network):
    """The network with every parameter (weights and biases) NaN."""
    model = NETWORKS[network](
        initialW=chainer.initializers.Constant(float('nan')))
    for param in model.params():
        param.array[...] = np.nan
    return model


def write_layers(path, layers):
    with open(path, 'wb') as f:
        write_caffemodel(f, layers)
    return path


@pytest.fixture(autouse=True)
def remove_large_files(tmp_path):
    """Inputs and outputs here can be large: keep none of them."""
    yield
    shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.fixture
def out_dir(tmp_path):
    """An empty output folder, apart from the inputs in ``tmp_path``."""
    folder = tmp_path / 'out'
    folder.mkdir()
    return folder


# ---------------------------------------------------------------------------
# Successful conversions
# ---------------------------------------------------------------------------


@pytest.mark.parametrize('network', sorted(NETWORKS))
def test_success_message(network, slim_networks, caffemodel, out_dir, capsys):
    destination = out_dir / 'weights.npz'
    assert run(network, caffemodel(network), destination) == 0
    out, err = capsys.readouterr()
    assert err == ''
    pattern = (rf'{network}: converted {LAYER_COUNTS[network]} layers '
               rf'\({parameter_count(network):,} parameters, V2 caffemodel\) '
               rf'in \d+\.\d\d s -> {re.escape(str(destination))}\n')
    assert re.fullmatch(pattern, out), out
    assert os.listdir(out_dir) == ['weights.npz']


@pytest.mark.parametrize('network', sorted(NETWORKS))
def test_every_parameter_is_written(network, converted):
    """Each parameter of the Chainer network, loaded from the converted file
    into a NaN-filled network, equals the synthesized Caffe blob.

    Full-size network: the claim is about every real layer shape."""
    npz = converted(network)
    model = load_weights(nan_model(network), str(npz))
    params = {path.lstrip('/'): param.array
              for path, param in model.namedparams()}
    expected = expected_arrays(network)
    assert len(params) == 2 * LAYER_COUNTS[network]
    assert set(params) == set(expected)
    assert set(read_npz(npz)) == set(params)
    wrong = [path for path, array in params.items()
             if array.dtype != np.float32
             or not np.array_equal(array, expected[path])]
    assert wrong == []


def test_posenet_stage1_output_layer(converted):
    """conv5_5_CPM_L1, the last layer of stage 1's PAF branch, is there,
    with its real shape (full-size network)."""
    with np.load(converted('posenet'), allow_pickle=False) as npz:
        arrays = [npz['conv5_5_CPM_L1/W'], npz['conv5_5_CPM_L1/b']]
    expected = next(blobs for name, *blobs in
                    synthesize_weights(SPECS['posenet'], SEED)
                    if name == 'conv5_5_CPM_L1')
    assert all(np.array_equal(a, e) for a, e in zip(arrays, expected))
    assert arrays[0].shape == (38, 512, 1, 1)


@pytest.mark.parametrize('style,legacy_shape',
                         [('V1', True), ('V1', False), ('V2', True)])
def test_legacy_formats_give_the_same_arrays(style, legacy_shape,
                                             slim_networks, caffemodel,
                                             converted, out_dir, capsys):
    """(The full-size networks in the legacy format: test_parity_opencv.)"""
    destination = out_dir / 'weights.npz'
    source = caffemodel('posenet', style, legacy_shape)
    assert run('posenet', source, destination) == 0
    assert f'{style} caffemodel' in capsys.readouterr().out
    assert_same_npz(destination, converted('posenet'))


def test_extra_layers_are_reported(slim_networks, tmp_path, out_dir, capsys):
    rng = np.random.default_rng(SEED)
    extra = ('extra_conv', 'Convolution',
             [rng.standard_normal((8, 3, 3, 3), dtype=np.float32),
              rng.standard_normal(8, dtype=np.float32)])
    source = write_layers(tmp_path / 'extra.caffemodel',
                          [*caffe_layers(SPECS['posenet'], SEED), extra])
    destination = out_dir / 'weights.npz'
    assert run('posenet', source, destination) == 0
    out, err = capsys.readouterr()
    assert out.startswith('posenet: converted 92 layers')
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith('convert_model.py: warning: ')
    assert 'extra_conv' in lines[0]
    assert not any(key.startswith('extra_conv')
                   for key in read_npz(destination))


def test_command_line_success(slim_networks, slim_command, caffemodel,
                              out_dir):
    """The script in its own process (with the slim networks there too)."""
    destination = out_dir / 'handnet.npz'
    result = subprocess.run(
        slim_command('convert_model.py', 'handnet', caffemodel('handnet'),
                     destination),
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ''
    assert result.stdout.startswith('handnet: converted 52 layers')
    assert set(read_npz(destination)) == set(expected_arrays('handnet'))


# ---------------------------------------------------------------------------
# Refused inputs: exit status 2, one line on stderr, nothing written
# ---------------------------------------------------------------------------


def missing_file(folder, caffemodel):
    return folder / 'missing.caffemodel'


def random_bytes(folder, caffemodel):
    path = folder / 'random.caffemodel'
    path.write_bytes(np.random.default_rng(SEED).bytes(1 << 16))
    return path


def prototxt(folder, caffemodel):
    path = folder / 'pose_deploy.prototxt'
    path.write_text(deploy_prototxt(SPECS['posenet'], 368, 368))
    return path


def empty_file(folder, caffemodel):
    path = folder / 'empty.caffemodel'
    path.write_bytes(b'')
    return path


def truncated_handnet(folder, caffemodel):
    data = caffemodel('handnet').read_bytes()
    path = folder / 'truncated.caffemodel'
    path.write_bytes(data[:len(data) // 2])
    return path


def posenet_without_conv5_5_cpm_l1(folder, caffemodel):
    return write_layers(folder / 'missing-layer.caffemodel',
                        (layer
                         for layer in caffe_layers(SPECS['posenet'], SEED)
                         if layer[0] != 'conv5_5_CPM_L1'))


def posenet_with_wrong_conv1_1_shape(folder, caffemodel):
    def layers():
        for name, type_, blobs in caffe_layers(SPECS['posenet'], SEED):
            if name == 'conv1_1':
                filters = len(blobs[1])
                blobs = [np.zeros((filters, 3, 5, 5), np.float32), blobs[1]]
            yield name, type_, blobs
    return write_layers(folder / 'wrong-shape.caffemodel', layers())


def handnet_model(folder, caffemodel):
    return caffemodel('handnet')


WRONG_NETWORK = ('holds the handnet model', 'convert_model.py handnet ')

REFUSED = [
    # (id, network, make the input, fragments of the error line)
    ('missing-file', 'handnet', missing_file,
     ('missing.caffemodel', 'no such file')),
    ('random-bytes', 'handnet', random_bytes, ('not a caffemodel',)),
    ('prototxt', 'posenet', prototxt, ('prototxt',)),
    ('empty-file', 'handnet', empty_file, ('empty',)),
    ('truncated', 'handnet', truncated_handnet, ('truncated',)),
    ('missing-layer', 'posenet', posenet_without_conv5_5_cpm_l1,
     ('missing', 'conv5_5_CPM_L1')),
    ('wrong-shape', 'posenet', posenet_with_wrong_conv1_1_shape,   # slim: 8
     ("'conv1_1'", 'expected shape (8, 3, 3, 3)', 'found (8, 3, 5, 5)')),
    ('handnet-as-posenet', 'posenet', handnet_model, WRONG_NETWORK),
    ('handnet-as-facenet', 'facenet', handnet_model, WRONG_NETWORK),
]


@pytest.mark.parametrize('network,make_input,fragments',
                         [case[1:] for case in REFUSED],
                         ids=[case[0] for case in REFUSED])
def test_refused_input(network, make_input, fragments, slim_networks,
                       caffemodel, tmp_path, out_dir, capsys):
    source = make_input(tmp_path, caffemodel)
    assert_refused(capsys, [network, source, out_dir / 'weights.npz'],
                   out_dir, *fragments)


@pytest.mark.parametrize('make_input', [random_bytes, handnet_model],
                         ids=['not-a-caffemodel', 'wrong-network'])
def test_failure_leaves_an_existing_output_untouched(make_input,
                                                     slim_networks,
                                                     caffemodel, tmp_path,
                                                     out_dir, capsys):
    destination = out_dir / 'weights.npz'
    destination.write_bytes(b'the previous weights')
    source = make_input(tmp_path, caffemodel)
    assert_refused(capsys, ['posenet', source, destination], out_dir)
    assert destination.read_bytes() == b'the previous weights'


def test_output_folder_does_not_exist(slim_networks, caffemodel, tmp_path,
                                      capsys):
    destination = tmp_path / 'no-such-folder' / 'weights.npz'
    assert_refused(capsys, ['handnet', caffemodel('handnet'), destination],
                   tmp_path, 'no-such-folder', 'folder does not exist')


def test_output_is_a_folder(slim_networks, caffemodel, out_dir, capsys):
    """OUT naming an existing folder is a problem with the input like any
    other: exit status 2 and one line, not a traceback."""
    (out_dir / 'weights.npz').mkdir()
    assert_refused(capsys, ['handnet', caffemodel('handnet'),
                            out_dir / 'weights.npz'], out_dir, 'weights.npz')


@pytest.mark.parametrize('spelling', ['same', 'dotdot', 'symlink'])
def test_output_equal_to_input_is_refused(spelling, slim_networks,
                                          caffemodel, tmp_path, capsys):
    source = tmp_path / 'handnet.caffemodel'
    source.write_bytes(caffemodel('handnet').read_bytes())
    destination = {
        'same': source,
        'dotdot': tmp_path / '..' / tmp_path.name / source.name,
        'symlink': tmp_path / 'link.npz',
    }[spelling]
    if spelling == 'symlink':
        destination.symlink_to(source)
    assert_refused(capsys, ['handnet', source, destination], tmp_path,
                   'would overwrite the input')
    assert source.read_bytes() == caffemodel('handnet').read_bytes()


def test_command_line_error(tmp_path):
    result = subprocess.run(
        [sys.executable, 'convert_model.py', 'posenet',
         str(tmp_path / 'missing.caffemodel'), str(tmp_path / 'out.npz')],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stdout == ''
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(ERROR_PREFIX)
    assert 'missing.caffemodel: no such file' in lines[0]
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------------------
# load_weights
# ---------------------------------------------------------------------------


def load_error(network, path):
    with pytest.raises(WeightsError) as info:
        load_weights(NETWORKS[network](), str(path))
    return str(info.value)


def test_load_weights_of_another_network(slim_networks, converted):
    message = load_error('handnet', converted('facenet'))
    assert 'HandNet' in message and str(converted('facenet')) in message


def test_load_weights_missing_file(slim_networks, tmp_path):
    message = load_error('handnet', tmp_path / 'handnet.npz')
    assert 'no such file' in message and 'convert_model.py' in message


def random_data(converted):
    return np.random.default_rng(SEED).bytes(4096)


def text(converted):
    return b'conv1_1/W: 0.5\n'


def npy_array(converted):
    """A single array in ``.npy`` format (what ``np.save`` writes)."""
    file = io.BytesIO()
    np.save(file, np.zeros(3, np.float32))
    return file.getvalue()


def truncated_npz(converted):
    data = converted('handnet').read_bytes()
    return data[:len(data) // 2]


NOT_NPZ = [random_data, text, npy_array, truncated_npz]


@pytest.mark.parametrize('contents', NOT_NPZ, ids=lambda f: f.__name__)
def test_load_weights_not_an_npz(contents, slim_networks, converted,
                                  tmp_path):
    path = tmp_path / 'handnet.npz'
    path.write_bytes(contents(converted))
    assert 'HandNet' in load_error('handnet', path)


def test_load_weights_empty_file(slim_networks, tmp_path):
    path = tmp_path / 'handnet.npz'
    path.write_bytes(b'')
    message = load_error('handnet', path)
    assert 'empty (0 bytes)' in message and 'convert_model.py' in message


def test_load_weights_parameter_of_another_shape(slim_networks, converted,
                                                  tmp_path):
    """A parameter whose shape differs is refused even where NumPy could
    broadcast it into the network's parameter."""
    arrays = read_npz(converted('handnet'))
    arrays['conv6_2_CPM/b'] = arrays['conv6_2_CPM/b'][:1]
    path = tmp_path / 'handnet.npz'
    np.savez(path, **arrays)
    assert 'HandNet' in load_error('handnet', path)


UNPICKLED = []


def _record_unpickling():
    UNPICKLED.append(True)


class _Payload:
    """Records in UNPICKLED if it is ever unpickled."""

    def __reduce__(self):
        return _record_unpickling, ()


def test_load_weights_refuses_pickles(slim_networks, converted, tmp_path):
    arrays = read_npz(converted('handnet'))
    payload = np.empty(1, dtype=object)
    payload[0] = _Payload()
    arrays['conv1_1/W'] = payload
    path = tmp_path / 'handnet.npz'
    np.savez(path, **arrays)
    message = load_error('handnet', path)
    assert 'HandNet' in message
    assert UNPICKLED == []


# ---------------------------------------------------------------------------
# write_npz_atomic
# ---------------------------------------------------------------------------


def test_write_npz_atomic(tmp_path):
    arrays = {'a/W': np.arange(6, dtype=np.float32).reshape(2, 3),
              'a/b': np.ones(2, np.float32)}
    path = tmp_path / 'weights.npz'
    write_npz_atomic(str(path), arrays)
    assert os.listdir(tmp_path) == ['weights.npz']
    got = read_npz(path)
    assert set(got) == set(arrays)
    assert all(np.array_equal(got[key], arrays[key]) for key in arrays)
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize('existing', [None, b'the previous weights'],
                         ids=['new', 'existing'])
@pytest.mark.parametrize('error', [OSError('disk full'), KeyboardInterrupt()],
                         ids=['OSError', 'KeyboardInterrupt'])
def test_write_npz_atomic_failure(error, existing, tmp_path, monkeypatch):
    path = tmp_path / 'weights.npz'
    if existing is not None:
        path.write_bytes(existing)
    before = listing(tmp_path)

    def savez_failing_midway(file, *args, **kwds):
        file.write(b'PK\x03\x04 part of an archive')
        raise error
    monkeypatch.setattr(np, 'savez', savez_failing_midway)
    with pytest.raises(type(error)):
        write_npz_atomic(str(path), {'a': np.zeros(3, np.float32)})
    assert listing(tmp_path) == before


def test_load_network_equals_loading_into_an_initialised_network(
        slim_weights):
    """load_network skips the random initialisation; every parameter must
    still come from the file."""
    from models.convert import load_network
    path = slim_weights('handnet')
    fast = load_network('handnet', path)
    reference = load_weights(NETWORKS['handnet'](), path)
    fast_params = dict(fast.namedparams())
    for name, param in reference.namedparams():
        np.testing.assert_array_equal(fast_params[name].array, param.array)
