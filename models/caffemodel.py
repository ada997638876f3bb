"""Read and write the weights of binary ``.caffemodel`` files, without Caffe.

A caffemodel is a protocol-buffer ``NetParameter`` message.  Only the few
fields that hold weights matter here, so this module reads the protobuf wire
format directly: it walks the length-delimited fields, and each packed float
array becomes a ``numpy.frombuffer`` view of the (memory-mapped) file, with
no per-value Python work and no copy.  It needs neither ``caffe_pb2`` nor the
protobuf package.

What it allocates is bounded by the file's real size, never by a size the
file declares: a blob's values are views of the file (or, when a writer
split them into several fields, one buffer no larger than their bytes in
the file), a declared shape must hold exactly the values present, and the
objects made per field are capped (:data:`MAX_LAYERS`,
:data:`MAX_BLOBS_PER_LAYER`, :data:`MAX_BLOB_AXES`), so that a small crafted
file of millions of empty layers, blobs or dimensions is refused instead of
taking gigabytes.

Field numbers (from Caffe's ``caffe.proto``):

* ``NetParameter``: ``layer`` = 100 (LayerParameter, current "V2" files),
  ``layers`` = 2 (V1LayerParameter, legacy files).
* ``LayerParameter``: ``name`` = 1, ``type`` = 2 (string), ``blobs`` = 7.
* ``V1LayerParameter``: ``name`` = 4, ``type`` = 5 (enum), ``blobs`` = 6.
* ``BlobProto``: ``shape`` = 7 (``BlobShape.dim`` = 1, packed int64),
  legacy ``num``/``channels``/``height``/``width`` = 1..4, ``data`` = 5
  (packed float), ``double_data`` = 8 (packed double).
"""
from __future__ import annotations

import dataclasses
import math
import mmap
import os
from typing import (BinaryIO, Iterable, Iterator, List, Optional, Sequence,
                    Tuple)

import numpy as np

from common.errors import ToolError


class CaffeModelError(ToolError, ValueError):
    """The file is not a readable caffemodel; the message says why."""


# Wire types of the protobuf encoding.
_VARINT, _FIXED64, _BYTES, _FIXED32 = 0, 1, 2, 5

_NET_LAYER, _NET_LAYERS_V1 = 100, 2
_V2_NAME, _V2_TYPE, _V2_BLOBS = 1, 2, 7
_V1_NAME, _V1_TYPE, _V1_BLOBS = 4, 5, 6
_BLOB_LEGACY_DIMS = (1, 2, 3, 4)      # num, channels, height, width
_BLOB_DATA, _BLOB_SHAPE, _BLOB_DOUBLE_DATA = 5, 7, 8
_SHAPE_DIM = 1

#: Most layers read from a file (CMU's models have about 200 with their ReLU
#: and concatenation layers).
MAX_LAYERS = 10_000
#: Most parameter blobs of a layer (a convolution has 2, batch norm 3).
MAX_BLOBS_PER_LAYER = 16
#: Most dimensions of a blob: Caffe's own limit (``kMaxBlobAxes``).
MAX_BLOB_AXES = 32

#: The V1 ``LayerType`` enum values this project reads or writes.
V1_LAYER_TYPES = {'Concat': 3, 'Convolution': 4, 'Pooling': 17, 'ReLU': 18,
                  'InnerProduct': 14, 'Data': 5, 'Softmax': 20}
_V1_TYPE_NAMES = {v: k for k, v in V1_LAYER_TYPES.items()}


@dataclasses.dataclass
class CaffeLayer:
    """One layer of a caffemodel.

    Attributes:
        name: The Caffe layer name.
        type: Layer type (``'Convolution'``, ...; V1 enum values are turned
            into the same names, unknown ones into ``'V1:<number>'``).
        blobs: Parameter arrays, float32, shaped as stored (``shape`` field,
            or the legacy 4-d num/channels/height/width).  For a convolution:
            weights (out, in, kh, kw) and bias (out,).  They may be read-only
            views of the file.
    """
    name: str
    type: str
    blobs: List[np.ndarray]


@dataclasses.dataclass
class CaffeModel:
    """The layers of a caffemodel, in file order, and its format."""
    layers: List[CaffeLayer]
    format: str                    # 'V2' (``layer``) or 'V1' (``layers``)

    def by_name(self) -> dict:
        return {layer.name: layer for layer in self.layers}


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------


class _Truncated(Exception):
    """A field runs past the end of its message."""


def _varint(buf, pos: int, end: int) -> Tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= end:
            raise _Truncated
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError('varint longer than 10 bytes')


def _fields(buf, start: int, end: int) -> Iterator[Tuple[int, int, object]]:
    """Yield ``(field number, wire type, value)`` of one message.

    ``value`` is an int for varint and fixed fields, and a ``(start, end)``
    offset pair for length-delimited ones.
    """
    pos = start
    while pos < end:
        key, pos = _varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ValueError('field number 0')
        if wire == _VARINT:
            value, pos = _varint(buf, pos, end)
        elif wire == _BYTES:
            length, pos = _varint(buf, pos, end)
            value = (pos, pos + length)
            pos += length
        elif wire in (_FIXED32, _FIXED64):
            size = 4 if wire == _FIXED32 else 8
            value = int.from_bytes(buf[pos:pos + size], 'little')
            pos += size
        else:
            raise ValueError(f'unsupported wire type {wire}')
        if pos > end:
            raise _Truncated
        yield number, wire, value


