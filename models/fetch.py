"""Download CMU's original OpenPose caffemodels, checked, and convert them.

One table (:data:`MODELS`) says, for each network, the file name, the
addresses to try in order, and how to check the file: the SHA-1 where one is
published (OpenCV's test-data downloader publishes the body model's), and
always a size consistent with the network's parameter count.  A download
resumes a partial ``.part`` file, and a file that fails its check is
discarded, never converted.

The same table names each network's converted weights: the commands'
default weights file is :func:`default_weights` (``models/<npz name>``).
"""
from __future__ import annotations

import dataclasses
import hashlib
import http.client
import os
import urllib.request
from typing import Optional, Tuple

from common.errors import ToolError
from common.files import commit_file
from models import spec as specs
from models.caffemodel import CaffeModelError, read_caffemodel
from models.convert import ConversionError, match_parameters

_CMU = 'http://posefs1.perception.cs.cmu.edu/OpenPose/models/'
_SNU = 'http://vcl.snu.ac.kr/OpenPose/models/'
#: Bytes a caffemodel holds beyond its float32 parameters (names, layer
#: settings, blob shapes): a few hundred KB for these networks.
_SIZE_SLACK = 2 * 2**20
_CHUNK = 1 << 20
_TIMEOUT_S = 30

#: Folder of the downloaded caffemodels and of the converted ``.npz``
#: weights, relative to the working directory (the repository's ``models``
#: folder when the commands run from its root).
DEFAULT_WEIGHTS_DIR = 'models'


@dataclasses.dataclass(frozen=True)
class ModelSource:
    network: str                 # 'posenet', 'facenet', 'handnet'
    filename: str                # CMU's file name
    urls: Tuple[str, ...]        # tried in order
    sha1: Optional[str] = None   # published checksum, where one exists
    npz: str = ''                # default converted file name

    @property
    def parameter_bytes(self) -> int:
        return 4 * sum(c.out_channels * (c.in_channels * c.ksize ** 2 + 1)
                       for c in specs.SPECS[self.network].convolutions())


MODELS = {
    'posenet': ModelSource(
        'posenet', 'pose_iter_440000.caffemodel',
        (_SNU + 'pose/coco/pose_iter_440000.caffemodel',
         'https://dl.opencv.org/models/openpose_pose_coco.caffemodel',
         _CMU + 'pose/coco/pose_iter_440000.caffemodel'),
        sha1='ac7e97da66f3ab8169af2e601384c144e23a95c1',
        npz='coco_posenet.npz'),
    'facenet': ModelSource(
        'facenet', 'pose_iter_116000.caffemodel',
        (_SNU + 'face/pose_iter_116000.caffemodel',
         _CMU + 'face/pose_iter_116000.caffemodel'),
        npz='facenet.npz'),
    'handnet': ModelSource(
        'handnet', 'pose_iter_102000.caffemodel',
        (_SNU + 'hand/pose_iter_102000.caffemodel',
         _CMU + 'hand/pose_iter_102000.caffemodel'),
        npz='handnet.npz'),
}


def default_weights(network: str) -> str:
    """The default converted weights file of ``network``.

    Args:
        network: ``'posenet'``, ``'facenet'`` or ``'handnet'``.

    Returns:
        ``<DEFAULT_WEIGHTS_DIR>/<npz name>``, e.g.
        ``default_weights('posenet') == 'models/coco_posenet.npz'``.

    Raises:
        KeyError: unknown network.
    """
    return os.path.join(DEFAULT_WEIGHTS_DIR, MODELS[network].npz)


class FetchError(ToolError):
    """No address gave a good file; the message says what to do by hand."""


def check_file(source: ModelSource, path: str) -> None:
    """Raise FetchError unless the file's size (and SHA-1, where published)
    are right and it parses as the network's caffemodel, every layer there
    with its shape (the only check possible for the face and hand models
    beyond their size)."""
    size = os.path.getsize(path)
    low, high = source.parameter_bytes, source.parameter_bytes + _SIZE_SLACK
    if not low <= size <= high:
        raise FetchError(f'{path} has {size:,} bytes; a {source.network} '
                         f'caffemodel has {low:,} to {high:,}')
    if source.sha1:
        digest = hashlib.sha1()
        with open(path, 'rb') as f:
            for block in iter(lambda: f.read(_CHUNK), b''):
                digest.update(block)
        if digest.hexdigest() != source.sha1:
            raise FetchError(f'{path}: SHA-1 {digest.hexdigest()} is not the '
                             f'published {source.sha1}')
    try:
        match_parameters(read_caffemodel(path), source.network)
    except (CaffeModelError, ConversionError) as error:
        raise FetchError(f'{path}: {error}') from None


def _download(url: str, part: str, progress: bool) -> None:
    """Download ``url`` into ``part``, resuming what is already there."""
    done = os.path.getsize(part) if os.path.exists(part) else 0
    request = urllib.request.Request(url, headers={'Range': f'bytes={done}-'})
    with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:
        if response.status != 206:          # server ignored the range
            done = 0
        total = response.headers.get('Content-Length')
        total = done + int(total) if total else None
        bar = None
        if progress:
            from tqdm import tqdm
            bar = tqdm(total=total, initial=done, unit='B', unit_scale=True,
                       desc=os.path.basename(url), disable=None)
        with open(part, 'ab' if done else 'wb') as f:
            for block in iter(lambda: response.read(_CHUNK), b''):
                f.write(block)
                if bar:
                    bar.update(len(block))
        if bar:
            bar.close()


def manual_instructions(source: ModelSource, folder: str) -> str:
    return (f'download {source.filename} by hand from one of: '
            f'{", ".join(source.urls)}; put it at '
            f'{os.path.join(folder, source.filename)} and run again')


def fetch(network: str, folder: str = DEFAULT_WEIGHTS_DIR,
          progress: bool = True) -> str:
    """The path of a checked caffemodel of ``network`` in ``folder``.

    Uses the file if it is already there and passes its check; otherwise
    tries each address in turn.

    Raises:
        FetchError: nothing passed; the message lists the addresses and
            where to put a file downloaded by hand.
    """
    source = MODELS[network]
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, source.filename)
    if os.path.exists(path):
        check_file(source, path)
        return path
    part = path + '.part'
    failures = []
    for url in source.urls:
        try:
            _download(url, part, progress)
            check_file(source, part)
        except (OSError, http.client.HTTPException, ValueError) as error:
            failures.append(f'{url}: {getattr(error, "reason", error)}')
            continue
        except FetchError as error:
            os.remove(part)                  # a bad file is never kept
            failures.append(str(error))
            continue
        commit_file(part, path)
        return path
    raise FetchError(f'could not download {source.filename} '
                     f'({"; ".join(failures)}). '
                     + manual_instructions(source, folder))
