"""The layers of ARCHITECTURE.md: each imports only the layers above it, no
package imports a command script, and no script imports another."""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCRIPTS = ('pose_detector', 'video_pose_detector', 'convert_model',
           'fms_analyzer')
#: Each layer and the project modules it may import.
LAYERS = {
    'entity': set(),
    'common': set(),
    'models': {'entity', 'common'},
    'pose': {'entity', 'common', 'models'},
    'fms': {'entity', 'common', 'models', 'pose'},
}
PROJECT = set(LAYERS) | set(SCRIPTS) | {'tests', 'bench'}


def imported(path: pathlib.Path):
    """The top-level project names a file imports (anywhere in it)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split('.')[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split('.')[0])
    return names & PROJECT


def layer_files(layer):
    if layer == 'entity':
        return [ROOT / 'entity.py']
    return sorted((ROOT / layer).glob('*.py'))


@pytest.mark.parametrize('layer', LAYERS)
def test_a_layer_imports_only_the_layers_above_it(layer):
    wrong = {str(path.relative_to(ROOT)): imported(path) - LAYERS[layer]
             - {layer} for path in layer_files(layer)}
    assert {path: names for path, names in wrong.items() if names} == {}


@pytest.mark.parametrize('script', SCRIPTS)
def test_a_script_imports_no_other_script(script):
    assert imported(ROOT / f'{script}.py') & set(SCRIPTS) == set()
