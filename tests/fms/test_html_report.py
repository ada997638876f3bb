"""The HTML reports of a session (fms/html_report.py), without a browser:
rendering from a fake session document, escaping, self-containment,
provisional scores, coach columns, and atomic all-or-nothing writing."""
import base64
import html
import os
import re

import pytest
from markupsafe import escape

from fms import FmsError
from fms.html_report import (render_athlete, render_index, score_text,
                             total_text, write_html_reports)
from tests.fixtures.session_document import (HOSTILE_NAME, image_paths,
                                             make_session)


@pytest.fixture(scope='module')
def session_dir(tmp_path_factory):
    """A session folder with the fake document's images (with coach)."""
    folder = str(tmp_path_factory.mktemp('session'))
    return folder, make_session(folder)


def athlete(document, name):
    return next(a for a in document['athletes'] if a['athlete'] == name)


def attribute(page, element_id, name):
    """The attribute ``name`` of the element with ``id``."""
    match = re.search(rf'<[^>]*\bid="{element_id}"[^>]*>', page)
    assert match, element_id
    value = re.search(rf'\b{name}="([^"]*)"', match.group(0))
    return html.unescape(value.group(1))


def test_wording_helpers():
    assert score_text(2, [2]) == '2'
    assert score_text(None, [2, 3]) == '2 or 3'
    assert score_text(None, []) == '\u2014'
    assert total_text({'total': None, 'total_range': [13, 16]}) == '13\u201316'
    assert total_text({'total': 15, 'total_range': [15, 15]}) == '15'


def test_athlete_page_shows_total_risk_and_every_test(session_dir):
    folder, document = session_dir
    anna = athlete(document, 'anna')
    page = render_athlete(document, anna, folder)
    assert attribute(page, 'total', 'data-total') == '15'
    assert attribute(page, 'risk', 'data-risk') == 'false'
    assert '<title>FMS screening: anna</title>' in page
    for test in anna['tests']:
        assert f'data-test="{test["test"]}" data-score="{test["score"]}"' \
            in page
    assert 'Active straight-leg raise: left 3, right 2' in page
    assert 'spinal extension (press-up) clearing test: not recorded' in page
    assert 'assumed no pain' in page
    assert 'femur below horizontal' in page and '8 deg' in page
    assert '&gt;= 0 deg' in page and 'PASS' in page and 'FAIL' in page
    assert 'chosen' in page


def test_raised_risk_page(session_dir):
    folder, document = session_dir
    page = render_athlete(document, athlete(document, HOSTILE_NAME), folder)
    assert attribute(page, 'risk', 'data-risk') == 'true'
    assert 'raised injury risk' in page


def test_provisional_rendering(session_dir):
    folder, document = session_dir
    bob = athlete(document, 'bob')
    page = render_athlete(document, bob, folder)
    assert attribute(page, 'total', 'data-total') == ''
    assert attribute(page, 'total', 'data-low') == '11'
    assert attribute(page, 'total', 'data-high') == '15'
    assert '11\u201315' in page and 'provisional' in page
    assert attribute(page, 'risk', 'data-risk') == 'undecided'
    assert 'provisional: 2 or 3' in page
    assert 'film the front view for: knees over feet' in page
    assert 'not judged' in page
    assert 'data-test="rotary_stability" data-score=""' in page
    assert 'Not filmed' in page
    index = render_index(document, folder)
    assert '>2 or 3<' in index and '11\u201315' in index
    assert 'data-risk="undecided"' in index


def test_everything_is_escaped(session_dir):
    folder, document = session_dir
    hostile = athlete(document, HOSTILE_NAME)
    for page in (render_athlete(document, hostile, folder),
                 render_index(document, folder)):
        assert '<script' not in page.lower()
        assert str(escape(HOSTILE_NAME)) in page
        assert '<b>markup</b>' not in page


