"""Items → finished pieces, in program order, from worker processes and a content-addressed cache.

eSpeak is not thread-safe and both engines are CPU-bound, so work goes to processes, each of
which builds its engines once. A worker also finishes what it made (the `Finish` it is given:
master the clip and encode it as a piece of the output, pipeline.Finisher), so the main process
is left with writing bytes in order. At most a few clips per worker are in flight, and pieces
are yielded strictly in order as soon as they are ready, so memory stays bounded however long
the program is. A piece depends on its clip alone, so the cache holds pieces: a re-render after
editing one turn synthesizes, masters and encodes that turn and nothing else.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import struct
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

from . import engines
from .errors import EngineError
from .models import Clip, Item, Piece, Voice

CACHE_FORMAT = b"BPIECE1\x00"
AHEAD_PER_WORKER = 4
AHEAD_IN_PROCESS = 4  # clips synthesized ahead of the mix when there are no workers
FINISH_THREADS = 2  # threads mastering and encoding beside the in-process engine
SHUTDOWN_GRACE_S = 3.0  # a clip takes well under a second; a hung engine longer
CLIP_TIMEOUT_S = 300.0  # per clip, generous: a hung engine is stopped rather than waited on forever
CACHE_LIMIT_MB = 2048  # the default; BROADCAST_CACHE_MB sets another (a GB: 35 hours of MP3 pieces, 6 of WAV)
#: Folders of earlier cache formats beside ours, removed at the first prune (they are never read).
STALE_CACHES = ("clips-v1",)


class Finish(Protocol):
    """What becomes of a clip where it was made; sent to the workers, so it must pickle."""

    key: str  # everything about it that changes a piece (format, rate, mastering version)

    def __call__(self, clip: Clip, below_db: float = 0.0) -> Piece: ...

    def chime(self, kind: str) -> Piece: ...


def clip_key(voice: Voice, text: str, finish_key: str) -> str:
    """Everything that changes the piece: engine and its version, voice, settings, exact text,
    and how the clip is finished (output format, program rate, mastering)."""
    engine = engines.get(voice.engine)
    fields = {"engine": voice.engine, "version": engine.version, "base": voice.base, "pitch": voice.pitch,
              "formant": voice.formant, "tilt": voice.tilt, "rate": voice.rate_wpm, "volume": voice.volume,
              "text": text, "finish": finish_key}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode("utf-8")).hexdigest()


def chime_key(kind: str, finish_key: str) -> str:
    return hashlib.sha256(json.dumps({"chime": kind, "finish": finish_key}).encode("utf-8")).hexdigest()


class ClipCache:
    """Pieces on disk by key. An entry carries a digest of its contents: a torn or corrupt
    file is a miss (and is re-made), never played. Writes go to a temporary file, then `os.replace`.
    A hit refreshes the entry's time, and `prune` removes the least recently used entries once
    the cache is over its limit."""

    _HEAD = struct.Struct("<IIIdI")  # decoded samples, onset, length, true peak, gating blocks

    def __init__(self, root: Path, limit_bytes: int | None = None):
        self.root = root
        self.limit_bytes = limit_bytes if limit_bytes is not None else default_cache_limit()
        self.hits = self.misses = 0

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.piece"

    def has(self, key: str) -> bool:
        """An entry is there (whether it is whole is known only when it is read)."""
        return self._path(key).is_file()

    def get(self, key: str) -> Piece | None:
        piece = self._read(key)
        if piece is None:
            self.misses += 1
        else:
            self.hits += 1
            with contextlib.suppress(OSError):
                os.utime(self._path(key))  # recently used: the last to be pruned
        return piece

    def prune(self) -> int:
        """Remove the least recently used entries until the cache is within 90 % of its limit
        (so that the next render does not prune again at once); returns the bytes removed."""
        for stale in STALE_CACHES:
            shutil.rmtree(self.root.parent / stale, ignore_errors=True)
        entries = []
        for path in self.root.glob("??/*.piece"):
            with contextlib.suppress(OSError):
                stat = path.stat()
                entries.append((stat.st_mtime, stat.st_size, path))
        total = sum(size for _, size, _ in entries)
        if total <= self.limit_bytes:
            return 0
        removed = 0
        for _, size, path in sorted(entries):
            if total - removed <= self.limit_bytes * 0.9:
                break
            with contextlib.suppress(OSError):  # another render may have removed it already
                path.unlink()
                removed += size
        return removed

    def _read(self, key: str) -> Piece | None:
        import numpy as np

        try:
            data = self._path(key).read_bytes()
        except OSError:
            return None
        start = len(CACHE_FORMAT) + 32
        if len(data) < start + self._HEAD.size or not data.startswith(CACHE_FORMAT):
            return None
        digest, body = data[len(CACHE_FORMAT): start], data[start:]
        if hashlib.sha256(body).digest() != digest:
            return None
        samples, onset, length, peak, blocks = self._HEAD.unpack_from(body)
        at = self._HEAD.size + 8 * blocks
        if len(body) < at:
            return None
        return Piece(body[at:], samples, onset, length, peak, np.frombuffer(body, "<f8", blocks, self._HEAD.size).copy())

    def put(self, key: str, piece: Piece) -> None:
        import numpy as np

        body = b"".join([self._HEAD.pack(piece.samples, piece.onset, piece.length, piece.true_peak, len(piece.blocks)),
                         np.ascontiguousarray(piece.blocks, "<f8").tobytes(), piece.data])
        path = self._path(key)
        tmp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".piece")
            with os.fdopen(fd, "wb") as f:
                f.write(CACHE_FORMAT + hashlib.sha256(body).digest() + body)
            os.replace(tmp, path)
            tmp = None
        except OSError:
            pass  # a full or read-only cache must not fail the render: the piece is still played
        finally:  # also on Ctrl-C or SIGTERM in the middle of the write
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)


def default_cache_limit() -> int:
    from .errors import UsageError

    value = os.environ.get("BROADCAST_CACHE_MB", str(CACHE_LIMIT_MB))
    try:
        megabytes = float(value)
    except ValueError:
        raise UsageError(f"BROADCAST_CACHE_MB={value!r} is not a number of megabytes") from None
    return int(max(0.0, megabytes) * 2**20)


def default_cache_dir() -> Path:
    import platformdirs

    return Path(os.environ.get("BROADCAST_CACHE_DIR") or platformdirs.user_cache_dir("broadcast")) / "pieces-v1"


def _make(job: tuple, finish: Finish) -> Piece:
    """Run in a worker: the engine is built once per process."""
    return _finish(job, _speak(job), finish)


def _speak(job: tuple) -> Clip | None:
    """The engine's part of a job (None for a chime, which the finish makes)."""
    if job[0] == "chime":
        return None
    _, text, voice = job
    clip = engines.get(voice.engine).synthesize(text, voice)
    if clip.samples.size == 0:
        raise EngineError(f"engine {voice.engine!r} produced no audio for voice {voice.id!r}: {text[:40]!r}")
    return clip


