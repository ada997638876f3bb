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
"""
from __future__ import annotations

import collections
import dataclasses
import io
import pickle
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

    def to_numpy(self) -> np.ndarray:
        """A contiguous float32 copy, after checking that every element lies
        inside the storage (``as_strided`` itself does not check)."""
        if not all(isinstance(n, int) and n >= 0
                   for n in (self.offset, *self.size, *self.stride)):
            raise PthError('a tensor has a negative or non-integer size, '
                           'stride or offset')
        if len(self.size) != len(self.stride):
            raise PthError('a tensor has as many strides as dimensions')
        source = self.storage.elements()
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
            obj = _load_zip(f)
        elif _is_legacy(head):
            obj = _load_legacy(f)
        else:
            raise PthError('not a PyTorch file (neither a zip archive nor '
                           'a legacy torch.save file)')
    return _state_dict(obj)


def _unpickle(data: BinaryIO, load_storage) -> object:
    """One restricted unpickling; damage becomes a :class:`PthError`."""
    try:
        return RestrictedUnpickler(data, load_storage).load()
    except PthError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError,
            KeyError, IndexError, AttributeError, OverflowError,
            struct.error) as error:
        raise PthError(f'the pickle in the file is damaged '
                       f'({str(error) or type(error).__name__}); download '
                       f'or copy it again') from None


def _load_zip(f: BinaryIO) -> object:
    """The object of a zip-format ``torch.save`` file."""
    try:
        archive = zipfile.ZipFile(f)
        pickles = [n for n in archive.namelist()
                   if n.endswith('/data.pkl') and n.count('/') == 1]
        if len(pickles) != 1:
            raise PthError('a zip archive without one <name>/data.pkl: not '
                           'a PyTorch weights file')
        root = pickles[0][:-len('data.pkl')]
        names = set(archive.namelist())
        byteorder = (archive.read(root + 'byteorder').decode().strip()
                     if root + 'byteorder' in names else 'little')
        if byteorder != 'little':
            raise PthError(f'tensors stored {byteorder}-endian are not '
                           f'supported; re-save the file on a little-endian '
                           f'machine')
        storages: Dict[str, _Storage] = {}

        def load_storage(type_: _StorageType, key: str, numel: int,
                         pid) -> _Storage:
            """Read ``data/<key>`` on first use and check its size."""
            if key not in storages:
                name = f'{root}data/{key}'
                if name not in names:
                    raise PthError(f'the archive lacks {name}; the file is '
                                   f'damaged')
                data = archive.read(name)
                if len(data) != numel * type_.itemsize:
                    raise PthError(
                        f'{name} holds {len(data)} bytes, not {numel} '
                        f'{type_.name} values; the file is damaged')
                storages[key] = _Storage(type_, numel, key, memoryview(data))
            return storages[key]

        obj = _unpickle(io.BytesIO(archive.read(pickles[0])), load_storage)
        return _materialize(obj)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError,
            NotImplementedError) as error:
        raise PthError(f'the zip archive is truncated or damaged ({error});'
                       f' download or copy it again') from None


def _load_legacy(f: BinaryIO) -> object:
    """The object of a legacy (torch < 1.6) ``torch.save`` file."""
    def header() -> object:
        return _unpickle(f, None)

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
        return _Storage(type_, size, key, offset=offset, root=root)

    obj = _unpickle(f, load_storage)
    keys = header()
    if not isinstance(keys, list):
        raise PthError('the legacy file has no list of storage keys')
    for key in keys:
        storage = roots.get(str(key))
        if storage is None:
            raise PthError(f'the legacy file stores unknown storage {key!r}')
        count = f.read(8)
        if len(count) < 8:
            raise PthError('the file is truncated; download or copy it again')
        numel = int.from_bytes(count, 'little', signed=True)
        if numel != storage.numel:
            raise PthError(f'storage {key!r} holds {numel} values, the '
                           f'pickle says {storage.numel}; the file is damaged')
        data = f.read(numel * storage.type.itemsize)
        if len(data) < numel * storage.type.itemsize:
            raise PthError('the file is truncated; download or copy it again')
        storage.data = memoryview(data)
    return _materialize(obj)


def _materialize(obj: object) -> object:
    """Replace every :class:`_Tensor` of a (nested) dict by its array."""
    if isinstance(obj, _Tensor):
        return obj.to_numpy()
    if isinstance(obj, dict):
        return type(obj)((key, _materialize(value))
                         for key, value in obj.items())
    return obj


def _state_dict(obj: object) -> Dict[str, np.ndarray]:
    """Check that ``obj`` is a flat ``{name: float32 array}`` dict."""
    if isinstance(obj, dict) and isinstance(obj.get('state_dict'), dict):
        obj = obj['state_dict']
    if not isinstance(obj, dict):
        raise PthError(f'the file holds a {type(obj).__name__}, not a state '
                       f'dict (save model.state_dict())')
    others = [str(key) for key, value in obj.items()
              if not isinstance(key, str) or not isinstance(value, np.ndarray)]
    if others:
        raise PthError(f'not a state dict of tensors: {_names(others)} '
                       f'are not tensors')
    if not obj:
        raise PthError('the state dict is empty')
    return dict(obj)


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
