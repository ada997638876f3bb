"""The caffemodel reader and writer of :mod:`models.caffemodel`, on their own.

Some files are built here byte by byte, with an encoder written independently
of the module, so the reader is checked against the protobuf wire format
itself and not only against its own writer.  Field numbers are those of
Caffe's ``caffe.proto``:

* ``NetParameter``: ``layer`` = 100 (LayerParameter), legacy ``layers`` = 2
  (V1LayerParameter).
* ``LayerParameter``: ``name`` = 1, ``type`` = 2 (string), ``blobs`` = 7.
* ``V1LayerParameter``: ``name`` = 4, ``type`` = 5 (enum), ``blobs`` = 6.
* ``BlobProto``: legacy ``num``/``channels``/``height``/``width`` = 1..4,
  ``data`` = 5 (float, packed), ``shape`` = 7, ``double_data`` = 8 (double,
  packed).
* ``BlobShape``: ``dim`` = 1 (int64, packed).
"""
import io
import struct

import numpy as np
import pytest

from models.caffemodel import (MAX_BLOB_AXES, MAX_BLOBS_PER_LAYER,
                               MAX_LAYERS, CaffeModelError, parse_caffemodel,
                               read_caffemodel, write_caffemodel)
from tests.peak_memory import peak_growth

# Protobuf wire types.
VARINT, FIXED64, LENGTH_DELIMITED, FIXED32 = 0, 1, 2, 5


# ---------------------------------------------------------------------------
# A minimal protobuf encoder
# ---------------------------------------------------------------------------


def varint(value):
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def key(number, wire):
    return varint(number << 3 | wire)


def message(number, payload):
    """A length-delimited field (sub-message, string or packed array)."""
    return key(number, LENGTH_DELIMITED) + varint(len(payload)) + payload


def blob_shape(dims, packed=True):
    """BlobProto.shape (7) holding BlobShape.dim (1)."""
    if packed:
        body = message(1, b''.join(varint(d) for d in dims))
    else:
        body = b''.join(key(1, VARINT) + varint(d) for d in dims)
    return message(7, body)


def packed_floats(values):
    """BlobProto.data (5), packed float32."""
    return message(5, struct.pack(f'<{len(values)}f', *values))


def unpacked_floats(values):
    """BlobProto.data (5), one fixed32 field per value."""
    return b''.join(key(5, FIXED32) + struct.pack('<f', v) for v in values)


def packed_doubles(values):
    """BlobProto.double_data (8), packed float64."""
    return message(8, struct.pack(f'<{len(values)}d', *values))


def v2_layer(name, type_, blobs):
    """NetParameter.layer (100): LayerParameter name 1, type 2, blobs 7."""
    body = message(1, name.encode()) + message(2, type_.encode())
    return message(100, body + b''.join(message(7, b) for b in blobs))


def v1_layer(name, type_enum, blobs):
    """NetParameter.layers (2): V1LayerParameter name 4, type 5, blobs 6."""
    body = message(4, name.encode()) + key(5, VARINT) + varint(type_enum)
    return message(2, body + b''.join(message(6, b) for b in blobs))


# ---------------------------------------------------------------------------
# Round trip through write_caffemodel
# ---------------------------------------------------------------------------


def sample_layers():
    """Layers with and without blobs, 1-d to 4-d, with special floats."""
    rng = np.random.default_rng(0)
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45,
                        np.finfo(np.float32).max, -1.5], np.float32)
    return [
        ('conv1', 'Convolution',
         [rng.standard_normal((4, 3, 3, 3), dtype=np.float32),
          rng.standard_normal(4, dtype=np.float32)]),
        ('relu1', 'ReLU', []),
        ('pool1', 'Pooling', []),
        ('fc', 'InnerProduct',
         [rng.standard_normal((5, 8), dtype=np.float32), special]),
        ('concat', 'Concat', []),
    ]


def stored_shape(shape, legacy_shape):
    """Legacy num/channels/height/width shapes are 4-d, padded with ones."""
    return (1,) * (4 - len(shape)) + shape if legacy_shape else shape


