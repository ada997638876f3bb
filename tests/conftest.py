"""Test set-up and shared fixtures.

The NumPy 2 fix must be in place before Chainer is imported, hence the
``models`` import first.

Two sets of synthesized weights (random, fixed seed, converted by the real
converter) stand in for CMU's files:

* ``synthesized_weights``: the full-size networks (52 M parameters for the
  body).  For claims about the real layer shapes and numbers: parity with
  another runtime or device, exact conversion of every real parameter.
* ``slim_weights``: the same networks narrowed by :data:`SLIM_DIVISOR`
  (:func:`models.spec.narrowed`: same layers, stages and output maps, a
  fraction of the channels).  For plumbing (files, errors, batching, shapes,
  signals), which a small network tests as well at a fraction of the time.
  The fixture installs the slim layer tables for the duration of the test,
  so the network classes, ``load_network``, ``PoseDetector`` and the
  converter build the slim networks through their usual code;
  ``slim_command`` does the same in a command run as a separate process.
"""
import sys

import models  # noqa: F401  (installs models.numpy_compat)
import pytest

from models import spec as specs
from models.convert import convert
from models.synthetic import write_synthetic_caffemodel

#: Network name -> full-size layer table (as CMU's), whatever is installed.
FULL_SPECS = dict(specs.SPECS)
#: Hidden channel counts of the slim networks are divided by this.
SLIM_DIVISOR = 8
#: Network name -> slim layer table.
SLIM_SPECS = {name: specs.narrowed(spec, SLIM_DIVISOR)
              for name, spec in specs.SPECS.items()}
#: Seed of the full-size synthesized weights.
SEED = 11
#: Seed of the slim synthesized weights.  With it the slim body network
#: finds people at ``--size 64`` in random-noise images (several per image)
#: and in dark uniform ones, as the full-size network does in noise with
#: :data:`SEED`; with most seeds random weights find nobody, and the tests
#: of face and hand keypoints in the commands need people.
SLIM_SEED = 28


#: ``python -c SLIM_MAIN script.py ARGS...`` runs the command ``script.py``
#: as ``__main__`` in its own process (its own exit status, output and
#: signal handling) with the slim layer tables installed first.
SLIM_MAIN = f"""\
import runpy, sys
from models import spec
for name, table in list(spec.SPECS.items()):
    slim = spec.narrowed(table, {SLIM_DIVISOR})
    setattr(spec, name.upper(), slim)
    spec.SPECS[name] = slim
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
"""


def install_specs(patch, tables):
    """Make the network classes build ``tables`` ({name: NetSpec}) through
    ``patch`` (a ``pytest.MonkeyPatch``): they read the module attributes
    ``models.spec.POSENET``, ... when built; ``SPECS`` is patched in place."""
    for name, spec in tables.items():
        patch.setattr(specs, name.upper(), spec)
        patch.setitem(specs.SPECS, name, spec)


class WeightFiles:
    """``weights(network) -> path`` of the converted synthesized weights
    (.npz) of the network ``tables[network]``, made on first use (in a
    folder of ``factory``, a ``tmp_path_factory``) by the real converter with
    ``tables`` installed.  ``tables`` and ``seed`` are public, so a test can
    synthesize the same weights in another form (a .pth file, say)."""

    def __init__(self, factory, kind, tables, seed):
        self.factory, self.kind = factory, kind
        self.tables, self.seed = tables, seed
        self.made = {}

    def __call__(self, network: str) -> str:
        if network not in self.made:
            folder = self.factory.mktemp(f'{self.kind}-{network}')
            caffemodel = folder / f'{network}.caffemodel'
            npz = str(folder / f'{network}.npz')
            with pytest.MonkeyPatch.context() as patch:
                install_specs(patch, self.tables)
                write_synthetic_caffemodel(
                    str(caffemodel), self.tables[network], seed=self.seed)
                convert(network, str(caffemodel), npz)
            caffemodel.unlink()
            self.made[network] = npz
        return self.made[network]


@pytest.fixture(scope='session')
def synthesized_weights(tmp_path_factory):
    """``weights(network) -> path`` of converted synthesized weights (.npz)
    of the full-size network, made once per network and session."""
    return WeightFiles(tmp_path_factory, 'weights', FULL_SPECS, SEED)


@pytest.fixture(scope='session')
def slim_weight_files(tmp_path_factory):
    """The slim weights, made once per network and session; a test loading
    them needs ``slim_networks`` (or asks for ``slim_weights``)."""
    return WeightFiles(tmp_path_factory, 'slim', SLIM_SPECS, SLIM_SEED)


@pytest.fixture
def slim_networks(monkeypatch):
    """For the duration of the test, every network built is the slim one
    (:data:`SLIM_SPECS`); returns those layer tables."""
    install_specs(monkeypatch, SLIM_SPECS)
    return SLIM_SPECS


@pytest.fixture
def slim_weights(slim_weight_files, slim_networks):
    """``weights(network) -> path`` of converted synthesized weights of the
    slim network (a :class:`WeightFiles`); the slim networks are installed
    for the test (see ``slim_networks``), so the weights load as any
    weights do."""
    return slim_weight_files


@pytest.fixture
def slim_command():
    """``command(script, *args) -> argv`` (for ``subprocess``): the command
    ``script`` (e.g. ``'pose_detector.py'``, run from the repository root)
    with the slim networks, so it loads ``slim_weights``' files."""
    def command(script, *args):
        return [sys.executable, '-c', SLIM_MAIN, script, *map(str, args)]
    return command
