"""Caffe weights -> Chainer ``.npz`` files, and safe loading of those files.

The source is a ``.caffemodel`` or a PyTorch ``.pth`` state dict of the same
weights (:mod:`models.pth`), told apart by content, not by file name.

The mapping is derived from the Chainer network itself, by one rule: the
parameter ``<link>/W`` is blob 0 and ``<link>/b`` is blob 1 of the Caffe layer
named ``<link>``.  Every parameter of the network must be found in the file
with exactly the expected shape, otherwise the conversion stops with a
:class:`ConversionError` and writes nothing.
"""
from __future__ import annotations

import dataclasses
import os
import time
import zipfile
import zlib
from typing import Dict, List, Tuple

import chainer
import numpy as np

from common.errors import ToolError
from common.files import (atomic_file, input_file_problem,
                          output_problem)
from models.caffemodel import CaffeModel, CaffeModelError, read_caffemodel
from models.pth import PthError, is_pth, pth_to_caffe_model, read_pth
from models.staged_net import NETWORKS

#: Index of each Chainer parameter among a Caffe convolution's blobs.
BLOB_INDEX = {'W': 0, 'b': 1}
_BLOB_ROLE = {'W': 'weights', 'b': 'bias'}


class ConversionError(ToolError):
    """A conversion that cannot be done; the message says what to do."""


class WeightsError(ToolError):
    """A weights file that cannot be loaded into a network."""


@dataclasses.dataclass
class ConversionReport:
    network: str
    source_format: str          # 'V1', 'V2', 'V1+V2' or 'pth'
    layers: int                 # layers copied
    parameters: int             # values copied
    seconds: float
    unused_layers: List[str]    # layers with weights the network does not use


class _LeaveUninitialized(chainer.Initializer):
    """Allocates without writing, so a network's shapes cost no memory."""

    def __call__(self, array):
        return None


def expected_parameters(network: str) -> Dict[str, Tuple[int, ...]]:
    """Every parameter of a network: ``{'conv1_1/W': (64, 3, 3, 3), ...}``."""
    model = NETWORKS[network](initialW=_LeaveUninitialized())
    return {path.lstrip('/'): param.shape
            for path, param in model.namedparams()}


def _strip_leading_ones(shape):
    shape = tuple(shape)
    while shape and shape[0] == 1:
        shape = shape[1:]
    return shape


def _fit(array: np.ndarray, shape, layer: str, param: str) -> np.ndarray:
    """The blob reshaped to ``shape``; legacy 4-d shapes like (1, 1, 1, C)
    match (C,) as Caffe itself allows."""
    if array.shape == tuple(shape):
        return array
    if _strip_leading_ones(array.shape) == _strip_leading_ones(shape):
        return array.reshape(shape)
    raise ConversionError(
        f'layer {layer!r} {_BLOB_ROLE[param]}: expected shape {tuple(shape)},'
        f' found {array.shape}')


def _names(names: List[str], limit: int = 4) -> str:
    shown = ', '.join(names[:limit])
    return shown + (f' and {len(names) - limit} more'
                    if len(names) > limit else '')


def match_parameters(caffe: CaffeModel, network: str
                     ) -> Tuple[Dict[str, np.ndarray], List[str]]:
    """Find every parameter of ``network`` in a read caffemodel.

    Returns:
        ``(arrays, unused)``: ``{'conv1_1/W': float32 array, ...}`` for every
        parameter of the network, and the names of layers with weights that
        the network does not use.

    Raises:
        ConversionError: a layer is missing, lacks a blob, or has a blob of
            the wrong shape.
    """
    expected = expected_parameters(network)
    layers = caffe.by_name()
    needed = list(dict.fromkeys(key.split('/')[0] for key in expected))
    missing = [name for name in needed if name not in layers]
    if missing:
        raise ConversionError(
            f'{len(missing)} layer(s) needed by {network} are missing: '
            f'{_names(missing)}')
    arrays = {}
    for key, shape in expected.items():
        name, param = key.split('/')
        blobs = layers[name].blobs
        if BLOB_INDEX[param] >= len(blobs):
            raise ConversionError(
                f'layer {name!r} has {len(blobs)} parameter blob(s); '
                f'expected 2 (weights and bias)')
        arrays[key] = _fit(blobs[BLOB_INDEX[param]], shape, name, param)
    unused = [layer.name for layer in caffe.layers
              if layer.blobs and layer.name not in set(needed)]
    return arrays, unused


def _identify(caffe: CaffeModel, requested: str):
    """The name of another network that the file fits exactly, if any."""
    for other in NETWORKS:
        if other == requested:
            continue
        try:
            match_parameters(caffe, other)
        except ConversionError:
            continue
        return other
    return None


