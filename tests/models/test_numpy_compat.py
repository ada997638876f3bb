"""Chainer 7.8.1 on NumPy 2: the restored names and the functions we use."""
import chainer
import chainer.functions as F
import numpy as np

from models import numpy_compat


def test_restored_names_mean_what_they_meant():
    assert numpy_compat.missing_names() == []
    assert np.float is float and np.int is int and np.object is object
    # NumPy 2 has np.bool again, as its own boolean scalar type.
    assert np.dtype(np.bool) == np.dtype(bool)
    assert np.int32 in np.sctypes['int'] and np.float32 in np.sctypes['float']


def test_install_is_idempotent_and_keeps_existing_names():
    before = np.float32
    assert numpy_compat.install() == []
    assert np.float32 is before


def test_install_restores_a_removed_name(monkeypatch):
    monkeypatch.delattr(np, 'sctypes', raising=False)
    assert 'sctypes' in numpy_compat.install()
    assert np.sctypes['uint'][0] is np.uint8


def reference_convolution(x, w, b, pad):
    """Direct NumPy convolution (cross-correlation, as Caffe and Chainer)."""
    n, _, h, width = x.shape
    k = w.shape[2]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((n, w.shape[0], h, width), np.float64)
    for i in range(k):
        for j in range(k):
            out += np.einsum('nchw,oc->nohw', xp[:, :, i:i + h, j:j + width],
                             w[:, :, i, j])
    return out + b[None, :, None, None]


def test_chainer_convolution_pool_concat_on_numpy2():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, 12, 10)).astype(np.float32)
    w = rng.standard_normal((4, 5, 7, 7)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        y = F.convolution_2d(x, w, b, pad=3).array
        pooled = F.max_pooling_2d(x, 2, stride=2).array
        joined = F.concat([x, x], axis=1).array
        resized = F.resize_images(x, (24, 20)).array   # uses np.float
    np.testing.assert_allclose(y, reference_convolution(x, w, b, 3),
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(
        pooled, x.reshape(2, 5, 6, 2, 5, 2).max(axis=(3, 5)))
    assert joined.shape == (2, 10, 12, 10) and resized.shape == (2, 5, 24, 20)


def test_distutils_stand_in_only_where_missing(monkeypatch):
    import importlib
    import sys
    try:
        importlib.import_module('numpy.distutils.system_info')
        present = True
    except ImportError:
        present = False
    assert numpy_compat._provide_distutils_system_info() is False
    # Simulate Python >= 3.12, where numpy.distutils cannot be imported.
    for name in ('numpy.distutils', 'numpy.distutils.system_info'):
        monkeypatch.setitem(sys.modules, name, None)
    assert numpy_compat._provide_distutils_system_info() is True
    from numpy.distutils import system_info
    assert system_info.get_info('blas_opt') == {}
    assert present or sys.version_info >= (3, 12)
