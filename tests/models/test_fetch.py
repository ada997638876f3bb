"""Getting the original weights: addresses in order, resume, checks, offline.

A small HTTP server on the loopback address (with byte-range support, like
real hosts) serves a synthesized hand caffemodel in place of CMU's hosts.
"""
import dataclasses
import hashlib
import http.server
import os
import re
import socket
import threading

import pytest

import convert_model
from models import spec as specs
from models.fetch import DEFAULT_WEIGHTS_DIR, MODELS, default_weights
from models.synthetic import write_synthetic_caffemodel

NETWORK = 'handnet'
SOURCE = MODELS[NETWORK]


class RangeHandler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.files`` and honours ``Range: bytes=N-``."""

    def do_GET(self):
        self.server.requests.append((self.path, self.headers.get('Range')))
        data = self.server.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        match = re.fullmatch(r'bytes=(\d+)-', self.headers.get('Range', ''))
        start = int(match.group(1)) if match else 0
        self.send_response(206 if match else 200)
        self.send_header('Content-Length', str(len(data) - start))
        self.end_headers()
        self.wfile.write(data[start:])

    def log_message(self, *args):
        pass


@pytest.fixture(scope='module')
def caffemodel(tmp_path_factory):
    path = tmp_path_factory.mktemp('model') / SOURCE.filename
    write_synthetic_caffemodel(str(path), specs.HANDNET, seed=5)
    return path.read_bytes()


@pytest.fixture
def server(caffemodel):
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), RangeHandler)
    httpd.files, httpd.requests = {'/good': caffemodel}, []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    httpd.url = f'http://127.0.0.1:{httpd.server_address[1]}'
    yield httpd
    httpd.shutdown()


def closed_port_url():
    """An address where nothing listens: a download fails at once."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    return f'http://127.0.0.1:{port}/model'


def use_addresses(monkeypatch, *urls, sha1=None):
    monkeypatch.setitem(MODELS, NETWORK, dataclasses.replace(
        SOURCE, urls=urls, sha1=sha1))


def fetch(capsys, folder):
    code = convert_model.main(['fetch', NETWORK, '--dir', str(folder)])
    out, err = capsys.readouterr()
    return code, out, err.strip().splitlines()


def test_tries_addresses_in_order_then_converts(tmp_path, capsys, server,
                                                caffemodel, monkeypatch):
    use_addresses(monkeypatch, server.url + '/missing', server.url + '/good',
                  sha1=hashlib.sha1(caffemodel).hexdigest())
    code, out, errors = fetch(capsys, tmp_path)
    assert code == 0 and errors == []
    assert [path for path, _ in server.requests] == ['/missing', '/good']
    assert (tmp_path / SOURCE.filename).read_bytes() == caffemodel
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([
        SOURCE.filename, SOURCE.npz])
    assert 'converted 52 layers' in out


def test_resumes_a_partial_download(tmp_path, capsys, server, caffemodel,
                                    monkeypatch):
    use_addresses(monkeypatch, server.url + '/good')
    half = len(caffemodel) // 2
    (tmp_path / (SOURCE.filename + '.part')).write_bytes(caffemodel[:half])
    code, _, _ = fetch(capsys, tmp_path)
    assert code == 0
    assert server.requests == [('/good', f'bytes={half}-')]
    assert (tmp_path / SOURCE.filename).read_bytes() == caffemodel


@pytest.mark.parametrize('damage', ['checksum', 'size', 'truncated'])
def test_a_bad_download_is_discarded_never_converted(
        tmp_path, capsys, server, caffemodel, monkeypatch, damage):
    if damage == 'checksum':
        use_addresses(monkeypatch, server.url + '/good', sha1='0' * 40)
        words = 'SHA-1'
    elif damage == 'size':
        server.files['/short'] = caffemodel[:len(caffemodel) // 2]
        use_addresses(monkeypatch, server.url + '/short')
        words = 'bytes'
    else:       # the size is plausible, but the last layer is cut off
        server.files['/short'] = caffemodel[:-1000]
        use_addresses(monkeypatch, server.url + '/short')
        words = 'truncated'
    code, out, errors = fetch(capsys, tmp_path)
    assert code == 2 and len(errors) == 1 and words in errors[0]
    assert list(tmp_path.iterdir()) == [] and out == ''


def test_offline_says_what_to_download_and_where(tmp_path, capsys,
                                                 monkeypatch):
    use_addresses(monkeypatch, closed_port_url(), closed_port_url())
    code, _, errors = fetch(capsys, tmp_path)
    assert code == 2 and len(errors) == 1
    assert 'by hand' in errors[0]
    assert str(tmp_path / SOURCE.filename) in errors[0]
    assert list(tmp_path.iterdir()) == []


def test_a_file_already_there_is_checked_and_converted(tmp_path, capsys,
                                                       caffemodel,
                                                       monkeypatch):
    use_addresses(monkeypatch, closed_port_url())
    (tmp_path / SOURCE.filename).write_bytes(caffemodel)
    code, _, errors = fetch(capsys, tmp_path)
    assert code == 0 and errors == []
    assert (tmp_path / SOURCE.npz).exists()


# ---------------------------------------------------------------------------
# Default weights: one table
# ---------------------------------------------------------------------------


@pytest.mark.parametrize('network, npz', [
    ('posenet', 'coco_posenet.npz'), ('facenet', 'facenet.npz'),
    ('handnet', 'handnet.npz')])
def test_default_weights_come_from_the_table(network, npz):
    assert default_weights(network) == os.path.join('models', npz)
    assert default_weights(network) == os.path.join(DEFAULT_WEIGHTS_DIR,
                                                    MODELS[network].npz)


def test_default_weights_follow_a_changed_table(monkeypatch):
    use_npz = dataclasses.replace(SOURCE, npz='other.npz')
    monkeypatch.setitem(MODELS, NETWORK, use_npz)
    assert default_weights(NETWORK) == os.path.join(DEFAULT_WEIGHTS_DIR,
                                                    'other.npz')


def test_default_weights_of_an_unknown_network():
    with pytest.raises(KeyError):
        default_weights('bodynet')
