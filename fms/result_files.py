"""The analyzer's result files in a folder, read and checked.

Every ``*.json`` file directly in the folder whose ``format`` is
``'fms-result'`` (:func:`fms.results.result_document`) is a result; other
files are skipped and reported to the caller.  The results of one trial's
views (a front and a side camera) and retests (heels raised, the diagonal
pattern) are scored together (:mod:`fms.fusion`).
"""
from __future__ import annotations

import json
import logging
import os
from typing import Dict, List, Optional, Tuple

from fms import FmsError
from fms.fusion import score_trial, variant
from fms.protocol import (SCORES, TESTS, VIEWS, Key, side_problem,
                          trial_name)
from fms.results import RESULT_FORMAT, RESULT_VERSION

logger = logging.getLogger(__name__)


def load_auto_results(directory: str, skipped: Optional[List[str]] = None
                      ) -> Tuple[Dict[Key, Optional[int]], Dict[Key,
                                                                List[dict]]]:
    """The result documents in ``directory`` (not its sub-folders), each
    trial's views and retests scored together (:func:`fms.fusion.
    score_trial`).

    Every ``*.json`` file whose ``format`` is ``'fms-result'`` is a result.
    Other files (valid JSON that is not a result, or unparsable JSON that
    does not mention ``'fms-result'``) are skipped: their paths are appended
    to ``skipped`` when a list is given, so that a caller can say "skipped N
    files that are not results".

    Returns:
        ``(scores, documents)``: ``{trial key: score}`` (None: provisional,
        a criterion observed in no view could change it; a trial of one
        document keeps its score) and ``{trial key:
        [result document of each view and retest]}``.

    Raises:
        FmsError: missing folder, a broken result file (named), two results
            of the same view of one trial (both named), no result at all.
    """
    documents: Dict[Key, List[dict]] = {}
    origins: Dict[tuple, str] = {}
    passed_over = []
    for path in _json_files(directory):
        document = _read_result_json(path)
        if not (isinstance(document, dict)
                and document.get('format') == RESULT_FORMAT):
            passed_over.append(path)
            logger.info('skipped %s: not an FMS result', path)
            continue
        key = _result_key(path, document)
        view = (key, variant(key[1], document.get('inputs') or {}),
                document.get('view'))
        if view in origins:
            raise FmsError(f'{origins[view]} and {path} are both results of '
                           f'{trial_name(key)}, {view[2]} view: keep one of '
                           f'them')
        origins[view] = path
        documents.setdefault(key, []).append(document)
    if skipped is not None:
        skipped.extend(passed_over)
    if not documents:
        raise FmsError(f'{directory} holds no FMS result files (skipped '
                       f'{len(passed_over)} files that are not results): '
                       f'give the folder the analyzer wrote its .json '
                       f'results to')
    scores = {}
    for key, group in documents.items():
        if len(group) == 1:             # as analysed: no need to judge again
            scores[key] = group[0]['score']
            continue
        try:
            scores[key] = score_trial(group).score
        except FmsError as e:
            raise FmsError(f'{directory}: {trial_name(key)}: {e}') from None
    return scores, documents


def _json_files(directory: str) -> List[str]:
    """Paths of the ``*.json`` files directly in ``directory``, sorted."""
    try:
        with os.scandir(directory) as entries:
            return sorted(entry.path for entry in entries
                          if entry.name.lower().endswith('.json')
                          and entry.is_file())
    except FileNotFoundError:
        raise FmsError(f'{directory}: no such folder: check the path of the '
                       f'automatic results') from None
    except NotADirectoryError:
        raise FmsError(f'{directory} is not a folder: give the folder of the '
                       f'automatic results') from None


def read_result(path: str) -> dict:
    """The result document in ``path``, checked as :func:`load_auto_results`
    checks each; FmsError (naming the file) for anything else."""
    document = _read_result_json(path)
    if not (isinstance(document, dict)
            and document.get('format') == RESULT_FORMAT):
        raise FmsError(f'{path}: not an FMS result file: run the analysis '
                       f'of this trial again or remove the file')
    _result_key(path, document)
    return document


def _read_result_json(path: str) -> object:
    """The parsed JSON of ``path``; None for a file that is not JSON and does
    not look like a result (it is skipped); FmsError for a broken result."""
    try:
        with open(path, 'rb') as f:
            raw = f.read()
    except OSError as e:
        raise FmsError(f'{path}: cannot read the file ({e.strerror}): check '
                       f'its permissions') from None
    try:
        return json.loads(raw.decode('utf-8-sig'))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        if RESULT_FORMAT.encode() not in raw:
            return None
        where = (f', line {e.lineno}, column {e.colno}'
                 if isinstance(e, json.JSONDecodeError) else '')
        raise FmsError(f'{path}{where}: broken result file ({e}): run the '
                       f'analysis of this trial again or remove the '
                       f'file') from None


def _result_key(path: str, document: dict) -> Key:
    """The trial key of a result document, checked (its score too)."""
    def fail(problem: str) -> FmsError:
        return FmsError(f'{path}: broken result file: {problem}: run the '
                        f'analysis of this trial again or remove the file')

    version = document.get('version')
    if not isinstance(version, int) or isinstance(version, bool):
        raise fail(f'version {version!r} is not an integer')
    if version > RESULT_VERSION:
        raise FmsError(f'{path}: result version {version} is newer than this '
                       f'program reads ({RESULT_VERSION}): update the program')
    subject, test = document.get('subject'), document.get('test')
    side, score = document.get('side'), document.get('score')
    if not isinstance(subject, str) or not subject.strip():
        raise fail(f'subject {subject!r} is not a name')
    if test not in TESTS:
        raise fail(f'unknown test {test!r}')
    problem = side_problem(test, side)
    if problem:
        raise fail(problem)
    if document.get('view') not in VIEWS:
        raise fail(f'view {document.get("view")!r} is not front or side')
    possible = document.get('possible')
    provisional = score is None and isinstance(possible, list) and all(
        s in SCORES and not isinstance(s, bool) for s in possible)
    if not provisional and (isinstance(score, bool) or score not in SCORES):
        raise fail(f'score {score!r} is not an integer 0-3')
    return subject.strip(), test, side or None
