"""A video batch spread over a Ray cluster: :class:`RayRunner`.

:func:`pose.batch.run_batch` drives every batch (manifest, resume, skips and
redos, progress, Ctrl-C, exit status); this runner only processes the jobs
it is given and yields each :class:`pose.batch.VideoOutcome` as it finishes.

Workers: one Ray actor (:class:`VideoWorker`) per GPU (``num_gpus=1``; Ray
sets ``CUDA_VISIBLE_DEVICES``, so inside the actor its GPU is device 0) when
the options ask for a GPU, else one per CPU (``num_cpus=1``, BLAS and
OpenCV limited to one thread so that the workers of a machine do not
oversubscribe its cores).  Each loads the networks once and processes one
video at a time with :func:`pose.batch.process_job`; the runner keeps every
worker busy and waits on all of them at once (``ray.wait``).

Faults: a worker whose process dies (killed, out of memory, its node lost)
is restarted by Ray and reloads its networks; the video it had in hand is
redone from the start by whichever worker is free first, up to ``retries``
times, after the killed try's hidden temporaries are deleted.  Outputs are
renamed into place only when complete, so a redo never duplicates
anything.  A video whose worker died more often than that fails with one
line, and the batch goes on.

A real cluster: start the head (``ray start --head``) and the workers
(``ray start --address HEAD:6379``), install this project on every node
(``pip install .``, or the same checkout at the same path: the workers get
this checkout's folder on their ``PYTHONPATH``) with the weights at the
same path, and put the videos and ``--out-dir`` on storage every node sees
(NFS, a shared disk): the workers write the outputs to their final paths;
only the driver writes the manifest.
"""
from __future__ import annotations

import collections
import dataclasses
import logging
import os
import re
import socket
import threading
import time
from typing import (Callable, Deque, Dict, Iterator, List, Optional,
                    Sequence, Tuple)

from common.errors import ToolError
from pose.batch import (FAILED, STOPPED, VideoJob, VideoOutcome, process_job,
                        remove_temporaries)
from pose.options import Detectors, DetectorOptions, load_detectors

#: The project's root folder, put on the workers' ``PYTHONPATH`` so that
#: they import this checkout (on a cluster: the same path on every node, or
#: the project installed there).
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: The requirements file that installs Ray.
REQUIREMENTS = 'requirements-ray.txt'
#: ``address`` that starts a Ray instance on this machine.
LOCAL = 'local'
#: ``address`` that connects to the cluster this machine belongs to.
AUTO = 'auto'

#: How often a video is redone after the worker processing it died.  Two
#: redos outlast a worker killed once by chance (a node lost, an OOM kill
#: caused by a neighbour), while a video that kills its worker every time
#: costs at most three tries before it fails and the batch goes on.
DEFAULT_RETRIES = 2
#: Ray's ``max_restarts``: Ray restarts a worker whose process died, up to
#: this many times over the batch, and it reloads its networks.  Bounded so
#: that a worker that cannot live (its node keeps running out of memory) is
#: given up in the end and the other workers finish the batch.
WORKER_RESTARTS = 16
#: Ray's ``max_task_retries``: Ray never redoes a video by itself (its
#: retry would be invisible here); the runner redoes it, so that it deletes
#: the killed try's hidden temporaries first and counts the attempts.
TASK_RETRIES = 0
#: ``max_task_retries`` of the call that waits for a worker to be up
#: (started or restarted): as often as Ray restarts it (-1: until it is up
#: or dead for good).
READY_RETRIES = -1
#: A worker not up this long after it was started or died (no node with a
#: free CPU or GPU for it, or its networks take that long to load) is given
#: up.
START_TIMEOUT_SECONDS = 600.0
#: How long ``ray.wait`` blocks before the runner looks at its stop event
#: and at the workers still starting.
POLL_SECONDS = 0.25
#: How long :meth:`RayRunner.close` lets the videos in hand stop after
#: their frames in hand (one network pass; their outputs are then deleted)
#: before it kills the workers.
HALT_WAIT_SECONDS = 10.0
#: How long :meth:`RayRunner.close` waits for killed workers to be gone
#: before deleting the hidden temporaries of their videos.
KILL_WAIT_SECONDS = 10.0
#: How long the address of a cluster's head must answer a TCP connection
#: (Ray itself retries for minutes).
CONNECT_TIMEOUT_SECONDS = 10.0
#: Threads of BLAS and OpenCV in a CPU worker (one worker per core).
CPU_WORKER_THREADS = 1
#: Longest worker failure detail kept in a reason line.
DETAIL_CHARACTERS = 160