def warm(voices: list[Voice]) -> None:
    """Have each voice's engine, in this process, say a word (on the engine lock, as renders do)."""
    with _engine_turn():
        for voice in voices:
            _speak(("speech", "Ready.", voice))


def _finish(job: tuple, clip: Clip | None, finish: Finish) -> Piece:
    return finish.chime(job[1]) if clip is None else finish(clip)


def keep_audio_memory() -> None:
    """Let this process keep the memory of freed audio arrays instead of handing it back to the
    system, to be faulted in again, page by page, for the next clip's (glibc's malloc; elsewhere
    nothing changes). Every clip allocates and frees a few arrays of megabytes; with glibc's
    defaults a 114-minute eSpeak render spent 1-3 s of system time in page faults when the
    machine was reclaiming memory, and 0.3 s with these settings, for a few MB more resident."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return
    mallopt(-3, 4 << 20)  # M_MMAP_THRESHOLD: arrays under 4 MB come from the heap, not fresh pages
    mallopt(-1, 16 << 20)  # M_TRIM_THRESHOLD: up to 16 MB freed at the heap's top stays with us


def _worker_init() -> None:
    import signal

    keep_audio_memory()

    # Ctrl-C is the parent's to handle; workers are shut down by it, never interrupted mid-write
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def clean(text: str) -> str:
    """Control characters out, whitespace folded: engines get plain, non-empty text."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def synthesize(items: tuple[Item, ...], finish: Finish, jobs: int = 1, cache: ClipCache | None = None,
               on_clip: Callable[[int], None] | None = None) -> Iterator[Piece | None]:
    """Yield one finished piece per item, in order: its speech or its chime, or None for an
    item with nothing to say."""
    work: list[tuple[int, tuple | None]] = []
    for i, item in enumerate(items):
        text = clean(item.spoken)
        if item.chime is not None:
            work.append((i, ("chime", item.chime)))
        elif item.voice is not None and text:
            work.append((i, ("speech", text, item.voice)))
        else:
            work.append((i, None))
    keys: dict[int, str] = {}
    if cache is not None:  # keys only for a cache: each hashes the item's whole text
        finish_key = finish.key
        for i, job in work:
            if job is not None:
                keys[i] = chime_key(job[1], finish_key) if job[0] == "chime" else clip_key(job[2], job[1], finish_key)

    def cached(i: int) -> Piece | None:
        return cache.get(keys[i]) if cache is not None and i in keys else None

    def store(i: int, piece: Piece) -> Piece:
        if cache is not None and i in keys:
            cache.put(keys[i], piece)
        return piece

    if cache is not None:  # workers only for what the cache lacks: one edited turn needs none
        jobs = min(jobs, sum(not cache.has(key) for key in keys.values()))
    if jobs <= 1 or not _workers_can_start():
        yield from _in_process(work, finish, cached, store, on_clip)
        return

    import concurrent.futures as cf
    import multiprocessing

    context = multiprocessing.get_context("forkserver" if os.name == "posix" else "spawn")
    pool = cf.ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_worker_init)
    pending: deque = deque()
    queue = iter(work)
    try:
        def refill() -> None:
            while len(pending) < jobs * AHEAD_PER_WORKER:
                nxt = next(queue, None)
                if nxt is None:
                    return
                i, job = nxt
                hit = None if job is None else cached(i)
                if job is None or hit is not None:
                    pending.append((i, hit))
                else:
                    pending.append((i, pool.submit(_make, job, finish)))

        refill()
        while pending:
            i, result = pending.popleft()
            if isinstance(result, cf.Future):
                try:
                    piece = store(i, _wait(result, CLIP_TIMEOUT_S))
                except cf.TimeoutError:
                    raise EngineError(f"the speech engine took longer than {CLIP_TIMEOUT_S:.0f} s on one clip "
                                      f"(item {i + 1}: {items[i].spoken[:40]!r}) and was stopped") from None
                except cf.process.BrokenProcessPool:
                    raise EngineError("a speech engine worker crashed (run with --jobs 1 to see which clip)") from None
            else:
                piece = result
            refill()
            yield piece
            if on_clip:
                on_clip(i)
    finally:
        for _, result in pending:
            if isinstance(result, cf.Future):
                result.cancel()
        _shutdown(pool)


