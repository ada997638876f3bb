"""The self-contained HTML reports of an FMS screening session.

Reads the session document (``DIR/session.json``, written by
``fms_analyzer.py session``) and writes one page per athlete
(``DIR/<athlete['page']>``) and the session's index (``DIR/index.html``).
Every image (key frames, angle plots) is embedded as a ``data:`` URI and the
style sheet is inline, so a page works offline, from ``file://``, mailed or
printed: it names no network address and loads nothing.

The templates are in ``fms/templates`` (Jinja2, autoescaped, strict about
undefined names); this module checks the document's images, turns values
into words (:func:`score_text`, :func:`total_text`, ...) and writes the
pages atomically (:mod:`common.files`), all pages checked and rendered
before the first one is written.
"""
from __future__ import annotations

import base64
import functools
import os
import posixpath
from typing import Dict, Iterator, List, Mapping, Optional, Sequence

import jinja2

from common.files import input_file_problem, outputs_problem, write_atomic
from fms import FmsError
from fms.labels import format_value, words

#: The folder of the page templates.
TEMPLATE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            'templates')

#: The session index page's file name, in the session folder.
INDEX_PAGE = 'index.html'

#: What a PNG file starts with.
PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'

#: Shown where there is no value (a missing test, a value not measured).
NONE_TEXT = '\u2014'


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The Jinja2 environment of the report templates: autoescaped HTML,
    undefined names an error, the wording helpers as filters."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=jinja2.select_autoescape(['html', 'j2']),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(words=words, score=score_text, percent=percent_text,
                       value=value_text, limit=limit_text,
                       verdict=verdict_text, pain=pain_text)
    env.globals.update(total_text=total_text, risk_value=risk_value,
                       risk_text=risk_text, NONE=NONE_TEXT)
    return env


# -- values in words -------------------------------------------------------

def score_text(score: Optional[int], possible: Sequence[int] = ()) -> str:
    """``2`` for a definite score, ``2 or 3`` for a provisional one, a dash
    for a missing one (no score possible)."""
    if score is not None:
        return str(score)
    if possible:
        return ' or '.join(str(p) for p in possible)
    return NONE_TEXT


def total_text(athlete: Mapping) -> str:
    """The athlete's total (``15``) or the range still possible
    (``13–16``)."""
    if athlete['total'] is not None:
        return str(athlete['total'])
    low, high = athlete['total_range']
    return str(low) if low == high else f'{low}\u2013{high}'


def risk_value(risk: Optional[bool]) -> str:
    """``true``, ``false`` or ``undecided``: the risk flag as the pages'
    ``data-risk`` attribute writes it."""
    return 'undecided' if risk is None else str(bool(risk)).lower()


def risk_text(risk: Optional[bool], risk_total: int) -> str:
    """The risk flag in words."""
    if risk is None:
        return f'risk undecided (total may be \u2264 {risk_total} or above)'
    if risk:
        return f'raised injury risk (total \u2264 {risk_total})'
    return f'no raised risk (total above {risk_total})'


def percent_text(fraction: Optional[float]) -> str:
    """``78%`` for 0.78, a dash for None."""
    return NONE_TEXT if fraction is None else f'{100 * fraction:.0f}%'


def value_text(criterion: Mapping) -> str:
    """A criterion's measured value with its unit, or a dash."""
    if criterion['value'] is None:
        return NONE_TEXT
    return format_value(criterion['value'], criterion['unit'] or '')


def limit_text(criterion: Mapping) -> str:
    """A criterion's limit, e.g. ``>= 0 deg``, or a dash."""
    if criterion['threshold'] is None:
        return NONE_TEXT
    return (f"{criterion['comparison']} "
            f"{format_value(criterion['threshold'], criterion['unit'] or '')}")


def verdict_text(passed: Optional[bool]) -> str:
    """``PASS``, ``FAIL`` or ``not judged``."""
    if passed is None:
        return 'not judged'
    return 'PASS' if passed else 'FAIL'


def pain_text(pain: Optional[bool]) -> str:
    """A clearing test's result in words."""
    if pain is None:
        return 'not recorded'
    return 'pain' if pain else 'no pain'


# -- images ----------------------------------------------------------------

def image_paths(athlete: Mapping) -> Iterator[str]:
    """The relative paths of every image the athlete's page shows."""
    for test in athlete['tests']:
        for side in test['sides']:
            for view in side['views']:
                for key in ('key_frame', 'plot'):
                    if view.get(key):
                        yield view[key]


def _document_path(out_dir: str, relative: str, what: str) -> str:
    """``relative`` (a path of the document) inside ``out_dir``; an
    absolute path or one leading out of the folder is an FmsError."""
    normal = posixpath.normpath(relative.replace(os.sep, '/'))
    if posixpath.isabs(normal) or normal.startswith('../') or normal == '..':
        raise FmsError(f'{relative}: the session document gives this {what} '
                       f'outside its folder {out_dir}; paths must be '
                       f'relative to it')
    return os.path.join(out_dir, *normal.split('/'))