class RayBatchError(ToolError):
    """Ray missing, a cluster that cannot be reached or is too small,
    workers that cannot load the networks."""


# ---------------------------------------------------------------------------
# The worker (a Ray actor)
# ---------------------------------------------------------------------------

class VideoWorker:
    """A Ray actor: the networks loaded once, one video at a time.

    Methods run in a pool of two threads (``max_concurrency=2``) so that
    :meth:`halt` reaches a worker busy in :meth:`process`.
    """

    def __init__(self, options: DetectorOptions,
                 make_detectors: Callable[[DetectorOptions], Detectors]):
        self.halted = threading.Event()
        self.limits = None if options.device >= 0 else _limit_threads()
        import ray
        self.label = f'{ray.util.get_node_ip_address()} pid {os.getpid()}'
        started = time.perf_counter()
        self.detectors: Optional[Detectors] = None
        self.problem: Optional[str] = None
        try:
            self.detectors = make_detectors(_on_worker_device(options))
        except Exception as error:    # said once, by the runner
            self.problem = _one_line(error)
        self.load_seconds = time.perf_counter() - started

    def ready(self) -> Tuple[str, float, Optional[str]]:
        """``(label, seconds the networks took to load, why they could not
        be loaded or None)``."""
        return self.label, self.load_seconds, self.problem

    def pid(self) -> int:
        """The worker's process id."""
        return os.getpid()

    def process(self, job: VideoJob) -> VideoOutcome:
        """``job`` through :func:`pose.batch.process_job`, ``worker``
        filled in."""
        job = dataclasses.replace(job,
                                  options=_on_worker_device(job.options))
        outcome = process_job(job, self.detectors, None, self.halted)
        outcome.worker = self.label
        return outcome

    def halt(self) -> None:
        """Stop the video in hand after its frames in hand (it is reported
        stopped, its outputs deleted)."""
        self.halted.set()


def _on_worker_device(options):
    """``options`` with the GPU renumbered 0: the one GPU Ray shows the
    worker (through ``CUDA_VISIBLE_DEVICES``)."""
    return (dataclasses.replace(options, device=0) if options.device >= 0
            else options)


def _limit_threads():
    """One BLAS and OpenCV thread in this process; returns threadpoolctl's
    limiter (kept alive by the worker)."""
    import cv2
    from threadpoolctl import threadpool_limits
    cv2.setNumThreads(CPU_WORKER_THREADS)
    return threadpool_limits(limits=CPU_WORKER_THREADS)


def _one_line(error: BaseException) -> str:
    text = str(error).strip()
    if isinstance(error, ToolError) and text:
        return text.splitlines()[0]
    first = text.splitlines()[0] if text else ''
    return f'{type(error).__name__}: {first}'.rstrip(': ')


# ---------------------------------------------------------------------------
# Connecting
# ---------------------------------------------------------------------------

def _import_ray():
    try:
        import ray
    except ImportError:
        raise RayBatchError(f'--ray needs Ray: pip install -r {REQUIREMENTS}'
                            ) from None
    return ray


def _connect(ray, address: str) -> bool:
    """Start or join Ray (nothing when this process already did);
    returns whether this call did, so :meth:`RayRunner.close` undoes it."""
    if ray.is_initialized():
        return False
    quiet = dict(log_to_driver=False, logging_level=logging.ERROR)
    try:
        if address == LOCAL:
            ray.init(num_cpus=os.cpu_count(), include_dashboard=False,
                     **quiet)
        else:
            _check_reachable(address)
            ray.init(address=address, **quiet)
    except (ConnectionError, RuntimeError, ValueError, TimeoutError) as error:
        detail = _one_line(error)[:DETAIL_CHARACTERS]
        if address == LOCAL:
            raise RayBatchError(
                f'--ray local: cannot start Ray on this machine ({detail}); '
                f'check the free memory and space in /tmp') from None
        raise RayBatchError(
            f'--ray {address}: cannot connect to a Ray cluster ({detail}); '
            f'check that its head node runs (ray start --head; ray status) '
            f'and that this machine reaches that address') from None
    return True


