"""PyTorch ``.pth`` weights (:mod:`models.pth`) through the converter.

The ``.pth`` files are written here without torch, byte for byte as
``torch.save`` writes a state dict: a pickle whose tensors are
``torch._utils._rebuild_tensor_v2`` calls on persistent storage ids, in the
zip format (torch >= 1.6) or the legacy format.  Stand-in ``torch`` and
``torch._utils`` modules are registered in ``sys.modules`` only while a file
is written, so that pickle emits the same GLOBAL opcodes as torch does.

The files hold conftest's slim synthesized weights (the real layer names, a
fraction of the channels; ``slim_weights``): reading, naming and refusing do
not depend on the channel counts, and the converter checks the shapes of a
.pth file by the same code as those of a caffemodel.
"""
import collections
import io
import pickle
import struct
import sys
import types
import zipfile
import zlib
from pathlib import Path
from typing import Dict

import numpy as np
import pytest

import convert_model
from tests.cli_checks import assert_refused, assert_same_npz
from models import spec as specs
from models import pth
from models.pth import (LEGACY_MAGIC, PthError, is_pth, layer_of,
                        pth_to_caffe_model, read_pth)
from models.synthetic import synthesize_weights, write_synthetic_caffemodel
from tests.peak_memory import peak_growth

# ---------------------------------------------------------------------------
# Writing .pth files as torch.save does
# ---------------------------------------------------------------------------


def _stand_in_torch():
    """Modules ``torch`` and ``torch._utils`` with the objects that a state
    dict pickle names; calling them is an error (only pickled here)."""
    torch = types.ModuleType('torch')
    utils = types.ModuleType('torch._utils')
    torch._utils = utils
    torch.FloatStorage = type('FloatStorage', (), {'__module__': 'torch',
                                                   '__qualname__':
                                                   'FloatStorage'})

    def _rebuild_tensor_v2(*args):
        raise AssertionError('only pickled')
    _rebuild_tensor_v2.__module__ = 'torch._utils'
    _rebuild_tensor_v2.__qualname__ = '_rebuild_tensor_v2'
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    return torch, utils


class _Storage:
    """One storage of float32 values, saved under ``key``."""

    def __init__(self, key: str, values: np.ndarray):
        self.key, self.values = key, np.ascontiguousarray(values, '<f4')


class _Tensor:
    """Pickles as torch's tensors do: ``_rebuild_tensor_v2(storage, offset,
    size, stride, requires_grad, backward_hooks)``."""

    def __init__(self, rebuild, storage, offset, size, stride):
        self.args = (storage, offset, tuple(size), tuple(stride), False,
                     collections.OrderedDict())
        self.rebuild = rebuild

    def __reduce_ex__(self, protocol):
        return self.rebuild, self.args


class _Pickler(pickle.Pickler):
    """Storages become persistent ids, as in ``torch.save``."""

    def __init__(self, file, storage_type, legacy):
        super().__init__(file, protocol=2)
        self.storage_type, self.legacy = storage_type, legacy

    def persistent_id(self, obj):
        if not isinstance(obj, _Storage):
            return None
        pid = ('storage', self.storage_type, obj.key, 'cpu', obj.values.size)
        return pid + (None,) if self.legacy else pid


def _tensors(state: Dict[str, np.ndarray], rebuild):
    """Storages and tensor stand-ins for a state dict.  Like real files, it
    has some tensors that are not simple contiguous storages: all biases
    share one storage (at offsets), and 4-d weights of layers with 'conv1'
    in their name are stored transposed (non-contiguous strides)."""
    storages, tensors = [], collections.OrderedDict()
    biases = _Storage('biases', np.concatenate(
        [a for name, a in state.items() if name.endswith('.bias')]
        or [np.zeros(0, np.float32)]))
    offset = 0
    for name, array in state.items():
        if name.endswith('.bias') and array.ndim == 1:
            tensors[name] = _Tensor(rebuild, biases, offset, array.shape, (1,))
            offset += array.size
            continue
        key = str(len(storages))
        if 'conv1' in name and array.ndim == 4:
            # stored as (in, out, kh, kw), seen as (out, in, kh, kw)
            stored = _Storage(key, array.transpose(1, 0, 2, 3))
            o, i, h, w = array.shape
            stride = (h * w, o * h * w, w, 1)
        else:
            stored = _Storage(key, array)
            stride = tuple(s // 4 for s in
                           np.ascontiguousarray(array, '<f4').strides)
        storages.append(stored)
        tensors[name] = _Tensor(rebuild, stored, 0, array.shape, stride)
    if offset:
        storages.append(biases)
    return storages, tensors


