"""Test set-up: the NumPy 2 fix must be in place before Chainer is imported."""
import models  # noqa: F401  (installs models.numpy_compat)