def _check_reachable(address: str) -> None:
    """ConnectionError unless ``HOST:PORT`` (``ray://`` or not) accepts a
    TCP connection within :data:`CONNECT_TIMEOUT_SECONDS`."""
    match = re.fullmatch(r'(?:ray://)?\[?([^\]]+?)\]?:(\d+)', address)
    if address == AUTO or match is None:
        return
    try:
        socket.create_connection((match.group(1), int(match.group(2))),
                                 CONNECT_TIMEOUT_SECONDS).close()
    except OSError as error:
        raise ConnectionError(f'{address} does not answer: '
                              f'{error.strerror or error}') from None


def _worker_count(ray, address: str, gpu: bool,
                  workers: Optional[int]) -> int:
    """``workers``, or one per GPU / CPU of the cluster; RayBatchError when
    the cluster has fewer (extra workers would wait forever)."""
    kind = 'GPU' if gpu else 'CPU'
    have = int(ray.cluster_resources().get(kind, 0))
    wanted = have if workers is None else workers
    if wanted < 1 or wanted > have:
        raise RayBatchError(
            f'--ray {address}: {wanted} worker(s) asked for, but the cluster '
            f'has {have} {kind}(s); add nodes with a free {kind} or ask for '
            f'fewer workers')
    return wanted


# ---------------------------------------------------------------------------
# The runner
# ---------------------------------------------------------------------------

@dataclasses.dataclass
class _Worker:
    """The runner's view of one actor."""
    handle: object
    label: str = 'starting'
    job: Optional[VideoJob] = None          # the video in hand
    since: float = 0.0                      # when it started / died
    up: bool = False


