"""Read PyTorch ``.pth`` state dicts of float tensors, without PyTorch.

Many users hold CMU's weights as the files of the popular PyTorch port
(``body_pose_model.pth``, ``hand_pose_model.pth``): plain state dicts whose
tensor names end with the Caffe layer name and ``.weight`` or ``.bias``, e.g.
``model1_1.conv5_1_CPM_L1.bias``.  This module reads them into a
:class:`~models.caffemodel.CaffeModel`, so the converter treats them exactly
as caffemodels.

Two container formats are read:

* the zip format of ``torch.save`` since torch 1.6: ``<root>/data.pkl`` (the
  pickled object) and one ``<root>/data/<key>`` file of raw bytes per storage;
* the legacy format of torch < 1.6: consecutive pickles (magic number,
  protocol version, system info, the object, the list of storage keys), then
  for each storage an int64 element count and its raw bytes.

Pickles can run arbitrary code, so they are read with
:class:`RestrictedUnpickler`, which resolves only the few globals that a state
dict of float tensors needs, each to a local stand-in (never to torch or to
anything else):

* ``collections.OrderedDict``;
* ``torch._utils._rebuild_tensor_v2``, ``_rebuild_tensor`` and
  ``_rebuild_parameter``;
* ``torch.FloatStorage``, ``HalfStorage``, ``DoubleStorage`` and
  ``BFloat16Storage``.

Any other global (``os.system``, ``builtins.eval``, ...) stops the reading
with a :class:`PthError` before anything is called.

Nothing is allocated by a size the file declares before that size is checked
against the file's real size and the limits below, so a small crafted file
(a zip bomb, a storage of 2**38 values) is refused in a few MB of memory:

* a zip member's data must lie inside the file, and its declared
  uncompressed size must be what the tensors need (storages) or at most
  :data:`MAX_PICKLE_BYTES` (``data.pkl``); a compressed member (``torch.save``
  stores them uncompressed) may expand at most :data:`MAX_ZIP_EXPANSION`
  times;
* a legacy storage's element count times its element size must fit in the
  bytes that remain in the file, and its pickles in the first
  :data:`MAX_PICKLE_BYTES` bytes;
* the storages read and the float32 arrays made add up to at most
  :data:`MAX_TENSOR_BYTES` each, and a tensor has no more values than its
  storage (a zero stride cannot blow one value up into gigabytes).
"""
from __future__ import annotations

import collections
import dataclasses
import io
import math
import pickle
import pickletools
import struct
import zipfile
from typing import BinaryIO, Callable, Dict, List, Optional, Tuple

import numpy as np

from common.errors import ToolError

from models.caffemodel import CaffeLayer, CaffeModel

ZIP_MAGIC = b'PK\x03\x04'
#: ``torch.serialization.MAGIC_NUMBER``, the first pickle of a legacy file.
LEGACY_MAGIC = 0x1950a86a20f9469cfc6c
#: Its pickled form after the protocol header: LONG1, 10 bytes, little-endian.
_LEGACY_MAGIC_OPS = b'\x8a\x0a' + LEGACY_MAGIC.to_bytes(10, 'little')
#: ``torch.serialization.PROTOCOL_VERSION`` of legacy files.
LEGACY_PROTOCOL = 1001

#: Parameter name suffix -> index of the Caffe blob.
BLOB_OF_SUFFIX = {'weight': 0, 'bias': 1}

#: Most bytes of storage data a file may hold, and most bytes of float32
#: arrays it may make (separately): 1 GiB, five times CMU's largest model
#: (the body network, 52.3 M values, 209 MB).
MAX_TENSOR_BYTES = 1 << 30
#: Most bytes of the pickles that describe the tensors (a state dict of
#: CMU's body network pickles to 20 KB): what a pickle builds can be some
#: tens of times its size.
MAX_PICKLE_BYTES = 4 << 20
#: A compressed zip member may declare at most this many times its
#: compressed size (weights deflate to about 0.93 of their size; zeros,
#: 1/1000)...
MAX_ZIP_EXPANSION = 20
#: ...unless it declares at most this many bytes.
ZIP_EXPANSION_SLACK = 1 << 20
#: NumPy's most dimensions.
MAX_DIMENSIONS = 64
#: Pickle opcodes refused before unpickling: protocol 5's out-of-band
#: buffers, which ``torch.save`` (protocol 2) never writes and whose
#: handling in CPython's unpickler misbehaves on damaged input.
REFUSED_OPCODES = frozenset({'BYTEARRAY8', 'NEXT_BUFFER', 'READONLY_BUFFER'})


