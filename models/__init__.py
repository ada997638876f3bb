"""OpenPose networks in Chainer and the Caffe weight converter.

Importing this package first makes Chainer 7.8.1 importable on NumPy 2
(see :mod:`models.numpy_compat`).
"""
import warnings

from models import numpy_compat

numpy_compat.install()

with warnings.catch_warnings():
    # Chainer 7.8.1 imports pkg_resources, which warns about its own removal.
    warnings.filterwarnings('ignore', message='pkg_resources is deprecated')
    # CuPy >= 12 keeps cuDNN where Chainer 7.8.1 does not look for it; Chainer
    # then convolves on the GPU with im2col + cuBLAS (tested) and says so once.
    warnings.filterwarnings('ignore', message='cuDNN is not enabled')
    import chainer  # noqa: E402,F401

from models.staged_net import (  # noqa: E402  (after the NumPy fix)
    NETWORKS, CocoPoseNet, FaceNet, HandNet, StagedNet)

__all__ = ['NETWORKS', 'CocoPoseNet', 'FaceNet', 'HandNet', 'StagedNet']