def _packed(buf, span, dtype: str) -> np.ndarray:
    start, end = span
    itemsize = np.dtype(dtype).itemsize
    if (end - start) % itemsize:
        raise ValueError('packed array length is not a multiple of its type')
    return np.frombuffer(buf, dtype=dtype, count=(end - start) // itemsize,
                         offset=start)


class _BlobValues:
    """A blob's values in file order.  One packed float array (as Caffe
    writes them) stays a view of the file; several pieces (a value per
    field, doubles) are gathered into one float32 buffer, no larger than
    their bytes in the file, instead of costing a NumPy array each."""

    def __init__(self):
        self.view: Optional[np.ndarray] = None
        self.gathered: Optional[bytearray] = None

    def add(self, values: np.ndarray) -> None:
        """Append ``values`` (float32 or float64, any size)."""
        values = values.astype('<f4', copy=False)
        if self.view is None and self.gathered is None:
            self.view = values
        else:
            self.add_float32(values.tobytes())

    def add_float32(self, data: bytes) -> None:
        """Append little-endian float32 values given as bytes."""
        if self.gathered is None:
            self.gathered = bytearray(
                b'' if self.view is None else self.view.tobytes())
            self.view = None
        self.gathered += data

    def array(self) -> np.ndarray:
        if self.gathered is not None:
            return np.frombuffer(self.gathered, '<f4')
        return self.view if self.view is not None else np.zeros(0, '<f4')


def _read_shape(buf, span) -> Tuple[int, ...]:
    """The dimensions of a ``BlobShape`` message (packed or not)."""
    dims = []
    for number, wire, dim in _fields(buf, *span):
        if number != _SHAPE_DIM:
            continue
        if wire == _BYTES:                        # packed
            pos, dim_end = dim
            while pos < dim_end and len(dims) <= MAX_BLOB_AXES:
                d, pos = _varint(buf, pos, dim_end)
                dims.append(d)
        else:
            dims.append(dim)
        if len(dims) > MAX_BLOB_AXES:
            raise ValueError(f'a blob shape with more than {MAX_BLOB_AXES} '
                             f'dimensions')
    return tuple(dims)


def _read_blob(buf, start: int, end: int) -> np.ndarray:
    legacy = {}
    shape = None
    values = _BlobValues()   # packed (one piece) or value by value
    for number, wire, value in _fields(buf, start, end):
        if number == _BLOB_SHAPE and wire == _BYTES:
            shape = _read_shape(buf, value)
        elif number in _BLOB_LEGACY_DIMS and wire == _VARINT:
            legacy[number] = value
        elif number == _BLOB_DATA and wire == _BYTES:
            values.add(_packed(buf, value, '<f4'))
        elif number == _BLOB_DATA and wire == _FIXED32:
            values.add_float32(value.to_bytes(4, 'little'))
        elif number == _BLOB_DOUBLE_DATA and wire == _BYTES:
            values.add(_packed(buf, value, '<f8'))
        elif number == _BLOB_DOUBLE_DATA and wire == _FIXED64:
            values.add(np.array([value], '<u8').view('<f8'))
    data = values.array()
    if shape is None:
        shape = tuple(legacy.get(n, 0) for n in _BLOB_LEGACY_DIMS) \
            if legacy else (data.size,)
    if math.prod(shape) != data.size:
        raise ValueError(f'blob of shape {shape} holds {data.size} values')
    return data.reshape(shape)


def _read_layer(buf, start: int, end: int, v1: bool) -> CaffeLayer:
    name_field, type_field, blobs_field = (
        (_V1_NAME, _V1_TYPE, _V1_BLOBS) if v1
        else (_V2_NAME, _V2_TYPE, _V2_BLOBS))
    name, type_, blobs = None, '', []
    for number, wire, value in _fields(buf, start, end):
        if number == name_field and wire == _BYTES:
            name = bytes(buf[value[0]:value[1]]).decode('utf-8')
        elif number == type_field and v1 and wire == _VARINT:
            type_ = _V1_TYPE_NAMES.get(value, f'V1:{value}')
        elif number == type_field and wire == _BYTES:
            type_ = bytes(buf[value[0]:value[1]]).decode('utf-8')
        elif number == blobs_field and wire == _BYTES:
            if len(blobs) == MAX_BLOBS_PER_LAYER:
                raise ValueError(f'a layer with more than '
                                 f'{MAX_BLOBS_PER_LAYER} blobs')
            blobs.append(_read_blob(buf, *value))
    if name is None:
        raise ValueError('layer without a name')
    return CaffeLayer(name, type_, blobs)


def _looks_like_text(head: bytes) -> bool:
    return bool(head) and all(32 <= b < 127 or b in b'\t\r\n' for b in head)


