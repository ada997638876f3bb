"""Precision modes: names, checks, casting, the float16 network on NumPy,
and the scoped CuPy compute type (with a stand-in for CuPy's module)."""
import chainer
import numpy as np
import pytest

from common.errors import ToolError
from models import NETWORKS, precision as precisions
from models.convert import load_weights

#: Relative max error of each stage's float16 maps against float32 on the
#: slim networks (inputs rounded to 2^-11 per layer over ~60 layers; the
#: GPU test documents the full-size figure).
FLOAT16_TOLERANCE = 2e-2


@pytest.mark.parametrize('name, on_gpu, message', [
    ('float64', True, '--precision must be one of float32, tf32, float16'),
    ('tf32', False, '--precision tf32 needs a GPU (--gpu N)'),
    ('float16', False, '--precision float16 needs a GPU (--gpu N)')])
def test_bad_precisions_are_one_line(name, on_gpu, message):
    with pytest.raises(ToolError) as error:
        precisions.check_precision(name, on_gpu)
    assert message in str(error.value) and '\n' not in str(error.value)


def test_every_precision_is_accepted_on_a_gpu():
    for name in precisions.PRECISIONS:
        precisions.check_precision(name, on_gpu=True)
    precisions.check_precision('float32', on_gpu=False)


def test_detector_refuses_half_precision_on_the_cpu(slim_weights):
    from pose.detector import PoseDetector
    with pytest.raises(ToolError, match=r'--precision float16 needs a GPU'):
        PoseDetector('posenet', slim_weights('posenet'), precision='float16')
    detector = PoseDetector('posenet', slim_weights('posenet'),
                            precision='float32')
    assert all(p.array.dtype == np.float32 for p in detector.model.params())


def stages(model, x):
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        return [[v.array for v in stage] for stage in model.stages(x)]


def test_float16_network_on_numpy_is_close_to_float32(slim_weights):
    """The half-precision path (gpu_conv on NumPy) per stage against the
    float32 CPU path; the casting keeps every parameter's values."""
    weights = slim_weights('handnet')
    reference = load_weights(NETWORKS['handnet'](), weights)
    half = precisions.set_precision(
        load_weights(NETWORKS['handnet'](), weights), 'float16')
    assert half.precision == 'float16'
    for p, q in zip(half.params(), reference.params()):
        assert p.array.dtype == np.float16
        np.testing.assert_array_equal(p.array, q.array.astype(np.float16))
    x = np.random.default_rng(1).uniform(
        -0.5, 0.5, (2, 3, 48, 40)).astype(np.float32)
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        assert reference.inference_path(x) == 'cpu'
        assert half.inference_path(x) == 'device'
    expected, found = stages(reference, x), stages(half, x)
    for expected_stage, found_stage in zip(expected, found):
        for a, b in zip(expected_stage, found_stage):
            assert b.dtype == np.float16 and b.shape == a.shape
            error = np.abs(b.astype(np.float32) - a).max() / np.abs(a).max()
            assert error <= FLOAT16_TOLERANCE


def test_gradients_still_take_chainers_functions(slim_networks):
    model = NETWORKS['handnet']()
    x = np.zeros((1, 3, 16, 16), np.float32)
    assert model.inference_path(x) == 'chainer'      # backprop is on
    assert model.inference_path(chainer.Variable(x)) == 'chainer'


class FakeLinalg:
    """Stands in for ``cupy._core._routines_linalg``."""
    COMPUTE_TYPE_DEFAULT = 1
    COMPUTE_TYPE_TF32 = 7

    def __init__(self, initial):
        self.types = {np.dtype(np.float32): initial}
        self.calls = []

    def get_compute_type(self, dtype):
        return self.types[np.dtype(dtype)]

    def set_compute_type(self, dtype, value):
        self.calls.append(value)
        self.types[np.dtype(dtype)] = value


@pytest.mark.parametrize('name, inside', [('tf32', 7), ('float32', 1),
                                          ('float16', 1)])
@pytest.mark.parametrize('initial', [1, 7])
def test_gemm_precision_is_scoped(name, inside, initial, monkeypatch):
    """tf32 inside the block only; float32 stays float32 even where
    CUPY_TF32 made TF32 the process's setting (initial 7)."""
    fake = FakeLinalg(initial)
    monkeypatch.setattr(precisions, '_linalg', lambda: fake)
    with precisions.gemm_precision(name, on_gpu=True):
        assert fake.get_compute_type(np.float32) == inside
    assert fake.get_compute_type(np.float32) == initial
    with pytest.raises(RuntimeError):
        with precisions.gemm_precision(name, on_gpu=True):
            raise RuntimeError
    assert fake.get_compute_type(np.float32) == initial


def test_gemm_precision_does_nothing_on_the_cpu(monkeypatch):
    monkeypatch.setattr(precisions, '_linalg', lambda: 1 / 0)
    with precisions.gemm_precision('tf32', on_gpu=False):
        pass