def read_png(out_dir: str, relative: str) -> bytes:
    """The bytes of the PNG image ``relative`` to ``out_dir``; a missing,
    empty or non-PNG file is an FmsError naming it."""
    path = _document_path(out_dir, relative, 'image')
    problem = input_file_problem(path, 'image')
    if problem:
        raise FmsError(f'image of the session document: {problem}')
    try:
        with open(path, 'rb') as stream:
            data = stream.read()
    except OSError as error:
        raise FmsError(f'{path}: cannot read the image '
                       f'({error.strerror or error})') from None
    if not data.startswith(PNG_SIGNATURE):
        raise FmsError(f'{path}: not a PNG image; run the session again')
    return data


def data_uri(png: bytes) -> str:
    """The ``data:image/png;base64,...`` URI of PNG bytes."""
    return 'data:image/png;base64,' + base64.b64encode(png).decode('ascii')


def athlete_images(athlete: Mapping, out_dir: str) -> Dict[str, str]:
    """Each image path of the athlete's page -> its data URI."""
    return {path: data_uri(read_png(out_dir, path))
            for path in image_paths(athlete)}


# -- pages -----------------------------------------------------------------

def _relative_link(target: str, page: str) -> str:
    """The link from ``page`` to ``target`` (both relative to the session
    folder, with ``/``)."""
    start = posixpath.dirname(page) or '.'
    return posixpath.relpath(target, start)


def render_athlete(session: Mapping, athlete: Mapping, out_dir: str) -> str:
    """The HTML text of ``athlete``'s page (one entry of
    ``session['athletes']``), its images read from ``out_dir`` and
    embedded.

    Raises:
        FmsError: an image of the page is missing or not a PNG.
    """
    template = environment().get_template('athlete.html.j2')
    return template.render(
        session=session, athlete=athlete,
        images=athlete_images(athlete, out_dir),
        titles={t['test']: t['title'] for t in athlete['tests']},
        index_link=_relative_link(INDEX_PAGE, athlete['page']))


def has_coach(session: Mapping) -> bool:
    """Whether the session carries a coach's scores."""
    return session.get('agreement') is not None or any(
        a.get('coach_total') is not None or a.get('agreement') is not None
        for a in session['athletes'])


def score_columns(session: Mapping) -> List[Mapping]:
    """The index's test columns: ``{'test', 'title'}`` in screen order,
    from the first athlete (every athlete lists the same seven)."""
    athletes = session['athletes']
    if not athletes:
        return []
    return [{'test': t['test'], 'title': t['title']}
            for t in athletes[0]['tests']]


def render_index(session: Mapping, out_dir: str) -> str:
    """The HTML text of the session's index page: one row per athlete with
    each test's counted score, the total, the risk flag, the counts of
    asymmetries and provisional tests, the coach's total when there is one,
    and a link to the athlete's page.  ``out_dir`` is the session folder
    (the index embeds nothing from it)."""
    del out_dir  # the index shows no image
    template = environment().get_template('index.html.j2')
    return template.render(session=session, coach=has_coach(session),
                           columns=score_columns(session))


def page_path(out_dir: str, athlete: Mapping) -> str:
    """Where the athlete's page goes."""
    path = _document_path(out_dir, athlete['page'], 'page')
    if posixpath.normpath(athlete['page'].replace(os.sep, '/')) \
            == INDEX_PAGE:
        raise FmsError(f"{athlete['page']}: the page of athlete "
                       f"{athlete['athlete']!r} would replace the session "
                       f"index; give the athlete another page name")
    return path


def write_html_reports(session: Mapping, out_dir: str) -> List[str]:
    """Write every athlete's page and ``out_dir/index.html``, each
    atomically, and return their paths (athletes first, index last).

    Every image is read and every page rendered before the first file is
    written, so a missing image writes nothing.

    Raises:
        FmsError: an image is missing or unreadable, a page path is
            unusable (outside the folder, the index, given twice, not
            writable).
    """
    pages = {page_path(out_dir, a): render_athlete(session, a, out_dir)
             for a in session['athletes']}
    index = os.path.join(out_dir, INDEX_PAGE)
    pages[index] = render_index(session, out_dir)
    if len(pages) != len(session['athletes']) + 1:
        raise FmsError(f'{out_dir}: two athletes of the session document '
                       f'share a page name; give each its own')
    problem = outputs_problem(pages, create_folders=True)
    if problem:
        raise FmsError(problem)
    for path, text in pages.items():
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write_atomic(path, text.encode('utf-8'))
    return list(pages)