class RayRunner:
    """Processes a batch's jobs on a Ray cluster (a :class:`pose.batch.
    Runner`).

    Attributes:
        load_seconds: worker label -> seconds its networks took to load
            (each restart is a new label: a new process).
        deaths: times a worker died with a video in hand.
    """

    def __init__(self, address: str, options: DetectorOptions,
                 workers: Optional[int] = None,
                 make_detectors: Callable[[DetectorOptions], Detectors]
                 = load_detectors,
                 retries: int = DEFAULT_RETRIES,
                 stop: Optional[threading.Event] = None):
        """
        Args:
            address: :data:`LOCAL` (start Ray on this machine), :data:`AUTO`
                (the cluster this machine belongs to), or a head's address
                (``HOST:6379``, ``ray://HOST:10001``).  When this process
                already runs Ray, that instance is used.
            options: the networks to load (a GPU when ``device >= 0``).
            workers: how many; None: one per GPU (or CPU) of the cluster.
            make_detectors: loads the networks in each worker (a picklable
                module-level function).
            retries: redos of a video whose worker died.
            stop: when set, the videos in hand stop after their frames in
                hand and no other starts.

        Raises:
            RayBatchError: Ray missing, the cluster unreachable or smaller
                than ``workers``.
        """
        self._ray = _import_ray()
        self.options, self.retries = options, retries
        self.stop = stop
        self.load_seconds: Dict[str, float] = {}
        self.deaths = 0
        self._last_loss = 'unknown'
        self._flight: Dict[object, Tuple[_Worker, Optional[VideoJob]]] = {}
        self._workers: List[_Worker] = []
        self._started = _connect(self._ray, address)
        try:
            count = _worker_count(self._ray, address, options.device >= 0,
                                  workers)
            actor = self._actor_class(options.device >= 0)
            for _ in range(count):
                worker = _Worker(actor.remote(options, make_detectors))
                self._workers.append(worker)
                self._await_up(worker)
        except BaseException:
            self.close()
            raise

    def _actor_class(self, gpu: bool):
        resources = dict(num_gpus=1) if gpu else dict(num_cpus=1)
        return self._ray.remote(VideoWorker).options(
            max_restarts=WORKER_RESTARTS, max_task_retries=TASK_RETRIES,
            max_concurrency=2,
            runtime_env={'env_vars': {'PYTHONPATH': ROOT}}, **resources)

    # -- the loop ------------------------------------------------------------

    def run(self, jobs: Sequence[VideoJob]) -> Iterator[VideoOutcome]:
        """Process ``jobs`` on the workers, yielding each outcome as it
        finishes (in any order).

        Raises:
            RayBatchError: the workers cannot load the networks.
        """
        queue: Deque[VideoJob] = collections.deque(jobs)
        died: Dict[str, int] = collections.Counter()
        halted = False
        while queue or self._busy():
            if self._stopping() and not halted:
                halted = self._halt(queue)
            self._dispatch(queue)
            if not self._flight:
                yield from self._without_workers(queue)
                return
            ready, _ = self._ray.wait(list(self._flight), num_returns=1,
                                      timeout=POLL_SECONDS)
            for ref in ready:
                outcome = self._settle(ref, queue, died)
                if outcome is not None:
                    yield outcome
            self._give_up_slow_starters()

    def _busy(self) -> bool:
        return any(job is not None for _, job in self._flight.values())

    def _stopping(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def _dispatch(self, queue: Deque[VideoJob]) -> None:
        """Give each free worker the next video."""
        for worker in self._workers:
            if not queue or self._stopping():
                return
            if worker.up and worker.job is None:
                worker.job = queue.popleft()
                ref = worker.handle.process.remote(worker.job)
                self._flight[ref] = (worker, worker.job)

    def _halt(self, queue: Deque[VideoJob]) -> bool:
        """The stop event is set: no other video starts; the busy workers
        stop theirs after the frames in hand."""
        queue.clear()
        for worker in self._workers:
            if worker.job is not None:
                worker.handle.halt.remote()
        return True

    def _await_up(self, worker: _Worker) -> None:
        """Wait (in the loop) for ``worker`` to be up: started, or
        restarted by Ray after its process died."""
        worker.up, worker.job, worker.since = False, None, time.monotonic()
        ref = worker.handle.ready.options(
            max_task_retries=READY_RETRIES).remote()
        self._flight[ref] = (worker, None)

    def _settle(self, ref, queue: Deque[VideoJob], died: Dict[str, int]
                ) -> Optional[VideoOutcome]:
        """The result of a finished call: an outcome to report, or None."""
        worker, job = self._flight.pop(ref)
        try:
            value = self._ray.get(ref)
        except self._worker_failures() as error:
            if job is None:
                self._lose(worker, error)
                return None
            return self._after_death(worker, job, error, queue, died)
        except self._ray.exceptions.RayTaskError as error:
            if job is None:
                self._lose(worker, error)
                return None
            worker.job = None
            return self._failed(job, worker, _one_line(error.cause or error),
                                died)
        if job is None:
            self._on_up(worker, value)
            return None
        worker.job = None
        value.attempts = died[job.name] + 1
        return value

    def _on_up(self, worker: _Worker, value) -> None:
        label, seconds, problem = value
        if problem:
            raise RayBatchError(f'a Ray worker ({label}) cannot load the '
                                f'networks: {problem}')
        worker.label, worker.up = label, True
        self.load_seconds[label] = seconds

    def _after_death(self, worker: _Worker, job: VideoJob, error,
                     queue: Deque[VideoJob], died: Dict[str, int]
                     ) -> Optional[VideoOutcome]:
        """``worker`` died with ``job`` in hand: delete the try's
        temporaries, wait for the worker to come back, redo or fail the
        video."""
        self.deaths += 1
        died[job.name] += 1
        remove_temporaries(job)
        self._await_up(worker)
        if self._stopping():
            return VideoOutcome(job.name, job.video, STOPPED,
                                reason='its worker died as the batch '
                                       'stopped; the next run redoes it',
                                worker=worker.label, attempts=died[job.name])
        if died[job.name] > self.retries:
            return self._failed(
                job, worker, f'the worker processing it died '
                f'{died[job.name]} times: {_death_detail(error)}', died)
        queue.appendleft(job)
        return None

    def _failed(self, job: VideoJob, worker: _Worker, reason: str,
                died: Dict[str, int]) -> VideoOutcome:
        return VideoOutcome(job.name, job.video, FAILED, reason=reason,
                            worker=worker.label,
                            attempts=max(died[job.name], 1))

    def _lose(self, worker: _Worker, error) -> None:
        """``worker`` will not come back (Ray's restarts are spent, or it
        could not be created): the others go on."""
        try:
            self._ray.kill(worker.handle, no_restart=True)
        except Exception:                 # already gone
            pass
        self._workers.remove(worker)
        self._last_loss = _death_detail(error)

    def _give_up_slow_starters(self) -> None:
        now = time.monotonic()
        for ref, (worker, job) in list(self._flight.items()):
            if job is None and now - worker.since > START_TIMEOUT_SECONDS:
                del self._flight[ref]
                self._lose(worker, TimeoutError(
                    f'not up {START_TIMEOUT_SECONDS:.0f} s after it was '
                    f'started: no node with a free CPU/GPU for it?'))

    def _without_workers(self, queue: Deque[VideoJob]
                         ) -> Iterator[VideoOutcome]:
        """Every worker was given up: the videos left fail."""
        reason = (f'no Ray worker left to process it (the last one lost: '
                  f'{self._last_loss}); check the '
                  f'cluster (ray status) and run the batch again')
        while queue:
            job = queue.popleft()
            yield VideoOutcome(job.name, job.video, FAILED, reason=reason,
                               attempts=0)

    def _worker_failures(self) -> tuple:
        """Ray's exceptions for a worker process or node that died."""
        names = ('RayActorError', 'WorkerCrashedError', 'NodeDiedError',
                 'OutOfMemoryError', 'ObjectLostError')
        exceptions = self._ray.exceptions
        return tuple(getattr(exceptions, name) for name in names
                     if hasattr(exceptions, name))

    # -- the end ---------------------------------------------------------------

    def close(self) -> None:
        """Stop the videos in hand (after their frames in hand, their
        outputs deleted), kill the workers (deleting the hidden temporaries
        of a video still in hand) and leave Ray if this runner joined or
        started it.  The videos in hand are not reported: the next run
        redoes them."""
        ray = self._ray
        busy = [ref for ref, (_, job) in self._flight.items() if job]
        if busy:
            self._halt(collections.deque())
            ray.wait(busy, num_returns=len(busy), timeout=HALT_WAIT_SECONDS)
        for worker in self._workers:
            try:
                ray.kill(worker.handle, no_restart=True)
            except Exception:             # already gone
                pass
        if busy:
            ray.wait(busy, num_returns=len(busy), timeout=KILL_WAIT_SECONDS)
        for ref in busy:
            remove_temporaries(self._flight[ref][1])
        self._flight.clear()
        self._workers = []
        if self._started:
            self._started = False
            ray.shutdown()


def _death_detail(error: BaseException) -> str:
    """One line on why a worker died, from Ray's many-line message."""
    text = ' '.join(str(error).split())
    match = re.search(r'Worker exit detail: (.*?\.)(?: |$)', text)
    detail = match.group(1) if match else text
    if len(detail) > DETAIL_CHARACTERS:
        detail = detail[:DETAIL_CHARACTERS - 3] + '...'
    return f'{type(error).__name__}: {detail}'


def ray_runner(address: str, options: DetectorOptions,
               workers: Optional[int] = None,
               stop: Optional[threading.Event] = None) -> RayRunner:
    """The runner of ``video_pose_detector.py --ray ADDRESS`` (see
    :class:`RayRunner`)."""
    return RayRunner(address, options, workers, stop=stop)


__all__ = ['RayRunner', 'RayBatchError', 'VideoWorker', 'ray_runner',
           'DEFAULT_RETRIES', 'LOCAL', 'AUTO']
