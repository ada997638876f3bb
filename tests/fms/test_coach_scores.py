"""Tests of fms.coach_scores: reading and checking the coach's CSV."""
import pytest

from fms import FmsError, coach_scores


def write_text(path, text, encoding='utf-8'):
    path.write_text(text, encoding=encoding)
    return str(path)


def test_coach_csv_any_order_bom_whitespace_extra_columns(tmp_path):
    path = write_text(tmp_path / 'coach.csv',
                      '\ufeffScore, note ,Test,subject,side\n'
                      ' 2 ,ok, deep_squat ,S1,\n'
                      '\n'
                      '3,,Hurdle_Step,S1, LEFT \n',
                      encoding='utf-8')
    scores = coach_scores.load_coach_csv(path)
    assert scores == {('S1', 'deep_squat', None): 2,
                      ('S1', 'hurdle_step', 'left'): 3}


@pytest.mark.parametrize('text, expected', [
    ('subject,test,side\nS1,deep_squat,\n',
     r'coach\.csv, line 1: missing column score'),
    ('subject,test,side,score\nS1,deep_squat,,4\n',
     r"coach\.csv, line 2, column score: score '4' is not an integer 0-3"),
    ('subject,test,side,score\nS1,deep_squat,,2\nS1,squat,,2\n',
     r"coach\.csv, line 3, column test: unknown test 'squat': use one of "
     r"deep_squat, hurdle_step"),
    ('subject,test,side,score\nS1,hurdle_step,,2\n',
     r'coach\.csv, line 2, column side: hurdle_step is scored per side: '
     r'give left or right'),
    ('subject,test,side,score\nS1,deep_squat,left,2\n',
     r'line 2, column side: deep_squat is not scored per side'),
    ('subject,test,side,score\nS1,aslr,left,2\nS1,aslr,left,3\n',
     r'coach\.csv, line 3: S1 aslr \(left\) is scored twice \(also on '
     r'line 2\)'),
    ('subject,test,side,score\n,aslr,left,2\n',
     r'line 2, column subject: the subject is empty'),
    ('subject,test,side,score\nS1,aslr,left,two\n',
     r"line 2, column score: score 'two'"),
    ('', r'coach\.csv is empty'),
    ('subject,test,side,score\n', r'coach\.csv has a header but no scores'),
])
def test_coach_csv_errors(tmp_path, text, expected):
    path = write_text(tmp_path / 'coach.csv', text)
    with pytest.raises(FmsError, match=expected):
        coach_scores.load_coach_csv(path)


def test_coach_csv_missing_file(tmp_path):
    with pytest.raises(FmsError, match='no such file'):
        coach_scores.load_coach_csv(str(tmp_path / 'absent.csv'))
