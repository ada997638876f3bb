"""Tests of :mod:`fms.manifest`: the session manifest's format and its
one-line problems."""
import csv
import io
import os
from typing import Dict, List, Sequence

import pytest

from fms import FmsError
from fms.manifest import (COLUMNS, MAX_MANIFEST_BYTES, ClearingRow,
                          ManifestError, TrialRow, read_manifest)

#: The header of the rows the bad-row tests write.
HEADER = ('athlete', 'test', 'side', 'view', 'file', 'pain', 'heels_raised',
          'sex', 'hand_length_cm', 'stature_cm', 'pattern', 'person_id')
#: One line of keypoint JSON (trial files must not be empty).
JSON_LINE = '{"frame": 0, "people": []}\n'


def touch(path) -> str:
    """Create the keypoint file ``path`` (folders too); its path."""
    os.makedirs(os.path.dirname(str(path)) or '.', exist_ok=True)
    with open(path, 'w') as stream:
        stream.write(JSON_LINE)
    return str(path)


def csv_text(rows: Sequence[Dict[str, str]], header=HEADER) -> str:
    """A manifest's text: ``header`` then ``rows`` (missing cells empty)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator='\n')
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name, '') for name in header])
    return out.getvalue()


def write(path, text: str) -> str:
    """Write the manifest ``text`` at ``path``; the path as a string."""
    with open(path, 'w', encoding='utf-8', newline='') as stream:
        stream.write(text)
    return str(path)


def problems_of(path: str) -> List[str]:
    """The problem lines :func:`read_manifest` raises for ``path``."""
    with pytest.raises(ManifestError) as raised:
        read_manifest(path)
    return raised.value.problems


@pytest.fixture
def here(tmp_path, monkeypatch):
    """Work in ``tmp_path`` with the keypoint files a.jsonl and b.jsonl."""
    monkeypatch.chdir(tmp_path)
    touch('a.jsonl')
    touch('b.jsonl')
    return tmp_path


def squat(**cells) -> Dict[str, str]:
    """A good deep squat front-view row, changed by ``cells``."""
    return {'athlete': 'anna', 'test': 'deep_squat', 'view': 'front',
            'file': 'a.jsonl', **cells}


def one_problem(rows: Sequence[Dict[str, str]], header=HEADER) -> str:
    """The single problem line of a manifest ``session.csv`` of ``rows``."""
    problems = problems_of(write('session.csv', csv_text(rows, header)))
    assert len(problems) == 1, problems
    return problems[0]


# --- a good manifest --------------------------------------------------------

GOOD = """\ufeff Athlete ,TEST,Side,view,file,pain,heels_raised,sex,pattern,\
hand_length_cm,stature_cm,person_id,Notes
anna,deep_squat,,front,videos/anna_ds_front.jsonl,,,Female,,,,,
anna,Deep_Squat,,side,videos/anna_ds_side.jsonl,no,N,,,,,,
,,,,,,,,,,,,
anna,deep_squat,,side,videos/anna_ds_heels.jsonl,,yes,,,,,,"retest,
heels on a board"
anna,shoulder_mobility,Left,front,videos/anna_sm.jsonl,,,,,18.5,165,,
anna,trunk_stability_pushup,,side,videos/anna_pu.jsonl,YES,,,,,,2,
anna,shoulder_clearing,,,,y,,,,,,,