def encode(layers, style='V2', legacy_shape=False):
    file = io.BytesIO()
    write_caffemodel(file, layers, style=style, legacy_shape=legacy_shape)
    return file.getvalue()


def same_bits(a, b):
    """Exact equality, NaN and -0.0 included."""
    return a.dtype == b.dtype == np.float32 and a.shape == b.shape and \
        np.array_equal(a.view(np.uint32), b.view(np.uint32))


@pytest.mark.parametrize('legacy_shape', [False, True],
                         ids=['shape', 'legacy-shape'])
@pytest.mark.parametrize('style', ['V2', 'V1'])
def test_round_trip(style, legacy_shape):
    layers = sample_layers()
    model = parse_caffemodel(encode(layers, style, legacy_shape))
    assert model.format == style
    assert [(l.name, l.type) for l in model.layers] == \
        [(name, type_) for name, type_, _ in layers]
    for read, (name, _, blobs) in zip(model.layers, layers):
        assert len(read.blobs) == len(blobs), name
        for got, want in zip(read.blobs, blobs):
            assert got.shape == stored_shape(want.shape, legacy_shape), name
            assert same_bits(got.reshape(want.shape), want), name


def test_layers_without_blobs_are_kept():
    model = parse_caffemodel(encode(sample_layers()))
    layers = model.by_name()
    for name in ('relu1', 'pool1', 'concat'):
        assert layers[name].blobs == []
    assert [l.name for l in model.layers] == \
        ['conv1', 'relu1', 'pool1', 'fc', 'concat']


def test_mixed_v1_and_v2_layers():
    data = encode(sample_layers()[:1], 'V1') + encode(sample_layers()[1:])
    model = parse_caffemodel(data)
    assert model.format == 'V1+V2'
    assert [l.name for l in model.layers] == \
        ['conv1', 'relu1', 'pool1', 'fc', 'concat']


# ---------------------------------------------------------------------------
# Hand-built blobs: every way BlobProto can hold its data
# ---------------------------------------------------------------------------

VALUES = [0.5, -1.25, 3.0, 0.1, -0.0, 1e30]
DATA_ENCODINGS = {
    'packed-float': packed_floats,
    'unpacked-float': unpacked_floats,
    'packed-double': packed_doubles,
}


@pytest.mark.parametrize('dims_packed', [True, False],
                         ids=['packed-dims', 'unpacked-dims'])
@pytest.mark.parametrize('encoding', DATA_ENCODINGS)
def test_blob_data_encodings(encoding, dims_packed):
    blob = blob_shape((2, 3), dims_packed) + DATA_ENCODINGS[encoding](VALUES)
    model = parse_caffemodel(v2_layer('ip', 'InnerProduct', [blob]))
    (got,) = model.layers[0].blobs
    want = np.array(VALUES, np.float32).reshape(2, 3)
    assert same_bits(got, want)


def test_blob_with_legacy_dims():
    dims = b''.join(key(n, VARINT) + varint(d)
                    for n, d in zip((1, 2, 3, 4), (1, 2, 1, 3)))
    model = parse_caffemodel(v2_layer('ip', 'InnerProduct',
                                      [dims + packed_floats(VALUES)]))
    (got,) = model.layers[0].blobs
    assert same_bits(got, np.array(VALUES, np.float32).reshape(1, 2, 1, 3))


def test_blob_without_shape_is_flat():
    model = parse_caffemodel(v2_layer('b', 'Bias', [packed_floats(VALUES)]))
    assert same_bits(model.layers[0].blobs[0], np.array(VALUES, np.float32))


def test_v1_type_enums_are_named():
    data = (v1_layer('conv', 4, [blob_shape((1,)) + packed_floats([2.0])])
            + v1_layer('deconv', 39, []))
    model = parse_caffemodel(data)
    assert model.format == 'V1'
    assert [(l.name, l.type) for l in model.layers] == \
        [('conv', 'Convolution'), ('deconv', 'V1:39')]