def write_npz_atomic(path: str, arrays: Dict[str, np.ndarray]) -> None:
    """Write an uncompressed ``.npz`` atomically (:func:`common.files.
    atomic_file`): a failure at any point leaves no file at ``path`` and an
    existing file there untouched."""
    with atomic_file(path) as stream:
        np.savez(stream, **arrays)


def read_weights(source: str) -> CaffeModel:
    """Read a caffemodel or a PyTorch ``.pth`` state dict (by content).

    Raises:
        CaffeModelError: an unreadable caffemodel.
        PthError: an unreadable or refused ``.pth`` file.
        OSError: the file cannot be read.
    """
    if is_pth(source):
        return pth_to_caffe_model(read_pth(source))
    return read_caffemodel(source)


def convert(network: str, source: str, destination: str) -> ConversionReport:
    """Convert a caffemodel of ``network`` to a Chainer ``.npz`` file.

    Args:
        network: ``'posenet'``, ``'facenet'`` or ``'handnet'``.
        source: The ``.caffemodel`` (V1 or V2 format) or a PyTorch ``.pth``
            state dict of the same layers (see :mod:`models.pth`).
        destination: The ``.npz`` to write (atomically).

    Raises:
        ConversionError: with a message naming the problem and what to do.
    """
    start = time.perf_counter()
    if network not in NETWORKS:
        raise ConversionError(f'unknown network {network!r}; choose one of '
                              f'{", ".join(NETWORKS)}')
    problem = input_file_problem(source, 'weights')
    if problem:
        raise ConversionError(problem)
    if os.path.isdir(destination):
        raise ConversionError(
            f'{destination}: is a folder; give a file name, e.g. '
            f'{os.path.join(destination, network + ".npz")}')
    problem = output_problem(destination, [source])
    if problem:
        raise ConversionError(problem)
    try:
        caffe = read_weights(source)
    except (CaffeModelError, PthError) as error:
        raise ConversionError(f'{source}: {error}') from None
    except OSError as error:
        raise ConversionError(f'{source}: {error.strerror}') from None
    try:
        arrays, unused = match_parameters(caffe, network)
    except ConversionError as error:
        other = _identify(caffe, network)
        if other:
            raise ConversionError(
                f'{source} holds the {other} model, not {network}: run '
                f'convert_model.py {other} {source} {destination}') from None
        raise ConversionError(f'{source}: {error}') from None
    try:
        write_npz_atomic(destination, arrays)
    except OSError as error:
        raise ConversionError(f'{destination}: cannot write it '
                              f'({error.strerror})') from None
    return ConversionReport(
        network=network, source_format=caffe.format,
        layers=len({key.split('/')[0] for key in arrays}),
        parameters=sum(int(a.size) for a in arrays.values()),
        seconds=time.perf_counter() - start, unused_layers=unused)


def _check_shapes(model: chainer.Link, arrays: dict, path: str) -> None:
    """Chainer's deserializer broadcasts, so compare shapes first."""
    for name, param in model.namedparams():
        key = name.lstrip('/')
        if key not in arrays:
            raise WeightsError(f'{path} has no {key!r}: it does not hold '
                               f'{type(model).__name__} weights')
        found = arrays[key].shape
        if found != param.shape:
            raise WeightsError(
                f'{path}: {key} has shape {found}, {type(model).__name__} '
                f'expects {param.shape}; is it the weights of another '
                f'network?')


def load_network(network: str, path: str) -> chainer.Link:
    """Build ``network`` ('posenet', 'facenet', 'handnet') with the weights
    of a converted ``.npz``, skipping the random initialisation that the
    loaded weights would overwrite anyway (every parameter must be in the
    file, see :func:`load_weights`)."""
    return load_weights(NETWORKS[network](initialW=_LeaveUninitialized()),
                        path)


def load_weights(model: chainer.Link, path: str) -> chainer.Link:
    """Load a converted ``.npz`` into ``model`` (in place) and return it.

    Uses Chainer's ``NpzDeserializer`` (what ``chainer.serializers.load_npz``
    uses) on ``numpy.load(path, allow_pickle=False)``, so a weights file can
    never run code.  Every parameter must be present with its exact shape.

    Raises:
        WeightsError: missing file, not an npz, or not weights of this model.
    """
    name = type(model).__name__
    problem = input_file_problem(path, 'weights')
    if problem:
        raise WeightsError(f'{problem} (weights come from convert_model.py; '
                           f'see README)')
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
        _check_shapes(model, arrays, path)
        chainer.serializers.NpzDeserializer(arrays, strict=True).load(model)
    except WeightsError:
        raise
    except (KeyError, ValueError, OSError, EOFError, TypeError,
            AttributeError, zipfile.BadZipFile, zlib.error) as error:
        detail = str(error).strip('"\'') or type(error).__name__
        raise WeightsError(f'{path} is not a {name} weights file converted '
                           f'by convert_model.py ({detail})') from None
    return model