class PthError(ToolError, ValueError):
    """The file is not a readable state dict; the message says why."""


# ---------------------------------------------------------------------------
# Stand-ins for the allowed globals
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _StorageType:
    """Stands in for ``torch.<Name>Storage``: the element type."""
    name: str
    dtype: str                 # NumPy dtype of the raw little-endian bytes

    @property
    def itemsize(self) -> int:
        return np.dtype(self.dtype).itemsize


STORAGE_TYPES = {name: _StorageType(name, dtype) for name, dtype in (
    ('FloatStorage', '<f4'), ('HalfStorage', '<f2'),
    ('DoubleStorage', '<f8'), ('BFloat16Storage', '<u2'))}


@dataclasses.dataclass
class _Storage:
    """A storage referenced by the pickle; ``data`` (raw bytes) may come
    later (legacy format) or on first use (zip format)."""
    type: _StorageType
    numel: int
    key: str
    data: Optional[memoryview] = None
    offset: int = 0            # elements, for a legacy view of a root storage
    root: Optional['_Storage'] = None

    def elements(self) -> np.ndarray:
        """The storage's values as a 1-d array of its stored dtype."""
        if self.root is not None:
            return self.root.elements()[self.offset:self.offset + self.numel]
        if self.data is None:
            raise PthError(f'storage {self.key!r} has no data in the file')
        return np.frombuffer(self.data, dtype=self.type.dtype,
                             count=self.numel)


@dataclasses.dataclass
class _Tensor:
    """A tensor to build once its storage's bytes are known."""
    storage: _Storage
    offset: int
    size: Tuple[int, ...]
    stride: Tuple[int, ...]

    def values(self) -> int:
        """How many values the tensor has.

        Raises:
            PthError: a size, stride or offset is not a natural number, or
                sizes and strides are not as many, or too many.
        """
        if not all(isinstance(n, int) and n >= 0
                   for n in (self.offset, *self.size, *self.stride)):
            raise PthError('a tensor has a negative or non-integer size, '
                           'stride or offset')
        if len(self.size) != len(self.stride):
            raise PthError('a tensor has as many strides as dimensions')
        if len(self.size) > MAX_DIMENSIONS:
            raise PthError(f'a tensor has {len(self.size)} dimensions; '
                           f'the file is damaged')
        return math.prod(self.size)

    def to_numpy(self) -> np.ndarray:
        """A contiguous float32 array, after checking that every element
        lies inside the storage (``as_strided`` itself does not check) and
        that there are no more elements than in the storage."""
        values = self.values()
        source = self.storage.elements()
        if values > source.size:
            raise PthError(
                f'a tensor of shape {self.size} has more values than its '
                f'storage ({source.size}); the file is damaged')
        if 0 not in self.size:
            last = self.offset + sum((n - 1) * s
                                     for n, s in zip(self.size, self.stride))
            if last >= source.size:
                raise PthError(
                    f'a tensor of shape {self.size} reaches past the end of '
                    f'its storage ({source.size} values); the file is damaged')
        item = source.itemsize
        view = np.lib.stride_tricks.as_strided(
            source[self.offset:] if source.size else source,
            shape=self.size, strides=tuple(s * item for s in self.stride),
            writeable=False)
        if self.storage.type.name == 'BFloat16Storage':
            return (view.astype('<u4') << 16).view('<f4').astype(np.float32)
        return np.ascontiguousarray(view, dtype=np.float32)


def _shape(value, what: str) -> Tuple[int, ...]:
    if not isinstance(value, (tuple, list)):
        raise PthError(f'a tensor has a {what} that is not a tuple')
    return tuple(value)


