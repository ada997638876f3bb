"""Test set-up and shared fixtures.

The NumPy 2 fix must be in place before Chainer is imported, hence the
``models`` import first.
"""
import models  # noqa: F401  (installs models.numpy_compat)
import pytest

from models import spec as specs
from models.convert import convert
from models.synthetic import write_synthetic_caffemodel


@pytest.fixture(scope='session')
def synthesized_weights(tmp_path_factory):
    """``weights(network) -> path`` of converted synthesized weights (.npz),
    made once per network and session."""
    made = {}

    def weights(network: str) -> str:
        if network not in made:
            folder = tmp_path_factory.mktemp(f'weights-{network}')
            caffemodel = folder / f'{network}.caffemodel'
            write_synthetic_caffemodel(str(caffemodel), specs.SPECS[network],
                                       seed=11)
            made[network] = str(folder / f'{network}.npz')
            convert(network, str(caffemodel), made[network])
            caffemodel.unlink()
        return made[network]
    return weights
