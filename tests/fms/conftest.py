"""Fixtures shared by the tests of the FMS report and key-frame image."""
import numpy as np
import pytest

from tests.fms.analyses import HEIGHT, WIDTH, synthetic_analysis


@pytest.fixture(scope='module')
def analysis():
    """A synthetic deep-squat analysis (see :mod:`tests.fms.analyses`)."""
    return synthetic_analysis()


@pytest.fixture(scope='module')
def photo():
    """A textured frame of the analysis' size."""
    rng = np.random.default_rng(0)
    return rng.integers(60, 120, (HEIGHT, WIDTH, 3), dtype=np.uint8)