def test_unknown_fields_are_skipped():
    """Fields the reader does not need (bottom, top, params...) are ignored,
    whatever their wire type."""
    extras = (message(3, b'data') + key(11, VARINT) + varint(300)
              + key(12, FIXED32) + b'\0' * 4 + key(13, FIXED64) + b'\0' * 8)
    blob = blob_shape((2, 3)) + packed_floats(VALUES)
    layer = message(100, message(1, b'ip') + extras + message(2, b'IP')
                    + message(7, blob))
    data = message(1, b'net name') + layer + key(7, VARINT) + varint(1)
    model = parse_caffemodel(data)
    assert [(l.name, l.type) for l in model.layers] == [('ip', 'IP')]
    assert same_bits(model.layers[0].blobs[0],
                     np.array(VALUES, np.float32).reshape(2, 3))


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


def parse_error(data):
    with pytest.raises(CaffeModelError) as info:
        parse_caffemodel(data)
    return str(info.value)


def test_empty_data():
    assert 'empty' in parse_error(b'')


PROTOTXT = (b'name: "OpenPose - BODY_25"\ninput: "image"\n'
            b'layer {\n  name: "conv1_1"\n  type: "Convolution"\n'
            b'  bottom: "image"\n  top: "conv1_1"\n}\n')


def test_text_prototxt():
    message_ = parse_error(PROTOTXT)
    assert 'prototxt' in message_ and 'text' in message_


@pytest.mark.parametrize('seed', [0, 1, 2, 3])
def test_random_bytes(seed):
    data = np.random.default_rng(seed).bytes(4096)
    message_ = parse_error(data)
    assert 'not a caffemodel' in message_
    assert 'prototxt' not in message_


