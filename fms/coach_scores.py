"""The coach's scores: a CSV file, read and checked.

A header line names the columns ``subject``, ``test``, ``side`` and
``score`` (any order, other columns ignored), then one line per trial;
``side`` is empty for the tests not scored per side and ``left``/``right``
for the others (:func:`fms.protocol.side_problem`).  Scores are
``{(subject, test, side): score}`` (:data:`fms.protocol.Key`).
"""
from __future__ import annotations

import csv
from typing import Dict, List, Tuple

from common.files import input_file_problem
from fms import FmsError
from fms.protocol import SCORES, TESTS, Key, side_problem, trial_name

#: Columns the coach's CSV must have.
COACH_COLUMNS: Tuple[str, ...] = ('subject', 'test', 'side', 'score')


def load_coach_csv(path: str) -> Dict[Key, int]:
    """The coach's scores from a CSV file: ``{(subject, test, side): score}``.

    UTF-8 (a byte-order mark is allowed); cells are stripped of surrounding
    whitespace, test and side names are case-insensitive, blank lines are
    skipped.

    Raises:
        FmsError: missing or unreadable file, empty file, missing column,
            unknown test, bad side, score not an integer 0-3, a trial scored
            twice; the message names the file, line and column.
    """
    rows = _read_csv_rows(path)
    if not rows:
        raise FmsError(f'{path} is empty: write a header line '
                       f'"{",".join(COACH_COLUMNS)}" and one line per trial')
    header_line, header = rows[0]
    columns = _coach_columns(path, header_line, header)
    scores: Dict[Key, int] = {}
    lines: Dict[Key, int] = {}
    for line, row in rows[1:]:
        key, score = _coach_row(path, line, row, columns)
        if key in scores:
            raise FmsError(f'{path}, line {line}: {trial_name(key)} is scored '
                           f'twice (also on line {lines[key]}): keep one '
                           f'line per trial')
        scores[key], lines[key] = score, line
    if not scores:
        raise FmsError(f'{path} has a header but no scores: add one line per '
                       f'trial')
    return scores


def _read_csv_rows(path: str) -> List[Tuple[int, List[str]]]:
    """The non-blank rows of a CSV file with their (last) line numbers."""
    problem = input_file_problem(path, 'CSV', allow_empty=True)
    if problem:
        raise FmsError(f'{problem} (the coach\'s scores)')
    try:
        with open(path, encoding='utf-8-sig', newline='') as f:
            reader = csv.reader(f)
            rows = []
            for row in reader:
                if any(cell.strip() for cell in row):
                    rows.append((reader.line_num, row))
            return rows
    except UnicodeDecodeError as e:
        raise FmsError(f'{path} is not UTF-8 text (byte {e.start}): save the '
                       f'CSV as UTF-8') from None
    except csv.Error as e:
        raise FmsError(f'{path}, line {reader.line_num}: bad CSV ({e}): fix '
                       f'the line') from None


def _coach_columns(path: str, line: int, header: List[str]) -> Dict[str, int]:
    """Column name -> index of the required columns of the header row."""
    names = [cell.strip().lower() for cell in header]
    missing = [name for name in COACH_COLUMNS if name not in names]
    if missing:
        raise FmsError(
            f'{path}, line {line}: missing column'
            f'{"s" if len(missing) > 1 else ""} {", ".join(missing)} (found: '
            f'{", ".join(cell.strip() for cell in header)}): the header needs '
            f'{", ".join(COACH_COLUMNS)}')
    repeated = [name for name in COACH_COLUMNS if names.count(name) > 1]
    if repeated:
        raise FmsError(f'{path}, line {line}: column {repeated[0]} appears '
                       f'twice in the header: keep one')
    return {name: names.index(name) for name in COACH_COLUMNS}


def _coach_row(path: str, line: int, row: List[str],
               columns: Dict[str, int]) -> Tuple[Key, int]:
    """The trial key and score of one data row of the coach's CSV."""
    def cell(name: str) -> str:
        index = columns[name]
        return row[index].strip() if index < len(row) else ''

    def fail(column: str, problem: str) -> FmsError:
        return FmsError(f'{path}, line {line}, column {column}: {problem}')

    subject, test, side = cell('subject'), cell('test'), cell('side')
    if not subject:
        raise fail('subject', 'the subject is empty: name the subject')
    if test.lower() not in TESTS:
        raise fail('test', f'unknown test {test!r}: use one of '
                           f'{", ".join(TESTS)}')
    test, side = test.lower(), side.lower()
    problem = side_problem(test, side)
    if problem:
        raise fail('side', problem)
    score = cell('score')
    if not (score.isascii() and score.isdigit()) or int(score) not in SCORES:
        raise fail('score', f'score {score!r} is not an integer 0-3: give 0, '
                            f'1, 2 or 3')
    return (subject, test, side or None), int(score)