def _rebuild_tensor_v2(storage, storage_offset, size, stride,
                       requires_grad=False, backward_hooks=None,
                       metadata=None) -> _Tensor:
    """Stands in for ``torch._utils._rebuild_tensor_v2``."""
    return _rebuild_tensor(storage, storage_offset, size, stride)


def _rebuild_tensor(storage, storage_offset, size, stride) -> _Tensor:
    """Stands in for ``torch._utils._rebuild_tensor``."""
    if not isinstance(storage, _Storage):
        raise PthError('a tensor is built from something other than a '
                       'storage of the file')
    return _Tensor(storage, storage_offset, _shape(size, 'size'),
                   _shape(stride, 'stride'))


def _rebuild_parameter(data, requires_grad=False,
                       backward_hooks=None) -> _Tensor:
    """Stands in for ``torch._utils._rebuild_parameter``."""
    if not isinstance(data, _Tensor):
        raise PthError('a parameter wraps something other than a tensor')
    return data


#: ``(module, name)`` -> stand-in: everything the unpickler may resolve.
ALLOWED_GLOBALS: Dict[Tuple[str, str], object] = {
    ('collections', 'OrderedDict'): collections.OrderedDict,
    ('torch._utils', '_rebuild_tensor_v2'): _rebuild_tensor_v2,
    ('torch._utils', '_rebuild_tensor'): _rebuild_tensor,
    ('torch._utils', '_rebuild_parameter'): _rebuild_parameter,
    **{('torch', name): type_ for name, type_ in STORAGE_TYPES.items()},
}


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only :data:`ALLOWED_GLOBALS`.

    Args:
        file: The pickle.
        load_storage: ``(storage type, key, numel, persistent id) -> storage``
            for the ``('storage', ...)`` persistent ids of torch.
    """

    def __init__(self, file: BinaryIO,
                 load_storage: Optional[Callable[..., _Storage]] = None):
        super().__init__(file)
        self._load_storage = load_storage

    def find_class(self, module: str, name: str):
        try:
            return ALLOWED_GLOBALS[module, name]
        except KeyError:
            raise PthError(f'refused to load {module}.{name} from the pickle:'
                           f' a weights file holds only tensors') from None

    def persistent_load(self, pid):
        if (self._load_storage is None or not isinstance(pid, tuple)
                or not pid or pid[0] != 'storage'):
            raise PthError(f'unexpected persistent id {str(pid)[:60]} in '
                           f'the pickle')
        if len(pid) < 5 or not isinstance(pid[1], _StorageType) \
                or not isinstance(pid[4], int) or pid[4] < 0:
            raise PthError(f'malformed storage id {str(pid)[:60]} in the '
                           f'pickle')
        return self._load_storage(pid[1], str(pid[2]), pid[4], pid)


# ---------------------------------------------------------------------------
# Detection and reading
# ---------------------------------------------------------------------------


def is_pth(path: str) -> bool:
    """Whether the file's content is a ``torch.save`` file (zip archive or
    legacy pickle sequence); the file name does not matter."""
    with open(path, 'rb') as f:
        head = f.read(16)
    return head.startswith(ZIP_MAGIC) or _is_legacy(head)


def _is_legacy(head: bytes) -> bool:
    """A pickle (protocol 2+ header) of :data:`LEGACY_MAGIC`."""
    return (len(head) >= 14 and head[0] == 0x80
            and head[2:14] == _LEGACY_MAGIC_OPS)


def read_pth(path: str) -> Dict[str, np.ndarray]:
    """Read a ``.pth`` state dict: ``{'model0.conv1_1.weight': array, ...}``.

    The arrays are float32 copies.  A dict holding the state dict under
    ``'state_dict'`` is accepted too.

    Raises:
        PthError: not a state dict of float tensors, damaged or truncated,
            or a pickle naming anything but the allowed globals.
        OSError: the file cannot be read.
    """
    with open(path, 'rb') as f:
        head = f.read(16)
        f.seek(0)
        if head.startswith(ZIP_MAGIC):
            return _load_zip(f)
        if _is_legacy(head):
            return _load_legacy(f)
        raise PthError('not a PyTorch file (neither a zip archive nor a '
                       'legacy torch.save file)')


def _check_opcodes(data: BinaryIO) -> None:
    """Walk the next pickle of ``data`` without building anything, and leave
    ``data`` where it was: every length it declares (of a string, bytes, a
    long) must fit in the bytes that follow, so that unpickling allocates
    no more than the pickle's size, and no opcode may be refused."""
    start = data.tell()
    try:
        for opcode, _, _ in pickletools.genops(data):
            if opcode.name in REFUSED_OPCODES:
                raise PthError(f'the pickle in the file holds a '
                               f'{opcode.name} opcode, which torch.save '
                               f'never writes; the file is damaged')
    except (ValueError, EOFError, struct.error) as error:
        raise PthError(f'the pickle in the file is damaged ({error}); '
                       f'download or copy it again') from None
    finally:
        data.seek(start)