def parse_caffemodel(buf) -> CaffeModel:
    """Parse the weights of a caffemodel held in ``buf`` (bytes-like).

    Raises:
        CaffeModelError: the data is not a caffemodel or is truncated.
    """
    if len(buf) == 0:
        raise CaffeModelError('the file is empty')
    layers: List[CaffeLayer] = []
    formats = set()
    try:
        for number, wire, value in _fields(buf, 0, len(buf)):
            if wire == _BYTES and number in (_NET_LAYER, _NET_LAYERS_V1):
                if len(layers) == MAX_LAYERS:
                    raise CaffeModelError(
                        f'more than {MAX_LAYERS} layers: not an OpenPose '
                        f'caffemodel, or a damaged one')
                v1 = number == _NET_LAYERS_V1
                layers.append(_read_layer(buf, *value, v1=v1))
                formats.add('V1' if v1 else 'V2')
    except CaffeModelError:
        raise
    except _Truncated:
        if layers:
            raise CaffeModelError(
                f'the file is truncated (it ends inside the layer after '
                f'{layers[-1].name!r}); download or copy it again') from None
        raise CaffeModelError(_not_a_model(buf)) from None
    except (ValueError, UnicodeDecodeError) as error:
        if layers:
            raise CaffeModelError(
                f'the layer after {layers[-1].name!r} is damaged ({error}); '
                f'download or copy the file again') from None
        raise CaffeModelError(f'{_not_a_model(buf)} ({error})') from None
    if not layers:
        raise CaffeModelError(_not_a_model(buf))
    return CaffeModel(layers, 'V2' if formats == {'V2'} else
                      'V1' if formats == {'V1'} else 'V1+V2')


def _not_a_model(buf) -> str:
    if _looks_like_text(bytes(buf[:256])):
        return ('not a binary caffemodel: it looks like a text file '
                '(a .prototxt?); pass the .caffemodel weights file')
    return 'not a caffemodel: no Caffe layers could be read from it'


def read_caffemodel(path: str) -> CaffeModel:
    """Read a caffemodel file (memory-mapped: the arrays are views of it).

    Args:
        path: A ``.caffemodel`` file, V2 (``layer``) or V1 (``layers``).

    Returns:
        The layers with their parameter blobs (float32, read-only).

    Raises:
        CaffeModelError: unreadable, empty, truncated or not a caffemodel.
        OSError: the file cannot be opened.
    """
    with open(path, 'rb') as f:
        if os.fstat(f.fileno()).st_size == 0:
            raise CaffeModelError('the file is empty')
        buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    return parse_caffemodel(buf)


# ---------------------------------------------------------------------------
# Writing (used to synthesize models for tests and benchmarks)
# ---------------------------------------------------------------------------


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(number: int, wire: int) -> bytes:
    return _encode_varint(number << 3 | wire)


def _bytes_field(number: int, payload: bytes) -> bytes:
    return _key(number, _BYTES) + _encode_varint(len(payload)) + payload


def _encode_blob(array: np.ndarray, legacy_shape: bool) -> bytes:
    array = np.ascontiguousarray(array, dtype='<f4')
    if legacy_shape:
        dims = (1,) * (4 - array.ndim) + array.shape
        header = b''.join(_key(n, _VARINT) + _encode_varint(d)
                          for n, d in zip(_BLOB_LEGACY_DIMS, dims))
    else:
        packed = b''.join(_encode_varint(d) for d in array.shape)
        header = _bytes_field(_BLOB_SHAPE, _bytes_field(_SHAPE_DIM, packed))
    return header + _bytes_field(_BLOB_DATA, array.tobytes())


def write_caffemodel(file: BinaryIO,
                     layers: Iterable[Tuple[str, str, Sequence[np.ndarray]]],
                     style: str = 'V2', legacy_shape: bool = False) -> None:
    """Write layers as a binary caffemodel (``NetParameter``).

    Args:
        file: A binary file object opened for writing.
        layers: ``(name, type, blobs)`` per layer, e.g.
            ``('conv1_1', 'Convolution', [W, b])``.
        style: ``'V2'`` (``layer`` field, string types) or ``'V1'``
            (legacy ``layers`` field, enum types).
        legacy_shape: store blob shapes as num/channels/height/width
            instead of the ``shape`` field.
    """
    if style not in ('V1', 'V2'):
        raise ValueError(f'style must be V1 or V2, not {style!r}')
    for name, type_, blobs in layers:
        if style == 'V2':
            body = (_bytes_field(_V2_NAME, name.encode())
                    + _bytes_field(_V2_TYPE, type_.encode()))
            blob_field, net_field = _V2_BLOBS, _NET_LAYER
        else:
            body = (_bytes_field(_V1_NAME, name.encode())
                    + _key(_V1_TYPE, _VARINT)
                    + _encode_varint(V1_LAYER_TYPES[type_]))
            blob_field, net_field = _V1_BLOBS, _NET_LAYERS_V1
        body += b''.join(_bytes_field(blob_field,
                                      _encode_blob(blob, legacy_shape))
                         for blob in blobs)
        file.write(_bytes_field(net_field, body))

