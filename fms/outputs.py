"""The output files of the FMS commands: checked before any work, written
atomically, errors naming the real output path.

Every command checks all its output paths first (:func:`check_outputs`),
so a bad path fails in a second, before a long analysis; then writes them
with :func:`write_outputs`: each file atomically (:mod:`common.files`), and
when one fails the files this call created are removed again, and the
error names the output path, never the hidden temporary file.
"""
from __future__ import annotations

import json
import os
from typing import Iterable, List, Mapping

from common.files import outputs_problem, remove_quietly, write_atomic
from fms import FmsError


def check_outputs(paths: Iterable[str], inputs: Iterable[str] = ()) -> None:
    """FmsError with the :func:`common.files.output_problem` of the first
    bad path, or
    saying that two of the paths are one file."""
    problem = outputs_problem(paths, inputs, create_folders=True)
    if problem:
        raise FmsError(problem)


def write_outputs(contents: Mapping[str, bytes]) -> List[str]:
    """Write each ``contents[path]`` atomically, creating folders as
    needed; returns the paths written.

    Raises:
        FmsError: a folder or file could not be made or written (the
            message names the output path); the files this call had
            created are removed, files it replaced keep their new content.
    """
    created: List[str] = []
    for path, data in contents.items():
        existed = os.path.exists(path)
        try:
            os.makedirs(os.path.dirname(os.path.abspath(path)),
                        exist_ok=True)
            write_atomic(path, data)
        except OSError as error:
            for done in created:
                remove_quietly(done)
            reason = error.strerror or str(error)
            raise FmsError(f'{path}: cannot write the file ({reason}); '
                           f'check the output folder and free space'
                           ) from error
        if not existed:
            created.append(path)
    return list(contents)


def json_bytes(document: object) -> bytes:
    """UTF-8 bytes of an indented JSON document (NaN refused) and a final
    newline: how every FMS JSON output is written."""
    return (json.dumps(document, indent=2, ensure_ascii=False,
                       allow_nan=False) + '\n').encode('utf-8')