def _unpickle(data: BinaryIO, load_storage) -> object:
    """One restricted unpickling (its opcodes checked first, see
    :func:`_check_opcodes`); damage becomes a :class:`PthError`."""
    _check_opcodes(data)
    try:
        return RestrictedUnpickler(data, load_storage).load()
    except PthError:
        raise
    except MemoryError:
        raise PthError('the pickle in the file declares an object larger '
                       'than memory; the file is damaged') from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError,
            KeyError, IndexError, AttributeError, OverflowError,
            struct.error) as error:
        raise PthError(f'the pickle in the file is damaged '
                       f'({str(error) or type(error).__name__}); download '
                       f'or copy it again') from None


class _Budget:
    """Bytes still allowed of something the file makes us allocate."""

    def __init__(self, what: str):
        self.what, self.left = what, MAX_TENSOR_BYTES

    def spend(self, size: int) -> None:
        """Take ``size`` bytes, or raise PthError if they are not left."""
        if size > self.left:
            raise PthError(
                f'its {self.what} would take more than '
                f'{_mib(MAX_TENSOR_BYTES)}, far more than any OpenPose '
                f'model; the file is damaged or holds other weights')
        self.left -= size


def _mib(size: int) -> str:
    return f'{size / 2**20:g} MiB'


def _member_problem(info: zipfile.ZipInfo, archive_size: int,
                    expected: Optional[int], limit: int) -> Optional[str]:
    """Why the zip member ``info`` is not read: its data lies past the end
    of the archive, its size is not ``expected`` (when given) or is over
    ``limit``, or it would expand too much."""
    if info.header_offset < 0:
        return f'{info.filename} starts before the archive; it is damaged'
    if info.header_offset + info.compress_size > archive_size:
        return (f'{info.filename} reaches past the end of the archive; the '
                f'file is truncated, download or copy it again')
    if expected is not None and info.file_size != expected:
        return (f'{info.filename} holds {info.file_size} bytes, the pickle '
                f'says {expected}; the file is damaged')
    if info.file_size > limit:
        return (f'{info.filename} declares {info.file_size} bytes, more than'
                f' the {_mib(limit)} it may have; the file is damaged')
    if (info.compress_type != zipfile.ZIP_STORED
            and info.file_size > ZIP_EXPANSION_SLACK
            and info.file_size > MAX_ZIP_EXPANSION * info.compress_size):
        return (f'{info.filename} would expand {info.compress_size} bytes '
                f'into {info.file_size} (a zip bomb?); refused')
    return None


