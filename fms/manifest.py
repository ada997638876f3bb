"""The session manifest: one CSV file listing a screening session's trials.

This module is the format's one owner; ``fms_analyzer.py session
MANIFEST.csv`` reads it with :func:`read_manifest`.

One row per filmed trial view (a *test row*) and one row per clearing test
(a *clearing row*).  UTF-8 (a byte-order mark is accepted), comma
separated, a header row first.  Column names are matched
case-insensitively after stripping spaces; their order is free.  Values
are stripped of surrounding spaces; words (tests, sides, views, yes/no...)
are case-insensitive.

=================  ===============  ==========================================
column             required         values
=================  ===============  ==========================================
athlete            every row        the athlete's name: letters, digits,
                                    spaces, ``_ . -``, starting with a letter
                                    or digit, at most 64 characters
test               every row        one of :data:`fms.protocol.TESTS`, or a
                                    clearing test (a key of
                                    :data:`fms.protocol.CLEARING_TESTS`)
side               bilateral tests  ``left``/``right`` for
                                    :data:`fms.protocol.BILATERAL_TESTS`;
                                    empty for the other tests and on
                                    clearing rows
view               test rows        ``front`` or ``side``; empty on clearing
                                    rows
file               test rows        the video or keypoint file
                                    (``.jsonl``/``.json``) of that view,
                                    relative to the manifest's folder (or
                                    absolute); it must exist and be readable;
                                    empty on clearing rows
pain               clearing rows    yes/no (also y/n, true/false, 1/0); on a
                                    test row optional: yes = the athlete
                                    reported pain (score 0); empty = no
heels_raised       optional         yes/no; deep_squat rows only (the
                                    heels-raised retest is its own trial: a
                                    separate set of rows with yes)
sex                optional         male/female; the rows of one athlete that
                                    give it must agree; an athlete with a
                                    trunk_stability_pushup row needs it on at
                                    least one of their rows
hand_length_cm,    optional         positive finite numbers; shoulder_mobility
stature_cm                          rows only; both or neither
pattern            optional         unilateral/diagonal; rotary_stability rows
                                    only (the diagonal retest is its own trial)
person_id          optional         a non-negative integer: the tracked person
                                    to follow
notes              optional         free text, ignored
=================  ===============  ==========================================

Only ``athlete`` and ``test`` must be in the header; a missing optional
column is empty in every row.  A column not in this table, or named twice,
is an error.  Rows whose cells are all empty are skipped.

A trial view is identified by (athlete, test, side, variant, view), the
variant being ``'heels raised'`` for a deep squat with heels raised,
``'diagonal'`` for the diagonal rotary stability pattern and None otherwise
(:attr:`TrialRow.variant`); two rows with one identity are an error, as are
two clearing rows of one athlete and clearing test.

Every problem of the file is collected (:class:`ManifestError`), each as one
line naming the file as the user gave it, the row as a spreadsheet numbers
it (the header is row 1 when it is the first line) and the column::

    session.csv, row 5, column side: hurdle_step is scored per side: give left or right (it is empty)
    session.csv, row 7, column file: videos/b.mp4: no such file: check the path
    session.csv, rows 3 and 9: the same trial view (anna deep_squat side view) twice: keep one

Problems of the whole file (missing, too big, not UTF-8, no header, no
rows, a bad header) are one line each too: ``session.csv: ...``.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import math
import os
from typing import (Callable, Collection, Dict, Iterator, List, Mapping,
                    Optional, Sequence, Tuple)

from common.files import input_file_problem
from fms import FmsError
from fms.fusion import variant
from fms.protocol import (BILATERAL_TESTS, CLEARING_TESTS, TESTS, VIEWS,
                          side_problem)

#: A manifest is a few hundred rows; a bigger file is not one.
MAX_MANIFEST_BYTES = 10 * 1024 * 1024
#: The longest athlete name.
MAX_ATHLETE_LENGTH = 64
#: Characters allowed in an athlete's name besides letters and digits.
ATHLETE_PUNCTUATION = ' _.-'
#: Cell words read as yes and as no (case-insensitive).
TRUE_WORDS: Tuple[str, ...] = ('yes', 'y', 'true', '1')
FALSE_WORDS: Tuple[str, ...] = ('no', 'n', 'false', '0')
#: Values of the ``sex`` column.
SEXES: Tuple[str, ...] = ('male', 'female')
#: Values of the ``pattern`` column; the first is the standard one.
PATTERNS: Tuple[str, ...] = ('unilateral', 'diagonal')
#: The push-up, whose hand positions depend on the athlete's sex.
SEX_TEST = 'trunk_stability_pushup'
#: Optional columns that only one test's rows take: column -> test.
ONLY_FOR: Dict[str, str] = {
    'heels_raised': 'deep_squat',
    'hand_length_cm': 'shoulder_mobility',
    'stature_cm': 'shoulder_mobility',
    'pattern': 'rotary_stability',
}
#: Columns a clearing row leaves empty.
CLEARING_EMPTY: Tuple[str, ...] = ('side', 'view', 'file')
#: The columns that identify a trial view (duplicates are looked for only
#: among rows whose identity cells are good).
IDENTITY_COLUMNS: Tuple[str, ...] = ('athlete', 'test', 'side', 'view',
                                     'heels_raised', 'pattern')

#: ``(value, problem)`` of one non-empty cell: the value (None when bad)
#: and why the cell is bad (one phrase), or None.
Parsed = Tuple[object, Optional[str]]
#: ``(athlete, test, side, variant)`` of a trial (sides and variant None
#: when they do not apply).
TrialKey = Tuple[str, str, Optional[str], Optional[str]]


class ManifestError(FmsError):
    """A bad manifest.  ``problems`` lists every problem of the file, one
    line each (naming the file, row and column); the message is the first
    one and how many more there are."""

    def __init__(self, problems: Sequence[str]):
        self.problems: List[str] = list(problems)
        message = self.problems[0]
        more = len(self.problems) - 1
        if more:
            message += f' (and {more} more problem{"s" if more > 1 else ""})'
        super().__init__(message)


@dataclasses.dataclass(frozen=True)
class TrialRow:
    """One filmed view of one trial.

    ``row`` is the spreadsheet row number, ``side`` None for the tests not
    scored per side, ``file`` the path as resolved (joined with the
    manifest's folder when relative, normalised; relative when the manifest
    path was), ``person_id`` the tracked person to follow (None: the
    default).  ``inputs`` holds what the row gives: ``pain`` (bool, always),
    ``heels_raised`` (bool, always on deep_squat rows, never on others),
    ``sex`` (``'male'``/``'female'``: the athlete's, from any of their rows,
    when given), ``hand_length_cm`` and ``stature_cm`` (float, together),
    ``pattern`` (``'unilateral'``/``'diagonal'``), each only when given.
    """
    row: int
    athlete: str
    test: str
    side: Optional[str]
    view: str
    file: str
    inputs: Dict[str, object]
    person_id: Optional[int] = None

    @property
    def variant(self) -> Optional[str]:
        """``'heels raised'`` for a deep squat with heels raised,
        ``'diagonal'`` for the diagonal rotary stability pattern, None for
        the standard trial (the unilateral pattern given or not):
        :func:`fms.fusion.variant`."""
        return variant(self.test, self.inputs)

    @property
    def trial_key(self) -> TrialKey:
        """``(athlete, test, side, variant)``: the trial this view is of."""
        return self.athlete, self.test, self.side, self.variant


@dataclasses.dataclass(frozen=True)
class ClearingRow:
    """One clearing test of one athlete: ``clearing`` is a key of
    :data:`fms.protocol.CLEARING_TESTS`, ``pain`` whether it was painful;
    ``row`` the spreadsheet row number."""
    row: int
    athlete: str
    clearing: str
    pain: bool


@dataclasses.dataclass(frozen=True)
class Manifest:
    """A checked manifest: its path as given, the test rows and the
    clearing rows, each in file order."""
    path: str
    trials: Tuple[TrialRow, ...]
    clearing: Tuple[ClearingRow, ...]

    def athletes(self) -> List[str]:
        """The athletes, in the order of their first row."""
        rows = sorted(self.trials + self.clearing, key=lambda r: r.row)
        return list(dict.fromkeys(row.athlete for row in rows))

    def trial_views(self) -> Dict[TrialKey, Tuple[TrialRow, ...]]:
        """``{trial_key: its views' rows}``, trials and views in file
        order."""
        views: Dict[TrialKey, List[TrialRow]] = {}
        for trial in self.trials:
            views.setdefault(trial.trial_key, []).append(trial)
        return {key: tuple(rows) for key, rows in views.items()}


# --- cells --------------------------------------------------------------

def _parse_athlete(text: str) -> Parsed:
    ok = (len(text) <= MAX_ATHLETE_LENGTH and text[0].isalnum()
          and all(c.isalnum() or c in ATHLETE_PUNCTUATION for c in text))
    if ok:
        return text, None
    return None, (f'{text!r} is not a usable name: use letters, digits, '
                  f'spaces and _ . - (starting with a letter or digit), at '
                  f'most {MAX_ATHLETE_LENGTH} characters')


def _parse_test(text: str) -> Parsed:
    test = text.lower()
    if test in TESTS or test in CLEARING_TESTS:
        return test, None
    return None, (f'unknown test {text!r}: use one of {", ".join(TESTS)}, '
                  f'or a clearing test: {", ".join(CLEARING_TESTS)}')


def _parse_text(text: str) -> Parsed:
    return text, None


def _parse_lower(text: str) -> Parsed:
    return text.lower(), None


def _choice(values: Tuple[str, ...]) -> Callable[[str], Parsed]:
    """A parser of a cell that holds one of ``values``."""
    def parse(text: str) -> Parsed:
        if text.lower() in values:
            return text.lower(), None
        return None, f'give {" or ".join(values)} (got {text!r})'
    return parse


def _parse_bool(text: str) -> Parsed:
    word = text.lower()
    if word in TRUE_WORDS or word in FALSE_WORDS:
        return word in TRUE_WORDS, None
    return None, f'give yes or no (got {text!r})'


def _parse_centimetres(text: str) -> Parsed:
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if math.isfinite(number) and number > 0:
        return number, None
    return None, (f'give a positive number of centimetres, e.g. 18.5 (got '
                  f'{text!r})')


def _parse_person_id(text: str) -> Parsed:
    if text.isascii() and text.isdigit():
        return int(text), None
    return None, (f'give a whole number 0 or more, the tracked person to '
                  f'follow (got {text!r})')


@dataclasses.dataclass(frozen=True)
class Column:
    """A manifest column: whether the header must have it, and the parser
    of its non-empty cells (text -> :data:`Parsed`)."""
    required: bool
    parse: Callable[[str], Parsed]


#: The manifest's columns, in the order of the format's table.
COLUMNS: Dict[str, Column] = {
    'athlete': Column(True, _parse_athlete),
    'test': Column(True, _parse_test),
    'side': Column(False, _parse_lower),
    'view': Column(False, _choice(VIEWS)),
    'file': Column(False, _parse_text),
    'pain': Column(False, _parse_bool),
    'heels_raised': Column(False, _parse_bool),
    'sex': Column(False, _choice(SEXES)),
    'hand_length_cm': Column(False, _parse_centimetres),
    'stature_cm': Column(False, _parse_centimetres),
    'pattern': Column(False, _choice(PATTERNS)),
    'person_id': Column(False, _parse_person_id),
    'notes': Column(False, _parse_text),
}


@dataclasses.dataclass
class _Cells:
    """One data row while it is checked: the parsed value of each good
    non-empty cell, and the problem phrase of each bad column (``''``: the
    row as a whole)."""
    row: int
    values: Dict[str, object]
    problems: Dict[str, str]

    def good(self, columns: Sequence[str]) -> bool:
        """Whether none of ``columns`` has a problem."""
        return not any(column in self.problems for column in columns)


def _parse_cells(row: int, names: Sequence[str],
                 cells: Sequence[str]) -> _Cells:
    """The values and cell problems of the data row ``row``; ``names`` are
    the header's column names (``''`` for a nameless column)."""
    parsed = _Cells(row, {}, {})
    for index, text in enumerate(cells):
        text = text.strip()
        name = names[index] if index < len(names) else ''
        if not text:
            continue
        if not name:
            parsed.problems.setdefault('', (
                f'a value in column {index + 1}, which the header does not '
                f'name ({text!r}): name the column or clear the cell'))
            continue
        value, problem = COLUMNS[name].parse(text)
        if problem:
            parsed.problems[name] = problem
        else:
            parsed.values[name] = value
    return parsed


# --- rules of one row ---------------------------------------------------

def _check_row(cells: _Cells, folder: str) -> None:
    """Add to ``cells.problems`` what the row's test rules out or needs
    (the parsed file becomes the resolved path)."""
    rules: Dict[str, str] = {}
    if 'athlete' not in cells.values and 'athlete' not in cells.problems:
        rules['athlete'] = 'the athlete is empty: name the athlete'
    test = cells.values.get('test')
    if test is None:
        if 'test' not in cells.problems:
            rules['test'] = (f'the test is empty: give one of '
                             f'{", ".join(TESTS)} or a clearing test')
    elif test in CLEARING_TESTS:
        rules.update(_clearing_rules(cells.values))
    else:
        rules.update(_test_rules(test, cells.values, folder))
    if test is not None:
        rules.update(_only_for_rules(test, cells.values))
        rules.update(_hand_scale_rules(
            test, set(cells.values) | set(cells.problems)))
    for column, problem in rules.items():
        cells.problems.setdefault(column, problem)


def _clearing_rules(values: Mapping[str, object]) -> Dict[str, str]:
    """Problems of a clearing row: pain needed, no side, view or file."""
    rules = {column: (f'a clearing row takes no {column}: leave it empty '
                      f'(got {values[column]!r})')
             for column in CLEARING_EMPTY if column in values}
    if 'pain' not in values:
        rules['pain'] = ('a clearing row needs pain: give yes or no (it is '
                         'empty)')
    return rules


def _test_rules(test: str, values: Dict[str, object],
                folder: str) -> Dict[str, str]:
    """Problems of a test row: its side, view and file."""
    rules: Dict[str, str] = {}
    problem = side_problem(test, values.get('side'))
    if problem:
        rules['side'] = problem
    if 'view' not in values:
        rules['view'] = ('a test row needs a view: give front or side (it '
                         'is empty)')
    if 'file' not in values:
        rules['file'] = ('a test row needs the file of its view: give the '
                         'video or keypoint file (it is empty)')
    else:
        values['file'] = _resolve(folder, str(values['file']))
        problem = _file_problem(str(values['file']))
        if problem:
            rules['file'] = problem
    return rules


def _resolve(folder: str, path: str) -> str:
    """``path`` joined with the manifest's ``folder`` when relative,
    normalised."""
    return os.path.normpath(os.path.join(folder, path))


def _file_problem(path: str) -> Optional[str]:
    """Why a trial's file ``path`` (resolved) cannot be read, or None."""
    if not os.path.lexists(path):
        return f'{path}: no such file: check the path'
    return input_file_problem(path, 'video or keypoint')


def _only_for_rules(test: str, values: Mapping[str, object]
                    ) -> Dict[str, str]:
    """Problems of the columns that only another test's rows take."""
    return {column: (f'only {owner} rows take {column} (this row is '
                     f'{test}): leave it empty')
            for column, owner in ONLY_FOR.items()
            if column in values and test != owner}


def _hand_scale_rules(test: str, given: Collection[str]) -> Dict[str, str]:
    """The hand length without the stature, or the stature without the
    hand length, on a shoulder mobility row; ``given`` names the row's
    non-empty cells (good or bad)."""
    if test != ONLY_FOR['hand_length_cm']:
        return {}
    if 'hand_length_cm' in given and 'stature_cm' not in given:
        return {'hand_length_cm': 'give stature_cm too (the stature sets '
                                  'the pixel scale of the hand length)'}
    if 'stature_cm' in given and 'hand_length_cm' not in given:
        return {'stature_cm': 'give hand_length_cm too (the stature only '
                              'sets the pixel scale of the hand length)'}
    return {}


def _row_lines(path: str, cells: _Cells) -> List[str]:
    """The problem lines of one row, in column order."""
    lines = []
    for column in ('',) + tuple(COLUMNS):
        if column in cells.problems:
            where = f', column {column}' if column else ''
            lines.append(f'{path}, row {cells.row}{where}: '
                         f'{cells.problems[column]}')
    return lines


# --- rules across rows --------------------------------------------------

def _identity(cells: _Cells) -> Optional[tuple]:
    """The trial view or clearing test a row is, or None when its identity
    cells are bad or missing."""
    values = cells.values
    if not cells.good(IDENTITY_COLUMNS) or 'test' not in values \
            or 'athlete' not in values:
        return None
    if values['test'] in CLEARING_TESTS:
        return values['athlete'], values['test']
    variant = _variant(values)
    return (values['athlete'], values['test'], values.get('side'), variant,
            values.get('view'))


def _variant(values: Mapping[str, object]) -> Optional[str]:
    """The variant of a test row (as :attr:`TrialRow.variant`)."""
    return variant(str(values.get('test')), values)


def _identity_words(identity: tuple) -> str:
    """``'the same trial view (anna deep_squat side view)'``..."""
    if len(identity) == 2:
        return f'the same clearing test ({identity[0]} {identity[1]})'
    athlete, test, side, variant, view = identity
    words = ' '.join(w for w in (athlete, test, side, variant) if w)
    return f'the same trial view ({words} {view} view)'


def _duplicate_lines(path: str, rows: Sequence[_Cells]) -> List[str]:
    """One line per row that repeats an earlier row's trial view or
    clearing test, naming both rows."""
    first: Dict[tuple, int] = {}
    lines = []
    for cells in rows:
        identity = _identity(cells)
        if identity is None:
            continue
        if identity in first:
            lines.append(f'{path}, rows {first[identity]} and {cells.row}: '
                         f'{_identity_words(identity)} twice: keep one')
        else:
            first[identity] = cells.row
    return lines


def _sexes(rows: Sequence[_Cells]) -> Dict[str, List[Tuple[int, str]]]:
    """``{athlete: [(row, sex), ...]}`` of the rows that give a sex."""
    sexes: Dict[str, List[Tuple[int, str]]] = {}
    for cells in rows:
        athlete = cells.values.get('athlete')
        if athlete is not None and 'sex' in cells.values:
            sexes.setdefault(str(athlete), []).append(
                (cells.row, str(cells.values['sex'])))
    return sexes


def _sex_lines(path: str, rows: Sequence[_Cells]) -> List[str]:
    """The athletes whose rows disagree on their sex, and those with a
    push-up row but no sex."""
    sexes = _sexes(rows)
    lines = []
    for athlete, given in sexes.items():
        (row, sex), others = given[0], given[1:]
        for other_row, other in others:
            if other != sex:
                lines.append(
                    f'{path}, rows {row} and {other_row}, column sex: '
                    f'{athlete} is {sex} on row {row} and {other} on row '
                    f'{other_row}: give one sex per athlete')
                break
    lines.extend(_missing_sex_lines(path, rows, sexes))
    return lines


def _missing_sex_lines(path: str, rows: Sequence[_Cells],
                       sexes: Mapping[str, object]) -> List[str]:
    """One line per athlete with a push-up row and no sex on any row."""
    lines: Dict[str, str] = {}
    for cells in rows:
        athlete = cells.values.get('athlete')
        if (cells.values.get('test') == SEX_TEST and athlete is not None
                and athlete not in sexes and 'sex' not in cells.problems):
            lines.setdefault(str(athlete), (
                f'{path}, row {cells.row}, column sex: {athlete} has a '
                f'{SEX_TEST} row but no sex on any row: give male or female '
                f'(the push-up\'s hand position depends on it)'))
    return list(lines.values())


# --- reading ------------------------------------------------------------

def _read_text(path: str) -> str:
    """The manifest's text, or :class:`ManifestError` (one line)."""
    problem = input_file_problem(path, 'CSV manifest', allow_empty=True)
    if problem:
        raise ManifestError([f'{problem} (the session manifest)'])
    with open(path, 'rb') as stream:
        data = stream.read(MAX_MANIFEST_BYTES + 1)
    if len(data) > MAX_MANIFEST_BYTES:
        raise ManifestError([
            f'{path}: more than {MAX_MANIFEST_BYTES // 2 ** 20} MB, too big '
            f'for a session manifest (one row per trial view): check that '
            f'this is the manifest'])
    try:
        return data.decode('utf-8-sig')
    except UnicodeDecodeError as error:
        raise ManifestError([
            f'{path}: not UTF-8 text (byte {error.start}): save the manifest '
            f'as CSV UTF-8']) from None


def _records(path: str, text: str) -> Iterator[Tuple[int, List[str]]]:
    """``(row, cells)`` of the non-blank CSV records, ``row`` numbered as
    a spreadsheet numbers its rows (blank ones counted)."""
    reader = csv.reader(io.StringIO(text, newline=''))
    row = 0
    try:
        for row, cells in enumerate(reader, 1):
            if any(cell.strip() for cell in cells):
                yield row, cells
    except csv.Error as error:
        raise ManifestError([f'{path}, row {row + 1}: bad CSV ({error}): '
                             f'fix the row']) from None


def _header_names(path: str, header: Sequence[str]) -> List[str]:
    """The column names of the header row (``''`` for nameless columns),
    or :class:`ManifestError` listing every header problem."""
    names = [cell.strip().lower() for cell in header]
    problems = []
    for name in dict.fromkeys(names):
        if name and name not in COLUMNS:
            problems.append(f'{path}: unknown column {name!r} in the header: '
                            f'use {", ".join(COLUMNS)} (any case, any '
                            f'order)')
        elif name and names.count(name) > 1:
            problems.append(f'{path}: column {name} appears twice in the '
                            f'header: keep one')
    for name, column in COLUMNS.items():
        if column.required and name not in names:
            problems.append(_missing_column_line(path, name, header))
    if problems:
        raise ManifestError(problems)
    return names


def _missing_column_line(path: str, name: str, header: Sequence[str]) -> str:
    """The line for the required column ``name`` missing from ``header``."""
    required = ' and '.join(n for n, c in COLUMNS.items() if c.required)
    hint = ''
    if any(';' in cell or '\t' in cell for cell in header):
        hint = ' (the manifest is comma separated: save it as CSV with commas)'
    return (f'{path}: missing column {name} in the header: it needs '
            f'{required}{hint}')


def read_manifest(path: str) -> Manifest:
    """The checked manifest at ``path`` (see the module's documentation
    for the format).

    Raises:
        ManifestError: every problem of the file, one line each.
    """
    records = list(_records(path, _read_text(path)))
    if not records:
        raise ManifestError([
            f'{path}: the manifest is empty: write a header row (at least '
            f'athlete,test) and one row per trial view and clearing test'])
    names = _header_names(path, records[0][1])
    if len(records) == 1:
        raise ManifestError([
            f'{path}: a header but no rows: add one row per trial view and '
            f'clearing test'])
    folder = os.path.dirname(path)
    rows = []
    for row, cells in records[1:]:
        parsed = _parse_cells(row, names, cells)
        _check_row(parsed, folder)
        rows.append(parsed)
    problems = [line for cells in rows for line in _row_lines(path, cells)]
    problems += _duplicate_lines(path, rows) + _sex_lines(path, rows)
    if problems:
        raise ManifestError(problems)
    return _manifest(path, rows)


def _manifest(path: str, rows: Sequence[_Cells]) -> Manifest:
    """The :class:`Manifest` of checked rows (no problems)."""
    sexes = {athlete: given[0][1] for athlete, given in _sexes(rows).items()}
    trials, clearing = [], []
    for cells in rows:
        values = cells.values
        athlete, test = str(values['athlete']), str(values['test'])
        if test in CLEARING_TESTS:
            clearing.append(ClearingRow(cells.row, athlete, test,
                                        bool(values['pain'])))
            continue
        trials.append(TrialRow(
            cells.row, athlete, test,
            str(values['side']) if test in BILATERAL_TESTS else None,
            str(values['view']), str(values['file']),
            _inputs(test, values, sexes.get(athlete)),
            values.get('person_id')))
    return Manifest(path, tuple(trials), tuple(clearing))


def _inputs(test: str, values: Mapping[str, object], sex: Optional[str]
            ) -> Dict[str, object]:
    """The ``inputs`` of a test row (see :class:`TrialRow`)."""
    inputs: Dict[str, object] = {'pain': bool(values.get('pain', False))}
    if test == ONLY_FOR['heels_raised']:
        inputs['heels_raised'] = bool(values.get('heels_raised', False))
    if sex is not None:
        inputs['sex'] = sex
    for column in ('hand_length_cm', 'stature_cm', 'pattern'):
        if column in values:
            inputs[column] = values[column]
    return inputs
