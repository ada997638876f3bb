"""`pip install .`: the wheel built from pyproject.toml holds every module
of the library, the FMS data files and the four commands.

The wheel is built from a copy of the sources (setuptools writes its
build folders beside them), without build isolation, as the README says.
"""
import configparser
import importlib
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ('common', 'models', 'pose', 'fms')
COMMANDS = {'pose-detector': 'pose_detector:main',
            'video-pose-detector': 'video_pose_detector:main',
            'convert-model': 'convert_model:main',
            'fms-analyzer': 'fms_analyzer:main'}
#: What the copy leaves out: not part of the installed library.
NOT_SHIPPED = ('.git', '.venv', '.venv-bench', 'tests', 'bench', 'data',
               'out', '.whl', 'build', '*.egg-info', '__pycache__',
               '.pytest_cache', '*.npz', '*.caffemodel', '*.pth')


@pytest.fixture(scope='module')
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    tmp = tmp_path_factory.mktemp('wheel')
    source = tmp / 'source'
    shutil.copytree(ROOT, source,
                    ignore=shutil.ignore_patterns(*NOT_SHIPPED))
    result = subprocess.run(
        [sys.executable, '-m', 'pip', 'wheel', '--no-deps',
         '--no-build-isolation', '-q', '-w', str(tmp / 'dist'), str(source)],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    [built] = (tmp / 'dist').glob('*.whl')
    with zipfile.ZipFile(built) as archive:
        yield archive


def test_the_wheel_holds_every_module_and_data_file(wheel):
    names = set(wheel.namelist())
    for package in PACKAGES:
        for path in (ROOT / package).rglob('*'):
            relative = path.relative_to(ROOT).as_posix()
            if path.suffix in ('.py', '.j2', '.json') \
                    and '__pycache__' not in relative:
                assert relative in names, relative
    for module in ('entity', 'pose_detector', 'video_pose_detector',
                   'convert_model', 'fms_analyzer'):
        assert f'{module}.py' in names


def test_the_wheel_installs_the_four_commands(wheel):
    [entry_points] = [n for n in wheel.namelist()
                      if n.endswith('.dist-info/entry_points.txt')]
    config = configparser.ConfigParser()
    config.read_string(wheel.read(entry_points).decode())
    assert dict(config['console_scripts']) == COMMANDS
    for target in COMMANDS.values():
        module, function = target.split(':')
        assert callable(getattr(importlib.import_module(module), function))


def test_the_dependencies_are_the_requirements_files(wheel):
    [metadata] = [n for n in wheel.namelist()
                  if n.endswith('.dist-info/METADATA')]
    requires = [line.split(':', 1)[1].strip()
                for line in wheel.read(metadata).decode().splitlines()
                if line.startswith('Requires-Dist:')]
    required = [line.strip() for line in
                (ROOT / 'requirements.txt').read_text().splitlines()
                if line.strip() and not line.startswith('#')]
    for requirement in required:
        name = requirement.split('=')[0].split('>')[0].split('<')[0]
        assert any(r.replace(' ', '').startswith(name) for r in requires), \
            requirement
    assert any('extra == "ray"' in r for r in requires)