def _load_zip(f: BinaryIO) -> Dict[str, np.ndarray]:
    """The state dict of a zip-format ``torch.save`` file."""
    archive_size = f.seek(0, io.SEEK_END)
    f.seek(0)
    try:
        archive = zipfile.ZipFile(f)
        names = set(archive.namelist())

        def read(name: str, expected: Optional[int] = None,
                 limit: int = MAX_PICKLE_BYTES) -> bytes:
            """A member, after checking its declared sizes."""
            info = archive.getinfo(name)
            problem = _member_problem(info, archive_size, expected, limit)
            if problem:
                raise PthError(problem)
            return archive.read(info)

        pickles = [n for n in names
                   if n.endswith('/data.pkl') and n.count('/') == 1]
        if len(pickles) != 1:
            raise PthError('a zip archive without one <name>/data.pkl: not '
                           'a PyTorch weights file')
        root = pickles[0][:-len('data.pkl')]
        byteorder = (read(root + 'byteorder').decode('latin-1').strip()
                     if root + 'byteorder' in names else 'little')
        if byteorder != 'little':
            raise PthError(f'tensors stored {byteorder}-endian are not '
                           f'supported; re-save the file on a little-endian '
                           f'machine')
        storages: Dict[str, _Storage] = {}
        budget = _Budget('storages')

        def load_storage(type_: _StorageType, key: str, numel: int,
                         pid) -> _Storage:
            """Read ``data/<key>`` on first use, its size checked first."""
            if key not in storages:
                name = f'{root}data/{key}'
                if name not in names:
                    raise PthError(f'the archive lacks {name}; the file is '
                                   f'damaged')
                size = numel * type_.itemsize
                budget.spend(size)
                data = read(name, size, MAX_TENSOR_BYTES)
                storages[key] = _Storage(type_, numel, key, memoryview(data))
            return storages[key]

        obj = _unpickle(io.BytesIO(read(pickles[0])), load_storage)
        return _state_dict(obj)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError,
            NotImplementedError, UnicodeDecodeError) as error:
        raise PthError(f'the zip archive is truncated or damaged ({error});'
                       f' download or copy it again') from None


def _load_legacy(f: BinaryIO) -> Dict[str, np.ndarray]:
    """The state dict of a legacy (torch < 1.6) ``torch.save`` file."""
    file_size = f.seek(0, io.SEEK_END)
    f.seek(0)
    head = f.read(MAX_PICKLE_BYTES)
    pickles = io.BytesIO(head)

    def header(load_storage=None) -> object:
        """The next pickle, from the first :data:`MAX_PICKLE_BYTES`."""
        try:
            return _unpickle(pickles, load_storage)
        except PthError as error:
            if len(head) == MAX_PICKLE_BYTES < file_size:
                raise PthError(f'{error} (or its pickles take more than '
                               f'{_mib(MAX_PICKLE_BYTES)}: a state dict\'s '
                               f'take a few KB)') from None
            raise

    if header() != LEGACY_MAGIC:
        raise PthError('not a legacy torch.save file (bad magic number)')
    protocol = header()
    if protocol != LEGACY_PROTOCOL:
        raise PthError(f'unsupported legacy protocol version {protocol!r}')
    info = header()
    if isinstance(info, dict) and info.get('little_endian') is False:
        raise PthError('tensors stored big-endian are not supported; '
                       're-save the file on a little-endian machine')
    roots: Dict[str, _Storage] = {}

    def load_storage(type_: _StorageType, key: str, numel: int,
                     pid) -> _Storage:
        """A root storage, or a view of one (``view_metadata``)."""
        root = roots.setdefault(key, _Storage(type_, numel, key))
        view = pid[5] if len(pid) > 5 else None
        if view is None:
            return root
        _, offset, size = view
        if not all(isinstance(n, int) and n >= 0 for n in (offset, size)):
            raise PthError(f'storage {key!r} has a malformed view')
        return _Storage(type_, size, key, offset=offset, root=root)

    obj = header(load_storage)
    keys = header()
    if not isinstance(keys, list):
        raise PthError('the legacy file has no list of storage keys')
    f.seek(pickles.tell())
    budget = _Budget('storages')
    for key in keys:
        storage = roots.get(str(key))
        if storage is None:
            raise PthError(f'the legacy file stores unknown storage {key!r}')
        storage.data = _read_legacy_storage(f, file_size, storage, budget)
    return _state_dict(obj)


