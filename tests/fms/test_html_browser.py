"""The HTML reports of a session in a real browser (Debian's Chromium driven
by Playwright, tests/fixtures/browser.py): each page opened from file://
shows no console or page error, every image decodes, the total and risk
flag shown are the session document's, and the index's links open the
athlete pages.  Skipped where Chromium or playwright is missing."""
import os

import pytest

from tests.fixtures import browser

_PROBLEM = browser.unavailable()
if _PROBLEM:
    pytest.skip(_PROBLEM, allow_module_level=True)

from fms.html_report import total_text, write_html_reports  # noqa: E402
from tests.fixtures.session_document import make_session  # noqa: E402


@pytest.fixture(scope='module')
def session(tmp_path_factory):
    """The fake session written as HTML: (folder, document)."""
    folder = str(tmp_path_factory.mktemp('html_session'))
    document = make_session(folder)
    write_html_reports(document, folder)
    return folder, document


@pytest.fixture(scope='module')
def page():
    """One browser page for the whole module, recording console errors and
    page errors in ``page.errors``."""
    with browser.browser_page() as opened:
        opened.errors = []
        opened.on('console', lambda message: opened.errors.append(
            f'console: {message.text}') if message.type == 'error' else None)
        opened.on('pageerror',
                  lambda error: opened.errors.append(f'page: {error}'))
        yield opened


def open_page(page, path):
    """Go to ``path`` by its file:// URL, with the error list emptied."""
    page.errors.clear()
    page.goto(browser.file_url(path), wait_until='load')


def check_images(page):
    """Every image of the open page decoded (natural width > 0)."""
    widths = page.evaluate(
        '[...document.images].map(i => i.complete ? i.naturalWidth : 0)')
    assert widths and all(width > 0 for width in widths), widths


def expected_risk(athlete):
    return {None: 'undecided', True: 'true', False: 'false'}[athlete['risk']]


def test_errors_are_caught(page):
    """The error listeners work (so that an empty list means no error)."""
    page.errors.clear()
    page.set_content('<p>x</p><script>console.error("boom")</script>')
    page.evaluate('setTimeout(() => { throw new Error("bang"); }, 0)')
    page.wait_for_timeout(50)
    assert any('boom' in e for e in page.errors)
    assert any('bang' in e for e in page.errors)


def test_athlete_pages(session, page):
    folder, document = session
    for athlete in document['athletes']:
        open_page(page, os.path.join(folder, athlete['page']))
        assert page.title() == f"FMS screening: {athlete['athlete']}"
        assert page.inner_text('#athlete') == athlete['athlete']
        check_images(page)
        total = page.locator('#total')
        wanted = '' if athlete['total'] is None else str(athlete['total'])
        assert total.get_attribute('data-total') == wanted
        assert total.inner_text() == total_text(athlete)
        risk = page.locator('#risk')
        assert risk.get_attribute('data-risk') == expected_risk(athlete)
        text = risk.inner_text()
        if athlete['risk'] is None:
            assert 'undecided' in text
        else:
            assert text.startswith('raised' if athlete['risk']
                                   else 'no raised risk'), text
        assert page.locator('section.test').count() == 7
        assert page.errors == []


def test_index_and_its_links(session, page):
    folder, document = session
    index = os.path.join(folder, 'index.html')
    open_page(page, index)
    assert page.title() == 'FMS screening session'
    assert page.errors == []
    rows = page.locator('#athletes tbody tr')
    assert rows.count() == len(document['athletes'])
    for number, athlete in enumerate(document['athletes']):
        row = rows.nth(number)
        assert row.locator('td[data-risk]').get_attribute('data-risk') \
            == expected_risk(athlete)
        assert row.locator('td[data-total]').inner_text() \
            == total_text(athlete)
    for athlete in document['athletes']:
        open_page(page, index)
        page.get_by_role('link', name=athlete['athlete'], exact=True).click()
        page.wait_for_load_state('load')
        assert page.url == browser.file_url(
            os.path.join(folder, athlete['page']))
        assert page.title() == f"FMS screening: {athlete['athlete']}"
        page.get_by_role('link', name='all athletes').click()
        page.wait_for_load_state('load')
        assert page.title() == 'FMS screening session'
        assert page.errors == []


def test_screenshot(session, page, tmp_path):
    folder, document = session
    picture = str(tmp_path / 'anna.png')
    browser.screenshot(os.path.join(folder, 'anna.html'), picture,
                       width=1100, height=1400, page=page)
    with open(picture, 'rb') as stream:
        assert stream.read(8) == b'\x89PNG\r\n\x1a\n'