def write_pth(path: Path, state: Dict[str, np.ndarray],
              legacy: bool = False) -> Path:
    """Write ``state`` as ``torch.save(state_dict, path)`` would (zip format,
    or the legacy format of torch < 1.6)."""
    torch, utils = _stand_in_torch()
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sys.modules, 'torch', torch)
        patch.setitem(sys.modules, 'torch._utils', utils)
        storages, tensors = _tensors(state, utils._rebuild_tensor_v2)
        with open(path, 'wb') as f:
            if legacy:
                _write_legacy(f, tensors, storages, torch.FloatStorage)
            else:
                pkl = _pickle_bytes(tensors, torch.FloatStorage)
                with zipfile.ZipFile(f, 'w', zipfile.ZIP_STORED) as archive:
                    archive.writestr('archive/data.pkl', pkl)
                    archive.writestr('archive/byteorder', 'little')
                    for storage in storages:
                        archive.writestr(f'archive/data/{storage.key}',
                                         storage.values.tobytes())
                    archive.writestr('archive/version', '3\n')
    return path


def _write_legacy(f, tensors, storages, storage_type):
    """The legacy format: header pickles, the object, the storage keys, then
    each storage's int64 element count and bytes."""
    for header in (LEGACY_MAGIC, 1001,
                   {'protocol_version': 1001, 'little_endian': True,
                    'type_sizes': {'short': 2, 'int': 4, 'long': 8}}):
        pickle.dump(header, f, protocol=2)
    _Pickler(f, storage_type, True).dump(tensors)
    pickle.dump([s.key for s in storages], f, protocol=2)
    for storage in storages:
        f.write(np.int64(storage.values.size).tobytes())
        f.write(storage.values.tobytes())


class _Declared(_Storage):
    """A storage that declares ``numel`` values whatever bytes it holds."""

    def __init__(self, key: str, numel: int, data: bytes = b''):
        self.key = key
        self.values = types.SimpleNamespace(size=numel, tobytes=lambda: data)


def write_crafted(path: Path, tensors: Dict[str, tuple], storages,
                  legacy: bool = False, raw_members=()) -> Path:
    """A file of ``{name: (storage, offset, size, stride)}`` tensors whose
    ``storages`` (:class:`_Storage` or :class:`_Declared`) are written; in
    the zip format, ``raw_members`` are ``(name, deflated bytes, CRC-32,
    uncompressed size)`` members written as they are."""
    torch, utils = _stand_in_torch()
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sys.modules, 'torch', torch)
        patch.setitem(sys.modules, 'torch._utils', utils)
        objects = collections.OrderedDict(
            (name, _Tensor(utils._rebuild_tensor_v2, *args))
            for name, args in tensors.items())
        if legacy:
            with open(path, 'wb') as f:
                _write_legacy(f, objects, storages, torch.FloatStorage)
            return path
        pkl = _pickle_bytes(objects, torch.FloatStorage)
    members = [('archive/data.pkl', zipfile.ZIP_STORED, pkl, zlib.crc32(pkl),
                len(pkl))]
    members += [(f'archive/data/{s.key}', zipfile.ZIP_STORED,
                 s.values.tobytes(), zlib.crc32(s.values.tobytes()),
                 len(s.values.tobytes())) for s in storages]
    members += [(name, zipfile.ZIP_DEFLATED, data, crc, size)
                for name, data, crc, size in raw_members]
    path.write_bytes(_zip_bytes(members))
    return path


def _zip_bytes(members) -> bytes:
    """A zip archive of ``(name, method, stored bytes, CRC-32, uncompressed
    size)`` members, written by hand so that a member's data can be a
    deflate stream made without deflating gigabytes."""
    local, central = b'', b''
    for name, method, data, crc, size in members:
        name = name.encode()
        fields = (20, 0, method, 0, 0x21, crc, len(data), size, len(name), 0)
        central += (struct.pack('<4s6H3I5H2I', b'PK\x01\x02', 20, *fields,
                                0, 0, 0, 0, len(local)) + name)
        local += struct.pack('<4s5H3I2H', b'PK\x03\x04', *fields) + name + data
    end = struct.pack('<4s4H2IH', b'PK\x05\x06', 0, 0, len(members),
                      len(members), len(central), len(local), 0)
    return local + central + end