bob,spinal_flexion,,,,0,,male,,,,,
bob,rotary_stability,right,side,videos/bob_rs.jsonl,,,,,,,,
bob,rotary_stability,right,side,videos/bob_rs_diag.jsonl,,,,diagonal,,,,
bob,rotary_stability,right,front,{absolute},,,,unilateral,,,,
"""


@pytest.fixture
def good(tmp_path):
    """A good manifest of two athletes (absolute path) and its folder."""
    for name in ('anna_ds_front', 'anna_ds_side', 'anna_ds_heels',
                 'anna_sm', 'anna_pu', 'bob_rs', 'bob_rs_diag'):
        touch(tmp_path / 'videos' / f'{name}.jsonl')
    absolute = touch(tmp_path / 'elsewhere' / 'bob_front.jsonl')
    return write(tmp_path / 'session.csv', GOOD.format(absolute=absolute))


def test_good_manifest_trials(good, tmp_path):
    manifest = read_manifest(good)
    videos = str(tmp_path / 'videos')
    assert manifest.path == good
    assert [t.row for t in manifest.trials] == [2, 3, 5, 6, 7, 11, 12, 13]
    first = manifest.trials[0]
    assert first == TrialRow(
        2, 'anna', 'deep_squat', None, 'front',
        os.path.join(videos, 'anna_ds_front.jsonl'),
        {'pain': False, 'heels_raised': False, 'sex': 'female'}, None)
    assert first.variant is None
    assert first.trial_key == ('anna', 'deep_squat', None, None)
    heels = manifest.trials[2]
    assert heels.inputs['heels_raised'] is True
    assert heels.trial_key == ('anna', 'deep_squat', None, 'heels raised')
    mobility = manifest.trials[3]
    assert mobility.side == 'left'
    assert mobility.inputs == {'pain': False, 'sex': 'female',
                               'hand_length_cm': 18.5, 'stature_cm': 165.0}
    pushup = manifest.trials[4]
    assert pushup.inputs == {'pain': True, 'sex': 'female'}
    assert pushup.person_id == 2


def test_good_manifest_rotary_variants_and_absolute_file(good, tmp_path):
    manifest = read_manifest(good)
    standard, diagonal, front = manifest.trials[5:]
    assert standard.inputs == {'pain': False, 'sex': 'male'}
    assert diagonal.inputs['pattern'] == 'diagonal'
    assert diagonal.trial_key == ('bob', 'rotary_stability', 'right',
                                  'diagonal')
    assert front.inputs['pattern'] == 'unilateral'
    assert front.trial_key == standard.trial_key
    assert front.file == str(tmp_path / 'elsewhere' / 'bob_front.jsonl')


def test_good_manifest_clearing_athletes_and_trials(good):
    manifest = read_manifest(good)
    assert manifest.clearing == (
        ClearingRow(8, 'anna', 'shoulder_clearing', True),
        ClearingRow(10, 'bob', 'spinal_flexion', False))
    assert manifest.athletes() == ['anna', 'bob']
    views = manifest.trial_views()
    assert [row.view for row in
            views[('anna', 'deep_squat', None, None)]] == ['front', 'side']
    assert [row.view for row in views[(
        'bob', 'rotary_stability', 'right', None)]] == ['side', 'front']
    assert len(views) == 6


def test_manifest_error_is_an_fms_error():
    error = ManifestError(['a', 'b', 'c'])
    assert isinstance(error, FmsError)
    assert str(error) == 'a (and 2 more problems)'
    assert str(ManifestError(['a', 'b'])) == 'a (and 1 more problem)'
    assert str(ManifestError(['a'])) == 'a'


def test_only_the_required_columns(here):
    path = write('session.csv', 'athlete,test,pain\nanna,spinal_extension,no\n'
                                'anna,deep_squat,\n')
    assert problems_of(path) == [
        'session.csv, row 3, column view: a test row needs a view: give '
        'front or side (it is empty)',
        'session.csv, row 3, column file: a test row needs the file of its '
        'view: give the video or keypoint file (it is empty)']
    path = write('session.csv',
                 'test,athlete,pain\nspinal_extension,anna,no\n')
    manifest = read_manifest(path)
    assert manifest.trials == ()
    assert manifest.clearing == (
        ClearingRow(2, 'anna', 'spinal_extension', False),)


# --- file paths -------------------------------------------------------------

def test_relative_files_resolve_against_the_manifest_folder(here):
    touch('sub/videos/a.jsonl')
    touch('top.jsonl')
    path = write('sub/session.csv', csv_text([
        squat(file='videos/a.jsonl'),
        squat(file='videos/../../top.jsonl', view='side')]))
    manifest = read_manifest(path)
    assert [t.file for t in manifest.trials] == [
        os.path.join('sub', 'videos', 'a.jsonl'), 'top.jsonl']


def test_missing_file_is_named_as_resolved(here):
    line = one_problem([squat(file='videos/b.mp4')])
    assert line == ('session.csv, row 2, column file: videos/b.mp4: no such '
                    'file: check the path')
    os.makedirs('sub')
    path = write('sub/session.csv', csv_text([squat(file='b.mp4')]))
    assert problems_of(path) == [
        f'sub/session.csv, row 2, column file: {os.path.join("sub", "b.mp4")}'
        f': no such file: check the path']


def test_folder_and_empty_file(here):
    os.makedirs('clips')
    open('empty.jsonl', 'w').close()
    assert one_problem([squat(file='clips')]) == (
        'session.csv, row 2, column file: clips: is a folder, not a video '
        'or keypoint file')
    assert one_problem([squat(file='empty.jsonl')]).startswith(
        'session.csv, row 2, column file: empty.jsonl: the file is empty')


# --- one bad cell, one line -------------------------------------------------

BAD_ROWS = [
    (squat(athlete=''), 'athlete', 'the athlete is empty: name the athlete'),
    (squat(athlete='a/b'), 'athlete',
     "'a/b' is not a usable name: use letters, digits, spaces and _ . - "
     "(starting with a letter or digit), at most 64 characters"),
    (squat(athlete='-anna'), 'athlete', "'-anna' is not a usable name"),
    (squat(athlete='x' * 65), 'athlete', 'is not a usable name'),
    (squat(test='squat'), 'test',
     "unknown test 'squat': use one of deep_squat, hurdle_step, "
     "inline_lunge, shoulder_mobility, aslr, trunk_stability_pushup, "
     "rotary_stability, or a clearing test: shoulder_clearing, "
     "spinal_extension, spinal_flexion"),
    (squat(test=''), 'test', 'the test is empty: give one of deep_squat'),
    (squat(test='hurdle_step'), 'side',
     'hurdle_step is scored per side: give left or right (it is empty)'),
    (squat(test='hurdle_step', side='up'), 'side',
     "hurdle_step is scored per side: give left or right (got 'up')"),
    (squat(side='left'), 'side',
     "deep_squat is not scored per side: leave the side empty (got 'left')"),
    (squat(view=''), 'view',
     'a test row needs a view: give front or side (it is empty)'),
    (squat(view='top'), 'view', "give front or side (got 'top')"),
    (squat(file=''), 'file', 'a test row needs the file of its view'),
    (squat(pain='maybe'), 'pain', "give yes or no (got 'maybe')"),
    (squat(heels_raised='2'), 'heels_raised', "give yes or no (got '2')"),
    (squat(test='aslr', side='left', heels_raised='no'), 'heels_raised',
     'only deep_squat rows take heels_raised (this row is aslr): leave it '
     'empty'),
    (squat(sex='x'), 'sex', "give male or female (got 'x')"),
    (squat(pattern='diagonal'), 'pattern',
     'only rotary_stability rows take pattern (this row is deep_squat): '
     'leave it empty'),
    (squat(test='rotary_stability', side='left', pattern='cross'), 'pattern',
     "give unilateral or diagonal (got 'cross')"),
    (squat(hand_length_cm='18'), 'hand_length_cm',
     'only shoulder_mobility rows take hand_length_cm (this row is '
     'deep_squat): leave it empty'),
    (squat(person_id='-1'), 'person_id',
     "give a whole number 0 or more, the tracked person to follow (got "
     "'-1')"),
    (squat(person_id='1.5'), 'person_id', "(got '1.5')"),
    (squat(person_id='one'), 'person_id', "(got 'one')"),
]


@pytest.mark.parametrize('row, column, problem', BAD_ROWS)
def test_a_bad_cell_is_one_line_naming_row_and_column(here, row, column,
                                                      problem):
    line = one_problem([row])
    assert line.startswith(f'session.csv, row 2, column {column}: ')
    assert problem in line


def mobility(**cells) -> Dict[str, str]:
    """A good shoulder mobility row with hand length and stature."""
    return squat(**{'test': 'shoulder_mobility', 'side': 'right',
                    'hand_length_cm': '19', 'stature_cm': '170', **cells})


@pytest.mark.parametrize('value', ['0', '-3', 'nan', 'inf', '-inf', 'abc',
                                   '17,5'])
@pytest.mark.parametrize('column', ['hand_length_cm', 'stature_cm'])
def test_centimetres_must_be_positive_and_finite(here, column, value):
    assert one_problem([mobility(**{column: value})]) == (
        f'session.csv, row 2, column {column}: give a positive number of '
        f'centimetres, e.g. 18.5 (got {value!r})')


def test_hand_length_and_stature_go_together(here):
    assert one_problem([mobility(stature_cm='')]) == (
        'session.csv, row 2, column hand_length_cm: give stature_cm too (the '
        'stature sets the pixel scale of the hand length)')
    assert one_problem([mobility(hand_length_cm='')]) == (
        'session.csv, row 2, column stature_cm: give hand_length_cm too (the '
        'stature only sets the pixel scale of the hand length)')


CLEARING = {'athlete': 'anna', 'test': 'shoulder_clearing', 'pain': 'no'}


@pytest.mark.parametrize('cells, column, problem', [
    ({'pain': ''}, 'pain',
     'a clearing row needs pain: give yes or no (it is empty)'),
    ({'side': 'left'}, 'side',
     "a clearing row takes no side: leave it empty (got 'left')"),
    ({'view': 'front'}, 'view',
     "a clearing row takes no view: leave it empty (got 'front')"),
    ({'file': 'a.jsonl'}, 'file',
     "a clearing row takes no file: leave it empty (got 'a.jsonl')"),
    ({'pattern': 'diagonal'}, 'pattern',
     'only rotary_stability rows take pattern (this row is '
     'shoulder_clearing): leave it empty'),
])
def test_bad_clearing_rows(here, cells, column, problem):
    assert one_problem([{**CLEARING, **cells}]) == (
        f'session.csv, row 2, column {column}: {problem}')


def test_a_value_under_no_column(here):
    text = 'athlete,test,view,file,\nanna,deep_squat,front,a.jsonl,\n' \
           'anna,deep_squat,side,b.jsonl,,oops\n'
    assert problems_of(write('session.csv', text)) == [
        "session.csv, row 3: a value in column 6, which the header does not "
        "name ('oops'): name the column or clear the cell"]


# --- all problems are collected ----------------------------------------------

def test_every_problem_of_the_file_is_reported(here):
    path = write('session.csv', csv_text([
        squat(view='top', pain='perhaps'),
        squat(view='side'),
        squat(test='hurdle_step', view='side'),
        squat(athlete='', file='missing.jsonl', view='side'),
    ]))
    with pytest.raises(ManifestError) as raised:
        read_manifest(path)
    assert raised.value.problems == [
        "session.csv, row 2, column view: give front or side (got 'top')",
        "session.csv, row 2, column pain: give yes or no (got 'perhaps')",
        'session.csv, row 4, column side: hurdle_step is scored per side: '
        'give left or right (it is empty)',
        'session.csv, row 5, column athlete: the athlete is empty: name the '
        'athlete',
        'session.csv, row 5, column file: missing.jsonl: no such file: check '
        'the path',
    ]
    assert str(raised.value) == (raised.value.problems[0]
                                 + ' (and 4 more problems)')


def test_row_numbers_are_the_spreadsheet_rows(here):
    text = ('athlete,test,view,file,notes\n\n'
            'anna,deep_squat,front,a.jsonl,"two\nlines"\n'
            ',,,,\n'
            'anna,deep_squat,top,b.jsonl,\n')
    assert problems_of(write('session.csv', text)) == [
        "session.csv, row 5, column view: give front or side (got 'top')"]


# --- duplicates -------------------------------------------------------------

def test_a_trial_view_twice_names_both_rows(here):
    assert one_problem([
        squat(view='side'), squat(view='front'),
        squat(view='side', file='b.jsonl'),
        squat(view='side', heels_raised='yes')]) == (
        'session.csv, rows 2 and 4: the same trial view (anna deep_squat '
        'side view) twice: keep one')


def test_a_bilateral_variant_trial_view_twice(here):
    rotary = squat(test='rotary_stability', side='left', pattern='diagonal')
    assert one_problem([rotary, squat(test='rotary_stability', side='left'),
                        {**rotary, 'pattern': 'Diagonal'}]) == (
        'session.csv, rows 2 and 4: the same trial view (anna '
        'rotary_stability left diagonal front view) twice: keep one')


def test_a_clearing_test_twice(here):
    assert one_problem([CLEARING, {**CLEARING, 'athlete': 'bob'},
                        {**CLEARING, 'pain': 'yes'}]) == (
        'session.csv, rows 2 and 4: the same clearing test (anna '
        'shoulder_clearing) twice: keep one')


# --- sex --------------------------------------------------------------------

def test_sex_conflict(here):
    assert one_problem([squat(sex='male'), squat(view='side'),
                        {**CLEARING, 'sex': 'Female'}]) == (
        'session.csv, rows 2 and 4, column sex: anna is male on row 2 and '
        'female on row 4: give one sex per athlete')


def test_pushup_needs_the_athletes_sex(here):
    pushup = squat(test='trunk_stability_pushup')
    assert one_problem([pushup, squat(view='side'),
                        {**pushup, 'view': 'side'}]) == (
        'session.csv, row 2, column sex: anna has a trunk_stability_pushup '
        'row but no sex on any row: give male or female (the push-up\'s hand '
        'position depends on it)')


def test_sex_from_any_row_fills_every_trial(here):
    path = write('session.csv', csv_text([
        squat(test='trunk_stability_pushup'), {**CLEARING, 'sex': 'male'},
        squat(athlete='bob', test='trunk_stability_pushup', sex='female')]))
    manifest = read_manifest(path)
    assert [t.inputs['sex'] for t in manifest.trials] == ['male', 'female']


# --- the whole file ---------------------------------------------------------

def test_missing_manifest_and_folder(here):
    problems = problems_of('nothing.csv')
    assert len(problems) == 1
    assert problems[0].startswith('nothing.csv: no such file')
    assert problems[0].endswith('(the session manifest)')
    assert problems_of(str(here)) == [
        f'{here}: is a folder, not a CSV manifest file (the session '
        f'manifest)']


def test_too_big(here):
    with open('big.csv', 'wb') as stream:
        stream.write(b'athlete,test\n' + b'x' * MAX_MANIFEST_BYTES)
    assert problems_of('big.csv') == [
        'big.csv: more than 10 MB, too big for a session manifest (one row '
        'per trial view): check that this is the manifest']


def test_not_utf8(here):
    with open('latin.csv', 'wb') as stream:
        stream.write('athlete,test\nJos\xe9,spinal_flexion\n'
                     .encode('latin-1'))
    assert problems_of('latin.csv') == [
        'latin.csv: not UTF-8 text (byte 16): save the manifest as CSV UTF-8']


def test_unicode_names_and_bom(here):
    path = write('session.csv', '\ufeffathlete,test,pain\n'
                                'José Núñez,spinal_flexion,no\n')
    assert read_manifest(path).athletes() == ['José Núñez']


@pytest.mark.parametrize('text', ['', '\n\n', ',,,\n\n'])
def test_empty_manifest(here, text):
    assert problems_of(write('session.csv', text)) == [
        'session.csv: the manifest is empty: write a header row (at least '
        'athlete,test) and one row per trial view and clearing test']


def test_header_without_rows(here):
    assert problems_of(write('session.csv', 'athlete,test\n,\n\n')) == [
        'session.csv: a header but no rows: add one row per trial view and '
        'clearing test']


def test_header_problems_are_all_reported(here):
    assert problems_of(write('session.csv', 'Sied,view,View,file\n'
                                            'left,front,side,a.jsonl\n')) == [
        f"session.csv: unknown column 'sied' in the header: use "
        f"{', '.join(COLUMNS)} (any case, any order)",
        'session.csv: column view appears twice in the header: keep one',
        'session.csv: missing column athlete in the header: it needs athlete '
        'and test',
        'session.csv: missing column test in the header: it needs athlete '
        'and test',
    ]


def test_semicolons_get_a_hint(here):
    problems = problems_of(write('session.csv', 'athlete;test\nanna;aslr\n'))
    assert problems[-1] == (
        'session.csv: missing column test in the header: it needs athlete and '
        'test (the manifest is comma separated: save it as CSV with commas)')


def test_bad_csv_names_the_row(here):
    text = 'athlete,test,notes\nanna,aslr,' + 'x' * 200000 + '\n'
    assert problems_of(write('session.csv', text)) == [
        'session.csv, row 2: bad CSV (field larger than field limit '
        '(131072)): fix the row']