def _in_process(work: list, finish: Finish, cached: Callable, store: Callable,
                on_clip: Callable[[int], None] | None) -> Iterator[Piece | None]:
    """Synthesis without workers: the engine on a thread of its own (eSpeak must stay on one),
    pieces finished by a pool of threads beside it (LAME, soxr and most of numpy release the GIL;
    finishing costs eSpeak's clips 2.5 times their synthesis), in order to the caller."""
    import concurrent.futures as cf

    def spoken() -> Iterator[tuple]:
        for i, job in work:
            piece = None if job is None else cached(i)
            if job is None or piece is not None:
                yield i, job, piece, None
            else:
                with _engine_turn():
                    clip = _speak(job)
                yield i, job, None, clip

    def finished(i: int, job: tuple, clip: Clip | None) -> Piece:
        return store(i, _finish(job, clip, finish))

    pool = cf.ThreadPoolExecutor(FINISH_THREADS, thread_name_prefix="broadcast-finish")
    pending: deque = deque()

    def oldest() -> Piece | None:
        i, result = pending.popleft()
        try:
            piece = _wait(result, CLIP_TIMEOUT_S) if isinstance(result, cf.Future) else result
        except cf.TimeoutError:
            raise EngineError(f"finishing one clip took longer than {CLIP_TIMEOUT_S:.0f} s (item {i + 1})") from None
        if on_clip:
            on_clip(i)
        return piece

    try:
        for i, job, piece, clip in _ahead(spoken(), AHEAD_IN_PROCESS):
            pending.append((i, pool.submit(finished, i, job, clip) if job is not None and piece is None else piece))
            while len(pending) > AHEAD_IN_PROCESS or (pending and not isinstance(pending[0][1], cf.Future)):
                yield oldest()
        while pending:
            yield oldest()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


