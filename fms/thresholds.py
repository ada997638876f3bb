"""The criteria thresholds file: reading, overriding, calibration grid.

Thresholds live in one JSON file (``fms/thresholds.json``): per test, per
threshold key, ``{"value", "unit", "range": [lo, hi], "step",
"description", "source"}``; ``range`` and ``step`` are the grid searched
when calibrating against a rater's scores (:func:`search_space`).  Each key
is the ``threshold_key`` of a row of :data:`fms.criteria.CRITERIA`, and its
``unit`` is the unit of the measurement that row compares.

A user file overrides a subset of the packaged entries, each as a number
(the value) or a partial entry (:func:`threshold_details`).
"""
from __future__ import annotations

import json
import math
import os
from typing import Dict, List, Mapping, Optional

import numpy as np

from fms import FmsError
from fms.protocol import TESTS

#: The packaged thresholds file.
DEFAULT_THRESHOLDS_PATH = os.path.join(os.path.dirname(__file__),
                                       'thresholds.json')

#: Fields of a threshold entry.
ENTRY_FIELDS = ('value', 'unit', 'range', 'step', 'description', 'source')

#: test -> threshold key -> value.
ThresholdValues = Dict[str, Dict[str, float]]


def _read_json(path: str) -> dict:
    try:
        with open(path, encoding='utf-8') as stream:
            document = json.load(stream)
    except (OSError, UnicodeDecodeError) as error:
        raise FmsError(f'cannot read thresholds file {path}: {error}')
    except json.JSONDecodeError as error:
        raise FmsError(f'thresholds file {path} is not valid JSON (line '
                       f'{error.lineno}: {error.msg}): fix it or start from '
                       f'{DEFAULT_THRESHOLDS_PATH}')
    if not isinstance(document, dict):
        raise FmsError(f'thresholds file {path} must hold an object '
                       f'{{test: {{key: value}}}}')
    return document


def _number(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value):
        raise FmsError(f'{where} must be a finite number, not {value!r}')
    return float(value)


def _override(entry: dict, given, where: str) -> dict:
    """``entry`` with a user's value (a number or a partial entry)."""
    entry = dict(entry)
    if not isinstance(given, dict):
        given = {'value': given}
    for field, value in given.items():
        if field not in ENTRY_FIELDS:
            raise FmsError(f'{where}: unknown field {field!r}; use '
                           f'{", ".join(ENTRY_FIELDS)}')
        entry[field] = value
    entry['value'] = _number(entry['value'], f'{where} value')
    entry['step'] = _number(entry['step'], f'{where} step')
    low_high = entry['range']
    if not isinstance(low_high, (list, tuple)) or len(low_high) != 2:
        raise FmsError(f'{where} range must be [low, high]')
    entry['range'] = [_number(v, f'{where} range') for v in low_high]
    if entry['step'] <= 0 or entry['range'][0] > entry['range'][1]:
        raise FmsError(f'{where}: step must be > 0 and range low <= high')
    return entry


def threshold_details(path: Optional[str] = None
                      ) -> Dict[str, Dict[str, dict]]:
    """Every threshold entry: test -> key -> ``{"value", "unit", "range",
    "step", "description", "source"}``.

    The packaged file gives all of them; a user file at ``path`` overrides a
    subset, each as a number (the value) or a partial entry.

    Raises:
        FmsError: unreadable file or bad JSON, unknown test or key,
            non-numeric value, bad range or step.
    """
    packaged = _read_json(DEFAULT_THRESHOLDS_PATH)
    details = {test: {key: _override(entry, {}, f'{test}.{key}')
                      for key, entry in packaged[test].items()}
               for test in TESTS}
    if path is None:
        return details
    for test, entries in _read_json(path).items():
        if test not in details:
            raise FmsError(f'{path}: unknown test {test!r}; use one of '
                           f'{", ".join(TESTS)}')
        if not isinstance(entries, dict):
            raise FmsError(f'{path}: {test} must map threshold keys to values')
        for key, given in entries.items():
            if key not in details[test]:
                raise FmsError(f'{path}: unknown threshold {test}.{key}; '
                               f'{test} has {", ".join(details[test])}')
            details[test][key] = _override(details[test][key], given,
                                           f'{path}: {test}.{key}')
    return details


def load_thresholds(path: Optional[str] = None) -> ThresholdValues:
    """Threshold values: test -> key -> float (see
    :func:`threshold_details` for ``path`` and the errors)."""
    return threshold_values(threshold_details(path))


def threshold_values(details: Mapping[str, Mapping[str, dict]]
                     ) -> ThresholdValues:
    """test -> key -> value of :func:`threshold_details`' entries."""
    return {test: {key: float(entry['value'])
                   for key, entry in entries.items()}
            for test, entries in details.items()}


def search_space(details: Mapping[str, Mapping[str, dict]]
                 ) -> Dict[str, Dict[str, List[float]]]:
    """The calibration grid: test -> key -> values from ``range[0]`` to
    ``range[1]`` (both included) by ``step``."""
    return {test: {key: [round(float(v), 10) for v in np.arange(
        entry['range'][0], entry['range'][1] + entry['step'] / 2,
        entry['step'])] for key, entry in entries.items()}
        for test, entries in details.items()}


def test_thresholds(test: str, overrides: Optional[Mapping] = None
                    ) -> Dict[str, float]:
    """The threshold values of ``test``: the packaged ones, overridden by
    ``overrides`` (either the test's key -> value, or test -> key -> value
    as :func:`load_thresholds` returns).

    Raises:
        FmsError: an override names a key the test does not have.
    """
    values = dict(load_thresholds()[test])
    if overrides:
        given = overrides.get(test, overrides) \
            if isinstance(overrides.get(test), Mapping) else overrides
        unknown = [k for k in given if k not in values]
        if unknown:
            raise FmsError(f'unknown thresholds for {test}: '
                           f'{", ".join(unknown)}; {test} has '
                           f'{", ".join(values)}')
        values.update({k: float(v) for k, v in given.items()})
    return values


test_thresholds.__test__ = False     # a library function, not a pytest test