def test_truncated_in_a_later_layer():
    layers = sample_layers()
    complete = encode(layers[:3])          # conv1, relu1, pool1
    fc = encode(layers[3:4])
    message_ = parse_error(complete + fc[:len(fc) // 2])
    assert 'truncated' in message_
    assert "'pool1'" in message_           # the last complete layer


def test_blob_shape_that_does_not_match_its_data():
    blob = blob_shape((2, 3)) + packed_floats(VALUES[:5])
    message_ = parse_error(v2_layer('ip', 'InnerProduct', [blob]))
    assert '(2, 3)' in message_ and '5 values' in message_


# ---------------------------------------------------------------------------
# Crafted files: memory bounded by the file's real size
# ---------------------------------------------------------------------------


def read_in_child(path):
    """``(peak memory growth in MiB, error)`` of ``read_caffemodel(path)``
    in a fresh process (see tests/peak_memory.py)."""
    return peak_growth('from models.caffemodel import read_caffemodel',
                       f'read_caffemodel({str(path)!r})')


def test_huge_declared_blob_allocates_nothing(tmp_path):
    """Unlike the .pth reader, nothing is allocated by a declared size: the
    values are views of the memory-mapped file and a declared shape must
    hold exactly the values present."""
    dims = (1 << 20, 1 << 20, 1 << 10)                  # 2**50 values
    path = tmp_path / 'huge.caffemodel'
    path.write_bytes(v2_layer('conv1_1', 'Convolution', [
        blob_shape(dims) + packed_floats(VALUES[:4])]))
    growth, error = read_in_child(path)
    assert error and error[0] == 'CaffeModelError', error
    assert f'blob of shape {dims} holds 4 values' in error[1]
    assert growth < 16, f'{growth:.0f} MiB'


@pytest.mark.parametrize('dims, values', [
    ((1 << 32, 1 << 32), 0), (((1 << 64) - 1, 2), 1)])
def test_shape_products_are_exact(dims, values):
    """A product that overflows 64 bits cannot pass for the values held."""
    data = v2_layer('conv1_1', 'Convolution', [
        blob_shape(dims) + (packed_floats(VALUES[:values]) if values
                            else b'')])
    assert f'blob of shape {dims} holds {values} values' in parse_error(data)


def fixed32_values(count):
    """One blob of ``count`` floats, each in its own fixed32 field."""
    return v2_layer('conv1_1', 'Convolution', [
        blob_shape([count]) + unpacked_floats([1.0]) * count])


def empty_blobs(count):
    """One layer with ``count`` empty blobs."""
    return message(100, message(1, b'a') + message(7, b'') * count)


@pytest.mark.parametrize('data, most_mib, error', [
    (fixed32_values(500_000), 16, None),
    (empty_blobs(5_000_000), 16, 'more than 16 blobs'),
], ids=['value-per-field', 'empty-blobs'])
def test_small_fields_cost_no_more_than_their_bytes(tmp_path, data,
                                                    most_mib, error):
    """A field of 2 to 5 bytes cost a NumPy array (hundreds of bytes): 20
    MB of one-value fields took 1.3 GB (2.5 MB here, 160 MB), 20 MB of
    empty blobs 3.4 GB (10 MB here, 1.7 GB).  Values split over fields are
    now gathered into one buffer, and the objects made per field are
    capped."""
    path = tmp_path / 'crafted.caffemodel'
    path.write_bytes(data)
    growth, raised = read_in_child(path)
    if error:
        assert raised and error in raised[1], raised
    else:
        assert raised is None, raised
    assert growth < most_mib, f'{growth:.0f} MiB'


def test_values_split_over_fields_are_read_in_order():
    doubles = packed_doubles([7.0, 8.0])
    blob = (blob_shape([8]) + packed_floats([1, 2]) + unpacked_floats([3])
            + packed_floats([4, 5]) + key(8, FIXED64) + struct.pack('<d', 6)
            + doubles)
    [layer] = parse_caffemodel(v2_layer('ip', 'InnerProduct', [blob])).layers
    assert layer.blobs[0].tolist() == [1, 2, 3, 4, 5, 6, 7, 8]


@pytest.mark.parametrize('data, fragment', [
    (b''.join(v2_layer(f'l{i}', 'ReLU', []) for i in range(MAX_LAYERS + 1)),
     f'more than {MAX_LAYERS} layers'),
    (empty_blobs(MAX_BLOBS_PER_LAYER + 1),
     f'more than {MAX_BLOBS_PER_LAYER} blobs'),
    (v2_layer('ip', 'InnerProduct', [blob_shape([1] * (MAX_BLOB_AXES + 1))
                                     + packed_floats([1.0])]),
     f'more than {MAX_BLOB_AXES} dimensions'),
], ids=['layers', 'blobs', 'dimensions'])
def test_object_counts_are_capped(data, fragment):
    assert fragment in parse_error(data)


def test_caps_leave_room_for_real_models():
    assert MAX_LAYERS >= 1000 and MAX_BLOBS_PER_LAYER >= 3
    assert MAX_BLOB_AXES == 32                    # Caffe's kMaxBlobAxes
    packed = v2_layer('ip', 'InnerProduct', [
        blob_shape([1] * MAX_BLOB_AXES) + packed_floats([1.0])] * 3)
    assert parse_caffemodel(packed).layers[0].blobs[2].ndim == MAX_BLOB_AXES


# ---------------------------------------------------------------------------
# read_caffemodel on files
# ---------------------------------------------------------------------------


@pytest.mark.parametrize('style', ['V2', 'V1'])
def test_read_file(tmp_path, style):
    layers = sample_layers()
    path = tmp_path / 'model.caffemodel'
    path.write_bytes(encode(layers, style))
    model = read_caffemodel(str(path))
    assert model.format == style
    assert [l.name for l in model.layers] == [name for name, _, _ in layers]
    for read, (name, _, blobs) in zip(model.layers, layers):
        assert len(read.blobs) == len(blobs)
        assert all(same_bits(got, want) for got, want in zip(read.blobs, blobs))


def test_read_empty_file(tmp_path):
    path = tmp_path / 'empty.caffemodel'
    path.write_bytes(b'')
    with pytest.raises(CaffeModelError, match='empty'):
        read_caffemodel(str(path))


def test_read_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_caffemodel(str(tmp_path / 'missing.caffemodel'))
