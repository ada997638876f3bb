"""Tests of fms.agreement_text: the printed agreement report."""
from fms import agreement, agreement_text, statistics, tables
from fms.protocol import TESTS
from tests.fms.scores import make_scores


def test_format_report_tables():
    auto, coach = make_scores()
    text = agreement_text.format_report(agreement.agreement_report(auto,
                                                                   coach))
    assert "coach has subject 'C'" in text
    assert 'B: total not compared: missing in the automatic results: aslr ' \
        '(right side)' in text
    lines = text.splitlines()
    header = lines.index(next(line for line in lines
                              if line.startswith('test ')))
    assert set(lines[header + 1]) == {'-', ' '}
    # columns aligned: every row of the table has the same width
    rows = lines[header:header + 2 + len(TESTS) + 1]
    assert rows[-1].startswith('overall')
    assert len({len(row) for row in rows}) == 1
    squat = next(line for line in lines if line.startswith('deep_squat '))
    assert squat.split()[1:3] == ['2', '0.00']
    assert tables.NOT_AVAILABLE not in squat


def test_format_report_prints_not_available_with_reason():
    # every trial scored 2 by both: kappa is undefined
    auto = {('S1', 'deep_squat', None): 2, ('S2', 'deep_squat', None): 2}
    text = agreement_text.format_report(agreement.agreement_report(
        auto, dict(auto)))
    overall = next(line for line in text.splitlines()
                   if line.startswith('overall '))
    assert overall.split() == ['overall', '2', '1.00',
                               tables.NOT_AVAILABLE]
    assert statistics.KAPPA_UNDEFINED_REASON in text