#: Held while an engine runs in this process: a render whose consumer stopped early may still be
#: finishing a clip on its thread when the next render starts, and eSpeak must not run twice at once.
#: An engine that hung keeps it for ever; a later render waits half the clip timeout, then says so.
_ENGINE_THREAD = threading.Lock()


@contextlib.contextmanager
def _engine_turn() -> Iterator[None]:
    """This process's engines, for as long as the `with` lasts; an engine error instead of a
    wait for ever when an engine that hung still holds them (given up on before _ahead gives up)."""
    if not _ENGINE_THREAD.acquire(timeout=CLIP_TIMEOUT_S / 2):
        raise EngineError("the speech engine is still busy with an earlier render in this process "
                          "(it stopped answering); start a new process")
    try:
        yield
    finally:
        _ENGINE_THREAD.release()


def _ahead(produce: Iterator, size: int, timeout_s: float | None = None) -> Iterator:
    """Run `produce` on one thread of its own, up to `size` items ahead of the consumer. eSpeak's C
    code, LAME and most of numpy release the GIL, so in-process synthesis overlaps the threads
    finishing pieces (2-core figures in README, "Speed and memory"). An exception in `produce` is
    raised in the consumer; a consumer that stops (an error, Ctrl-C) stops the thread after its
    current item. An item that takes longer than `timeout_s` (default CLIP_TIMEOUT_S) is an engine
    error: a hung engine in this process cannot be stopped, but the render does not wait for ever."""
    import queue
    import time

    timeout_s = CLIP_TIMEOUT_S if timeout_s is None else timeout_s
    done = object()
    handoff: queue.Queue = queue.Queue(maxsize=max(1, size))
    stop = threading.Event()

    def offer(entry: tuple) -> bool:
        while not stop.is_set():
            try:
                handoff.put(entry, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for value in produce:
                if not offer((value, None)):
                    return
            offer((done, None))
        except BaseException as exc:  # handed to the consumer, raised there
            offer((done, exc))
        finally:
            produce.close()

    thread = threading.Thread(target=run, name="broadcast-synthesis", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:  # short slices: the main thread must notice signals (see _wait)
                value, error = handoff.get(timeout=0.2)
            except queue.Empty:
                if time.monotonic() > deadline:
                    raise EngineError(f"the speech engine gave nothing for {timeout_s:.0f} s and was given up on "
                                      f"(run with --jobs 2 to have it stopped)") from None
                continue
            deadline = time.monotonic() + timeout_s
            if value is done:
                if error is not None:
                    raise error
                return
            yield value
    finally:
        stop.set()  # the producer notices within 0.2 s, or when its current item is made


def _workers_can_start() -> bool:
    """A worker re-imports the main module from its file; a program read from standard input
    (`python -`) has none (its `__file__` is "<stdin>"), so there synthesis stays in-process."""
    import sys

    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return getattr(main, "__spec__", None) is not None or path is None or os.path.exists(path)


def _wait(future, timeout_s: float):
    """`future.result(timeout)` in short slices. A signal may be delivered to any thread (the
    encoder's, an engine's); the main thread only notices it between bytecodes, so it must never
    block for long in one call, or Ctrl-C would wait for the clip."""
    import concurrent.futures as cf
    import time

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return future.result(timeout=0.2)
        except cf.TimeoutError:
            if time.monotonic() > deadline:
                raise


def _shutdown(pool) -> None:
    """Stop the workers, leaving no orphan process. A clip already being made is let finish for
    a moment first: a worker killed while it sends its result leaves the pool's reader blocked
    on half a message, and the interpreter would then hang at exit joining it (CPython's
    ProcessPoolExecutor). Only a worker still busy after the grace (a hung engine) is killed."""
    import time

    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + SHUTDOWN_GRACE_S
    for process in processes:
        process.join(timeout=max(0.0, deadline - time.monotonic()))
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