def test_pages_are_self_contained(session_dir):
    folder, document = session_dir
    pages = [render_athlete(document, a, folder)
             for a in document['athletes']] + [render_index(document, folder)]
    for page in pages:
        assert 'http://' not in page and 'https://' not in page
        assert '<link' not in page and '@import' not in page
        assert 'url(' not in page
        for source in re.findall(r'\bsrc="([^"]*)"', page):
            assert source.startswith('data:image/png;base64,')
        for link in re.findall(r'\bhref="([^"]*)"', page):
            assert re.fullmatch(r'[\w.-]+\.html', link), link


def test_images_embedded(session_dir):
    folder, document = session_dir
    anna = athlete(document, 'anna')
    page = render_athlete(document, anna, folder)
    sources = re.findall(r'<img src="data:image/png;base64,([^"]+)"', page)
    wanted = {p for p in image_paths({'athletes': [anna]})}
    assert len(sources) == len(wanted)
    for relative in wanted:
        with open(os.path.join(folder, relative), 'rb') as stream:
            assert base64.b64encode(stream.read()).decode() in sources
    assert len(re.findall(r'<img [^>]*alt="[^"]+key frame', page)) > 0
    assert len(re.findall(r'<img [^>]*alt="[^"]+joint angles', page)) > 0


def test_coach_columns_only_with_coach_data(tmp_path):
    with_coach = make_session(str(tmp_path / 'a'), coach=True)
    without = make_session(str(tmp_path / 'b'), coach=False)
    folder = str(tmp_path / 'a')
    index = render_index(with_coach, folder)
    assert 'Coach total' in index and 'Agreement with the coach' in index
    page = render_athlete(with_coach, athlete(with_coach, 'anna'), folder)
    assert 'id="coach-total" data-coach-total="16"' in page
    assert 'data-coach="3"' in page and 'id="agreement"' in page
    folder = str(tmp_path / 'b')
    pages = [render_index(without, folder)] + [
        render_athlete(without, a, folder) for a in without['athletes']]
    for page in pages:
        assert 'coach' not in page.lower().replace(
            "a coach's judgement decides", '')
        assert 'id="agreement"' not in page


def test_write_html_reports(tmp_path):
    folder = str(tmp_path)
    document = make_session(folder)
    paths = write_html_reports(document, folder)
    assert paths == [os.path.join(folder, name) for name in
                     ('anna.html', 'bob.html', 'mallory.html', 'index.html')]
    for path in paths:
        with open(path, encoding='utf-8') as stream:
            assert stream.read().startswith('<!DOCTYPE html>')
    assert not [n for n in os.listdir(folder) if n.startswith('.')]


def test_missing_image_writes_nothing(tmp_path):
    folder = str(tmp_path)
    document = make_session(folder)
    missing = image_paths(document)[-1]        # the last athlete's last image
    os.remove(os.path.join(folder, missing))
    with pytest.raises(FmsError) as caught:
        write_html_reports(document, folder)
    message = str(caught.value)
    assert '\n' not in message and missing in message
    assert not [n for n in os.listdir(folder) if n.endswith('.html')
                or n.startswith('.')]


def test_not_a_png_and_outside_paths_refused(tmp_path):
    folder = str(tmp_path)
    document = make_session(folder)
    first = image_paths(document)[0]
    with open(os.path.join(folder, first), 'wb') as stream:
        stream.write(b'GIF89a not a png')
    with pytest.raises(FmsError, match='not a PNG'):
        write_html_reports(document, folder)
    document = make_session(folder)
    view = document['athletes'][0]['tests'][0]['sides'][0]['views'][0]
    view['plot'] = '../elsewhere.png'
    with pytest.raises(FmsError, match='outside'):
        write_html_reports(document, folder)
    document = make_session(folder)
    document['athletes'][1]['page'] = 'index.html'
    with pytest.raises(FmsError, match='session index'):
        write_html_reports(document, folder)
    assert not [n for n in os.listdir(folder) if n.endswith('.html')]