def deflated_zeros(size: int, block: int = 1 << 24):
    """``(deflate stream, CRC-32)`` of ``size`` zero bytes (a multiple of
    ``block``), in a fraction of a second: one block is deflated and
    repeated (a full flush makes each copy independent of the last)."""
    assert size % block == 0
    zeros = bytes(block)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(size // block):
        crc = zlib.crc32(zeros, crc)
    return chunk * (size // block) + b'\x03\x00', crc


def _pickle_bytes(obj, storage_type) -> bytes:
    buffer = io.BytesIO()
    _Pickler(buffer, storage_type, False).dump(obj)
    return buffer.getvalue()


def write_zip_pickle(path: Path, pkl: bytes) -> Path:
    """A zip-format file whose ``data.pkl`` is ``pkl``."""
    with zipfile.ZipFile(path, 'w') as archive:
        archive.writestr('archive/data.pkl', pkl)
        archive.writestr('archive/version', '3\n')
    return path


def pytorch_prefixes(spec: specs.NetSpec) -> Dict[str, str]:
    """Layer -> block of the PyTorch port: body ``model0`` (trunk),
    ``model{t}_{branch}``; hand ``model1_0`` (trunk), ``model1_1``,
    ``model{t}``."""
    body = len(spec.stages[0]) == 2
    prefixes = {layer.name: 'model0' if body else 'model1_0'
                for layer in spec.trunk if isinstance(layer, specs.Conv)}
    for t, stage in enumerate(spec.stages, start=1):
        for b, branch in enumerate(stage, start=1):
            block = (f'model{t}_{b}' if body else
                     'model1_1' if t == 1 else f'model{t}')
            prefixes.update({conv.name: block for conv in branch})
    return prefixes


def state_dict(network: str, seed: int) -> Dict[str, np.ndarray]:
    """The synthesized weights of ``network`` (its installed layer table),
    named as in the PyTorch port."""
    spec = specs.SPECS[network]
    prefixes = pytorch_prefixes(spec)
    state = collections.OrderedDict()
    for layer, weights, bias in synthesize_weights(spec, seed):
        state[f'{prefixes[layer]}.{layer}.weight'] = weights
        state[f'{prefixes[layer]}.{layer}.bias'] = bias
    return state


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


@pytest.fixture
def seed(slim_weights):
    """The seed of ``slim_weights``; the slim networks are installed."""
    return slim_weights.seed


@pytest.fixture
def hand_pth(tmp_path_factory, seed):
    """``hand_pth(legacy)`` -> the slim synthesized handnet as a .pth file."""
    folder = tmp_path_factory.mktemp('pth')
    made = {}

    def get(legacy=False):
        if legacy not in made:
            made[legacy] = write_pth(folder / f'hand-{legacy}.pth',
                                     state_dict('handnet', seed), legacy)
        return made[legacy]
    return get


# ---------------------------------------------------------------------------
# Conversions equal to the caffemodel's, bit for bit
# ---------------------------------------------------------------------------


def test_body_pth_converts_like_the_caffemodel(slim_weights, seed, tmp_path,
                                               capsys):
    source = write_pth(tmp_path / 'body_pose_model.pth',
                       state_dict('posenet', seed))
    destination = tmp_path / 'posenet.npz'
    try:
        assert convert_model.main(['posenet', str(source),
                                   str(destination)]) == 0
        out, err = capsys.readouterr()
        assert err == ''
        assert out.startswith('posenet: converted 92 layers (')
        assert 'PyTorch .pth' in out
        assert_same_npz(destination, slim_weights('posenet'))
    finally:
        source.unlink()
        destination.unlink(missing_ok=True)


@pytest.mark.parametrize('legacy', [False, True], ids=['zip', 'legacy'])
def test_hand_pth_converts_like_the_caffemodel(legacy, hand_pth, slim_weights,
                                               tmp_path, capsys):
    destination = tmp_path / 'handnet.npz'
    assert convert_model.main(['handnet', str(hand_pth(legacy)),
                               str(destination)]) == 0
    assert 'handnet: converted 52 layers' in capsys.readouterr().out
    assert_same_npz(destination, slim_weights('handnet'))


def test_tensor_names_follow_the_pytorch_port(seed):
    names = list(state_dict('posenet', seed))
    for name in ('model0.conv1_1.weight', 'model0.conv4_4_CPM.bias',
                 'model1_1.conv5_1_CPM_L1.bias',
                 'model1_2.conv5_5_CPM_L2.weight',
                 'model2_2.Mconv7_stage2_L2.weight',
                 'model6_1.Mconv1_stage6_L1.weight'):
        assert name in names
    hand = list(state_dict('handnet', seed))
    for name in ('model1_0.conv1_1.weight', 'model1_0.conv5_3_CPM.bias',
                 'model1_1.conv6_2_CPM.weight', 'model2.Mconv1_stage2.weight',
                 'model6.Mconv7_stage6.bias'):
        assert name in hand


def test_read_pth_gives_float32_copies(hand_pth, seed):
    tensors = read_pth(str(hand_pth()))
    want = state_dict('handnet', seed)
    assert list(tensors) == list(want)
    for name, array in want.items():
        got = tensors[name]
        assert got.dtype == np.float32 and got.flags.c_contiguous
        assert np.array_equal(got, array), name


def test_layer_names():
    assert layer_of('model1_1.conv5_1_CPM_L1.bias') == ('conv5_1_CPM_L1', 1)
    assert layer_of('module.model0.conv1_1.weight') == ('conv1_1', 0)
    assert layer_of('conv1_1.weight') == ('conv1_1', 0)
    assert layer_of('model0.conv1_1.running_mean') is None
    with pytest.raises(PthError, match='model0.conv1_1.running_mean'):
        pth_to_caffe_model({'model0.conv1_1.weight': np.zeros(1),
                            'model0.conv1_1.running_mean': np.zeros(1)})


# ---------------------------------------------------------------------------
# Detection by content
# ---------------------------------------------------------------------------


def test_pth_named_caffemodel_converts(hand_pth, slim_weights, tmp_path):
    source = tmp_path / 'pose_iter_102000.caffemodel'
    source.write_bytes(hand_pth().read_bytes())
    destination = tmp_path / 'out.npz'
    assert convert_model.main(['handnet', str(source), str(destination)]) == 0
    assert_same_npz(destination, slim_weights('handnet'))


def test_caffemodel_named_pth_converts(slim_weights, seed, tmp_path, capsys):
    source = tmp_path / 'hand_pose_model.pth'
    write_synthetic_caffemodel(str(source), specs.HANDNET, seed)
    assert not is_pth(str(source))
    destination = tmp_path / 'out.npz'
    assert convert_model.main(['handnet', str(source), str(destination)]) == 0
    assert 'V2 caffemodel' in capsys.readouterr().out
    assert_same_npz(destination, slim_weights('handnet'))


def test_is_pth(hand_pth):
    assert is_pth(str(hand_pth(False))) and is_pth(str(hand_pth(True)))


# ---------------------------------------------------------------------------
# Refused inputs: exit 2, one line, nothing written, nothing run
# ---------------------------------------------------------------------------


def _global_call(module: str, name: str, argument: str) -> bytes:
    """Protocol-2 pickle opcodes of ``module.name(argument)``."""
    return (b'\x80\x02c' + f'{module}\n{name}\n'.encode()
            + pickle.dumps(argument, protocol=2)[2:-1] + b'\x85R')


@pytest.mark.parametrize('module,name,code', [
    ('os', 'system', 'touch {}'),
    ('builtins', 'eval', "open({!r}, 'w').close()"),
    ('posix', 'system', 'touch {}'),
])
def test_code_in_the_pickle_is_refused_not_run(module, name, code, tmp_path,
                                               capsys):
    pwned = tmp_path / 'pwned'
    # the call stands alone, and then as a value of a state dict
    alone = _global_call(module, name, code.format(str(pwned))) + b'.'
    nested = (b'\x80\x02ccollections\nOrderedDict\n)R'
              + pickle.dumps('model0.conv1_1.weight', protocol=2)[2:-1]
              + _global_call(module, name, code.format(str(pwned)))
              + b's.')
    for i, pkl in enumerate((alone, nested)):
        source = write_zip_pickle(tmp_path / f'evil{i}.pth', pkl)
        assert_refused(capsys, ['handnet', source, tmp_path / 'out.npz'],
                       tmp_path, f'refused to load {module}.{name}',
                       str(source))
        assert not pwned.exists()
    # the same bytes, unpickled without restriction, do run (the test works)
    pickle.loads(alone)
    assert pwned.exists()


def _with(network, seed, **changes):
    state = state_dict(network, seed)
    for name, value in changes.items():
        name = name.replace('__', '.')
        if value is None:
            del state[name]
        else:
            state[name] = value
    return state


@pytest.mark.parametrize('legacy', [False, True], ids=['zip', 'legacy'])
def test_wrong_shape(legacy, seed, tmp_path, capsys):
    source = write_pth(tmp_path / 'hand.pth', _with(            # slim: 8
        'handnet', seed, model1_0__conv1_1__weight=np.zeros((8, 3, 5, 5),
                                                            np.float32)),
        legacy)
    assert_refused(capsys, ['handnet', source, tmp_path / 'out.npz'],
                   tmp_path, "'conv1_1'", 'expected shape (8, 3, 3, 3)',
                   'found (8, 3, 5, 5)')


def test_missing_layer(seed, tmp_path, capsys):
    source = write_pth(tmp_path / 'hand.pth', _with(
        'handnet', seed, model1_1__conv6_2_CPM__weight=None,
        model1_1__conv6_2_CPM__bias=None))
    assert_refused(capsys, ['handnet', source, tmp_path / 'out.npz'],
                   tmp_path, 'missing', 'conv6_2_CPM')


def test_other_network(hand_pth, tmp_path, capsys):
    assert_refused(capsys, ['posenet', hand_pth(), tmp_path / 'out.npz'],
                   tmp_path, 'holds the handnet model',
                   'convert_model.py handnet ')


@pytest.mark.parametrize('legacy', [False, True], ids=['zip', 'legacy'])
def test_truncated(legacy, hand_pth, tmp_path, capsys):
    data = hand_pth(legacy).read_bytes()
    source = tmp_path / 'hand.pth'
    source.write_bytes(data[:len(data) // 2])
    assert_refused(capsys, ['handnet', source, tmp_path / 'out.npz'],
                   tmp_path, 'truncated', str(source))


def test_tensor_past_its_storage_is_refused(tmp_path, capsys):
    """Sizes and strides are checked before NumPy's ``as_strided`` could
    read memory outside the storage."""
    torch, utils = _stand_in_torch()
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sys.modules, 'torch', torch)
        patch.setitem(sys.modules, 'torch._utils', utils)
        storage = _Storage('0', np.zeros(4, np.float32))
        pkl = _pickle_bytes(collections.OrderedDict(
            {'conv1_1.weight': _Tensor(utils._rebuild_tensor_v2, storage, 2,
                                       (2, 2), (2, 1))}),
            torch.FloatStorage)
    source = tmp_path / 'bad.pth'
    with zipfile.ZipFile(source, 'w') as archive:
        archive.writestr('archive/data.pkl', pkl)
        archive.writestr('archive/data/0', storage.values.tobytes())
    assert_refused(capsys, ['handnet', source, tmp_path / 'out.npz'],
                   tmp_path, 'past the end of its storage')


# ---------------------------------------------------------------------------
# Bombs: files that declare far more than they hold (issue case 6)
# ---------------------------------------------------------------------------

#: What a refused bomb may add to the peak memory of the reading process.
BOMB_GROWTH_MIB = 64


def read_in_child(source):
    """``(peak memory growth in MiB, (error type, message))`` of
    ``read_pth(source)`` in a fresh process."""
    return peak_growth('from models.pth import read_pth',
                       f'read_pth({str(source)!r})')


def zip_bomb(tmp_path, size):
    """A zip ``.pth`` whose one storage inflates to ``size`` zero bytes."""
    data, crc = deflated_zeros(size)
    return write_crafted(
        tmp_path / 'bomb.pth',
        {'conv1_1.weight': (_Declared('0', size // 4), 0, (size // 4,),
                            (1,))},
        [], raw_members=[('archive/data/0', data, crc, size)])


def test_deflate_bomb_is_refused_before_inflating(tmp_path):
    """A 1 MB zip whose storage inflates to 1 GiB of zeros was inflated in
    full (a 3 MB one took 6.35 GB).  Its declared size is checked against
    its compressed size first."""
    source = zip_bomb(tmp_path, 1 << 30)
    assert source.stat().st_size < 2 << 20
    growth, error = read_in_child(source)
    assert error and error[0] == 'PthError', error
    assert 'would expand' in error[1] and 'archive/data/0' in error[1]
    assert growth < BOMB_GROWTH_MIB, f'{growth:.0f} MiB'


def test_bomb_is_one_error_line_naming_the_file(tmp_path, capsys):
    source = zip_bomb(tmp_path, 64 << 20)
    assert_refused(capsys, ['handnet', source, tmp_path / 'out.npz'],
                   tmp_path, str(source), 'zip bomb')


def test_legacy_storage_longer_than_the_file_is_refused(tmp_path):
    """A 1.2 KB legacy file declaring a storage of 2**38 values died with a
    MemoryError traceback (``f.read`` of 1 TiB).  The declared size must fit
    in the bytes left in the file."""
    numel = 1 << 38
    storage = _Declared('0', numel, bytes(1000))
    source = write_crafted(tmp_path / 'legacy.pth',
                           {'conv1_1.weight': (storage, 0, (numel,), (1,))},
                           [storage], legacy=True)
    assert source.stat().st_size < 1500
    growth, error = read_in_child(source)
    assert error and error[0] == 'PthError', error
    assert f'declares {numel} values' in error[1]
    assert 'only 1000 bytes are left' in error[1]
    assert growth < BOMB_GROWTH_MIB, f'{growth:.0f} MiB'


@pytest.mark.parametrize('legacy', [False, True], ids=['zip', 'legacy'])
def test_zero_stride_cannot_multiply_a_value(legacy, tmp_path):
    """A tensor of 2**28 values on a storage of one, by a zero stride, made
    a 1 GiB array; a tensor may have no more values than its storage."""
    storage = _Storage('0', np.ones(1, np.float32))
    source = write_crafted(
        tmp_path / 'broadcast.pth',
        {'conv1_1.weight': (storage, 0, (1 << 28,), (0,))}, [storage],
        legacy=legacy)
    growth, error = read_in_child(source)
    assert error and error[0] == 'PthError', error
    assert 'more values than its storage (1)' in error[1]
    assert growth < BOMB_GROWTH_MIB, f'{growth:.0f} MiB'


@pytest.mark.parametrize('legacy', [False, True], ids=['zip', 'legacy'])
@pytest.mark.parametrize('opcode', [b'\x8e', b'\x96'],
                         ids=['BINBYTES8', 'BYTEARRAY8'])
def test_pickle_asking_for_a_huge_object_is_refused(tmp_path, legacy,
                                                    opcode):
    """Pickle opcodes carry lengths (2**60 bytes here) that CPython's
    unpickler allocates before reading: a MemoryError traceback (and, for
    BYTEARRAY8, "SystemError: deallocated bytearray object has exported
    buffers" lines at exit).  The opcodes are walked first, without
    building anything, and every length must fit in what follows."""
    pkl = b'\x80\x04' + opcode + struct.pack('<Q', 1 << 60) + b'x.'
    source = tmp_path / 'huge.pth'
    if legacy:
        source.write_bytes(pickle.dumps(LEGACY_MAGIC, protocol=2) + pkl)
    else:
        write_zip_pickle(source, pkl)
    with pytest.raises(PthError, match='damaged .*1152921504606846976 '
                                       'bytes'):
        read_pth(str(source))


@pytest.mark.parametrize('legacy', [False, True], ids=['zip', 'legacy'])
def test_tensor_bytes_are_capped(legacy, hand_pth, monkeypatch):
    monkeypatch.setattr(pth, 'MAX_TENSOR_BYTES', 1000)
    with pytest.raises(PthError, match='would take more than 0.000953674 '
                                       'MiB'):
        read_pth(str(hand_pth(legacy)))


@pytest.mark.parametrize('legacy', [False, True], ids=['zip', 'legacy'])
def test_pickle_bytes_are_capped(legacy, hand_pth, monkeypatch):
    monkeypatch.setattr(pth, 'MAX_PICKLE_BYTES', 1000)
    message = ('or its pickles take more than' if legacy else
               'data.pkl declares .* bytes, more than')
    with pytest.raises(PthError, match=message):
        read_pth(str(hand_pth(legacy)))


def test_zip_that_is_not_torch(tmp_path, capsys):
    source = tmp_path / 'weights.npz'
    np.savez(source, a=np.zeros(3))
    assert_refused(capsys, ['handnet', source, tmp_path / 'out.npz'],
                   tmp_path, 'not a PyTorch weights file')


# ---------------------------------------------------------------------------
# Files written by torch itself, where torch is installed
# ---------------------------------------------------------------------------


def test_torch_save(slim_weights, seed, tmp_path):
    torch = pytest.importorskip('torch')
    state = collections.OrderedDict(
        (name, torch.from_numpy(array.copy()))
        for name, array in state_dict('handnet', seed).items())
    source = tmp_path / 'hand_pose_model.pth'
    torch.save(state, source)
    destination = tmp_path / 'out.npz'
    assert convert_model.main(['handnet', str(source), str(destination)]) == 0
    assert_same_npz(destination, slim_weights('handnet'))