def _read_legacy_storage(f: BinaryIO, file_size: int, storage: _Storage,
                         budget: _Budget) -> memoryview:
    """The bytes of ``storage``: its int64 element count, checked against
    the pickle's and against the bytes left in the file, then its data."""
    count = f.read(8)
    if len(count) < 8:
        raise PthError('the file is truncated; download or copy it again')
    numel = int.from_bytes(count, 'little', signed=True)
    if numel != storage.numel:
        raise PthError(f'storage {storage.key!r} holds {numel} values, the '
                       f'pickle says {storage.numel}; the file is damaged')
    size = numel * storage.type.itemsize
    left = file_size - f.tell()
    if size > left:
        raise PthError(f'storage {storage.key!r} declares {numel} values '
                       f'({size} bytes), but only {left} bytes are left in '
                       f'the file; it is truncated or damaged, download or '
                       f'copy it again')
    budget.spend(size)
    data = f.read(size)
    if len(data) < size:
        raise PthError('the file is truncated; download or copy it again')
    return memoryview(data)


def _state_dict(obj: object) -> Dict[str, np.ndarray]:
    """The float32 arrays of ``obj``, a flat ``{name: tensor}`` dict (or a
    dict holding one under ``'state_dict'``); nothing else is made."""
    if isinstance(obj, dict) and isinstance(obj.get('state_dict'), dict):
        obj = obj['state_dict']
    if not isinstance(obj, dict):
        raise PthError(f'the file holds a {type(obj).__name__}, not a state '
                       f'dict (save model.state_dict())')
    others = [str(key)[:60] for key, value in obj.items()
              if not isinstance(key, str) or not isinstance(value, _Tensor)]
    if others:
        raise PthError(f'not a state dict of tensors: {_names(others)} '
                       f'are not tensors')
    if not obj:
        raise PthError('the state dict is empty')
    budget = _Budget('float32 arrays')
    arrays = {}
    for name, tensor in obj.items():
        budget.spend(4 * tensor.values())
        arrays[name] = tensor.to_numpy()
    return arrays


# ---------------------------------------------------------------------------
# State dict -> Caffe layers
# ---------------------------------------------------------------------------


def _names(names: List[str], limit: int = 4) -> str:
    shown = ', '.join(names[:limit])
    return shown + (f' and {len(names) - limit} more'
                    if len(names) > limit else '')


def layer_of(name: str) -> Optional[Tuple[str, int]]:
    """``'model1_1.conv5_1_CPM_L1.bias'`` -> ``('conv5_1_CPM_L1', 1)``: the
    Caffe layer and blob index of a tensor, or None if the name does not end
    with ``<layer>.weight`` or ``<layer>.bias``."""
    stem, _, suffix = name.rpartition('.')
    layer = stem.rpartition('.')[2]
    if suffix not in BLOB_OF_SUFFIX or not layer:
        return None
    return layer, BLOB_OF_SUFFIX[suffix]


def pth_to_caffe_model(tensors: Dict[str, np.ndarray]) -> CaffeModel:
    """Group a state dict's tensors by Caffe layer name.

    Each layer becomes ``CaffeLayer(name, 'Convolution', [W, b])`` (the
    weight, then the bias if there is one), in the order of the state dict.

    Raises:
        PthError: a name that does not follow the rule, a layer named twice
            (under two prefixes), or a bias without a weight.
    """
    layers: Dict[str, Dict[int, np.ndarray]] = {}
    odd, twice = [], []
    for name, array in tensors.items():
        found = layer_of(name)
        if found is None:
            odd.append(name)
            continue
        layer, blob = found
        if blob in layers.setdefault(layer, {}):
            twice.append(layer)
        layers[layer][blob] = array
    if odd:
        raise PthError(f'{len(odd)} tensor name(s) do not end with '
                       f'<layer>.weight or <layer>.bias: {_names(odd)}')
    if twice:
        raise PthError(f'layer(s) named more than once: {_names(twice)}')
    no_weight = [layer for layer, blobs in layers.items() if 0 not in blobs]
    if no_weight:
        raise PthError(f'layer(s) with a bias but no weight: '
                       f'{_names(no_weight)}')
    return CaffeModel([CaffeLayer(layer, 'Convolution',
                                  [blobs[i] for i in sorted(blobs)])
                       for layer, blobs in layers.items()], 'pth')
