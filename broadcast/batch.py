"""Many transcripts through `pipeline.render`: a local process pool, or tasks on a Dask cluster.

    from broadcast.batch import run
    result = run(["transcripts/"], "site/", engine="silence", feed="https://example.org/show/")

Every transcript is one task, the same function in both places (`render_task`): it gets the
transcript's bytes and returns the produced files as bytes, so a Dask worker needs no shared
filesystem, and the parent alone writes under OUT (atomically, file by file). One render per
task runs with `jobs=1`: the batch is already parallel across transcripts, and a synthesis pool
inside each of N pool workers would put N × cores processes on N cores (Dask's worker
processes are daemons and could not start one anyway).

Resuming: OUT/batch-manifest.json records, per output, a key over everything that changes it
(the transcript's bytes, the voices.yaml bytes, the engine asked for, `broadcast.__version__`)
and the sizes of the files made. A transcript whose key matches and whose files are all there
with those sizes is skipped, so an interrupted batch picks up where it stopped.

Failures: a `BroadcastError` in one transcript is recorded with its message and exit code and
the batch goes on. The batch's exit code is 0 when nothing failed, else the code of the first
failed transcript in input order (3 for a bad transcript, 4 for voices.yaml, ...), so a script
can tell a bad input from a broken installation.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from . import __version__
from .errors import BroadcastError, EngineError, ExitCode, OutputError, TranscriptError, UsageError
from .pipeline import DEFAULT_OUT
from .pipeline import Reporter as RenderReporter

MANIFEST = "batch-manifest.json"
REPORT = "batch-report.json"
#: A task that raises (not a BroadcastError, which is a result) or whose local worker process
#: dies is run again this many times. On Dask, a worker lost mid-task is the scheduler's to
#: handle: it reruns the task elsewhere until `distributed.scheduler.allowed-failures` (3).
RETRIES = 2
#: The manifest is rewritten at most this often while a batch runs, and always at its end: often
#: enough that an interruption loses little, rarely enough that 10 000 transcripts stay linear.
MANIFEST_EVERY_S = 2.0
_MAGIC = frozenset("*?[")
#: One render at a time per process: eSpeak is not thread-safe and engines are built once per
#: process, so a Dask worker started with several threads still renders one transcript at a time.
_RENDER_LOCK = threading.Lock()


class Reporter(RenderReporter):
    """A render's reporter plus the audio made, so progress over a batch can show minutes."""

    def audio(self, seconds: float) -> None:
        """One more transcript is done with `seconds` of audio."""


@dataclass(frozen=True)
class Source:
    """One transcript found among the inputs."""

    path: Path  # where this machine reads it
    name: str  # POSIX path relative to its input root: its name in tasks, timelines and messages
    stem: str  # POSIX path of its outputs relative to OUT, without suffix ("nested/show")


@dataclass(frozen=True)
class Task:
    """What a worker needs to render one transcript: no path of the client's is read there."""

    name: str
    stem: str
    transcript: bytes
    voices_name: str | None
    voices: bytes | None
    engine: str | None
    version: str
    key: str
    workdir: str | None = None  # where to make the render's temporary folder (None: the system's)


@dataclass(frozen=True)
class Outcome:
    """What comes back from a worker: the files (name → bytes), or the error."""

    name: str
    files: tuple[tuple[str, bytes], ...] = ()
    error: str = ""
    exit_code: int = 0
    engine: str = ""
    duration_s: float = 0.0
    render_s: float = 0.0
    worker: str = ""
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Entry:
    """One transcript in the report: rendered, skipped (up to date) or failed."""

    source: Source
    status: str
    audio: Path | None = None
    title: str | None = None
    duration_s: float = 0.0
    speakers: tuple[tuple[str, str, str], ...] = ()  # (name, role, voice), from the timeline
    error: str = ""
    exit_code: int = 0
    engine: str = ""
    render_s: float = 0.0
    worker: str = ""
    notes: tuple[str, ...] = ()
    traceback: str = ""


@dataclass(frozen=True)
class BatchResult:
    entries: tuple[Entry, ...]
    out: Path
    report: Path
    feed: Path | None
    exit_code: int
    elapsed_s: float
    #: speakers heard with more than one voice across the batch: name → voices
    recast: tuple[tuple[str, tuple[str, ...]], ...]
    scheduler: str | None = None
    jobs: int | None = None
    engine: str | None = None

    def count(self, status: str) -> int:
        return sum(1 for e in self.entries if e.status == status)

    @property
    def failed(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.status == "failed")


class Named(os.PathLike):
    """A file read from `path` but called `name`.

    `pipeline.render` opens its source through `os.fspath` and names it with `str` (the
    timeline's `source`, the MP3's comment, every error message). A task writes the transcript
    into a temporary folder, and this keeps the temporary path out of what the render says: the
    outputs read `nested/show.txt` on any machine, so the local pool and a cluster produce
    byte-identical files."""

    def __init__(self, path: Path, name: str):
        self.path, self.name = path, name

    def __fspath__(self) -> str:
        return str(self.path)

    def __str__(self) -> str:
        return self.name


class _Recorder(RenderReporter):
    def __init__(self) -> None:
        self.notes: list[str] = []

    def note(self, message: str) -> None:
        self.notes.append(message)


# ---------------------------------------------------------------------------- finding the inputs

def find(inputs: Sequence[str | Path]) -> list[Source]:
    """Transcripts named by files, folders (every `*.txt` below, hidden folders left out) and
    globs, in order and without duplicates. A name that matches nothing stops the batch before
    anything is rendered: it is a typo, not a bad transcript."""
    found: dict[Path, Source] = {}

    def add(path: Path, root: Path) -> None:
        key = path.resolve()
        if key not in found:
            name = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
            found[key] = Source(path, name, stem_for(name))

    def walk(folder: Path, root: Path) -> None:
        for path in sorted(folder.rglob("*.txt")):
            if path.is_file() and not any(part.startswith(".") for part in path.relative_to(folder).parts):
                add(path, root)

    for arg in inputs:
        text = str(arg)
        if any(ch in _MAGIC for ch in text):
            import glob

            matches = [Path(m) for m in sorted(glob.glob(text, recursive=True))]
            if not matches:
                raise TranscriptError(f"{text}: matches no files")
            root = glob_root(text)
            for match in matches:
                walk(match, root) if match.is_dir() else add(match, root)
            continue
        path = Path(text)
        if path.is_dir():
            before = len(found)
            walk(path, path)
            if len(found) == before:
                raise TranscriptError(f"{text}: no *.txt transcripts in this folder")
        elif path.exists():
            add(path, path.parent)
        else:
            raise TranscriptError(f"{text}: no such file or folder")
    return list(found.values())


def glob_root(pattern: str) -> Path:
    """The folder a glob is relative to: its leading components without wildcards."""
    parts = Path(pattern).parts
    fixed = []
    for part in parts[:-1]:
        if any(ch in _MAGIC for ch in part):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path(".")


def stem_for(name: str) -> str:
    """`nested/My Show.txt` → `nested/my-show`: folders kept, the file named as `render` names it."""
    from .export import slug

    pure = PurePosixPath(name)
    return (pure.parent / slug(pure.stem)).as_posix() if pure.parent != PurePosixPath(".") else slug(pure.stem)


# ------------------------------------------------------------------------------ the work itself

def task_key(transcript: bytes, voices: bytes | None, engine: str | None) -> str:
    """Everything that changes a batch's outputs for one transcript (module docstring)."""
    fields = {"transcript": hashlib.sha256(transcript).hexdigest(),
              "voices": hashlib.sha256(voices).hexdigest() if voices is not None else None,
              "engine": engine, "version": __version__}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode("utf-8")).hexdigest()


def render_task(task: Task) -> Outcome:
    """Render one transcript in a temporary folder; return its files as bytes. Runs in a pool
    worker or on a Dask worker; a `BroadcastError` is a result, anything else is raised."""
    import socket
    import tempfile

    from .pipeline import render

    worker = f"{socket.gethostname()}:{os.getpid()}"
    if task.version != __version__:
        return Outcome(task.name, error=f"this worker has broadcast {__version__}, the client {task.version}; "
                                        f"install the same version everywhere", exit_code=int(ExitCode.ENGINE),
                       worker=worker)
    started = time.perf_counter()
    recorder = _Recorder()
    with _RENDER_LOCK, tempfile.TemporaryDirectory(prefix="broadcast-batch-", dir=task.workdir) as tmp:
        folder = Path(tmp)
        source = folder / "in" / PurePosixPath(task.name).name
        source.parent.mkdir()
        source.write_bytes(task.transcript)
        voices = None
        if task.voices is not None:
            (folder / "voices.yaml").write_bytes(task.voices)
            voices = Named(folder / "voices.yaml", task.voices_name or "voices.yaml")
        out = folder / "out"
        audio = out / f"{PurePosixPath(task.stem).name}.mp3"
        try:
            result = render(Named(source, task.name), audio, voices, task.engine, jobs=1, reporter=recorder)
        except BroadcastError as exc:
            return Outcome(task.name, error=str(exc), exit_code=int(exc.exit_code), worker=worker,
                           render_s=time.perf_counter() - started, notes=tuple(recorder.notes))
        files = tuple((p.name, p.read_bytes()) for p in sorted(out.iterdir()) if not p.name.startswith("."))
    return Outcome(task.name, files, engine=result.engine, duration_s=result.timeline.duration_s,
                   render_s=time.perf_counter() - started, worker=worker, notes=tuple(recorder.notes))


class _WorkerLost(Exception):
    """The process running a task died (killed, out of memory, a crash in an engine)."""


class _LocalPool:
    """`jobs` worker processes; with one job the tasks run in this process (how to debug one)."""

    def __init__(self, jobs: int):
        self.jobs = jobs
        self.window = 2 * jobs
        self.pool = None
        self.owner: dict = {}  # future → its pool: a broken pool's late failures must not end its successor
        # the renders' temporary folders go in one folder of ours, removed at the end: a worker
        # killed mid-render (out of memory, a crashing engine) cannot remove its own
        self.workroot: str | None = None

    def _executor(self):
        import concurrent.futures as cf
        import multiprocessing

        if self.pool is None:
            context = multiprocessing.get_context("forkserver" if os.name == "posix" else "spawn")
            self.pool = cf.ProcessPoolExecutor(max_workers=self.jobs, mp_context=context)
        return self.pool

    def submit(self, task: Task):
        import concurrent.futures as cf
        import dataclasses
        import tempfile

        if self.workroot is None:
            self.workroot = tempfile.mkdtemp(prefix="broadcast-batch-")
        task = dataclasses.replace(task, workdir=self.workroot)
        if self.jobs == 1:
            future: cf.Future = cf.Future()
            try:
                future.set_result(render_task(task))
            except Exception as exc:
                future.set_exception(exc)
            return future
        pool = self._executor()
        future = pool.submit(render_task, task)
        self.owner[future] = pool
        return future

    def wait(self, futures) -> set:
        import concurrent.futures as cf

        return cf.wait(futures, return_when=cf.FIRST_COMPLETED).done

    def outcome(self, future) -> Outcome:
        from concurrent.futures.process import BrokenProcessPool

        pool = self.owner.pop(future, None)
        try:
            return future.result()
        except BrokenProcessPool:
            if pool is not None and pool is self.pool:
                pool.shutdown(wait=False, cancel_futures=True)
                self.pool = None  # a new pool for what is left; the lost tasks are queued again
            raise _WorkerLost from None

    def close(self) -> None:
        import shutil

        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
        if self.workroot is not None:
            shutil.rmtree(self.workroot, ignore_errors=True)


class _DaskCluster:
    """Tasks on a `dask.distributed` scheduler; transcripts and files travel as bytes."""

    connect_timeout = "10s"

    def __init__(self, address: str):
        try:
            from distributed import Client
        except ImportError:
            raise UsageError("--scheduler needs Dask: pip install 'broadcast[cluster]'") from None
        try:
            self.client = Client(address, timeout=self.connect_timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise UsageError(f"--scheduler {address}: cannot reach the Dask scheduler ({exc}); is 'dask scheduler' "
                         f"running there?") from None
        threads = sum(self.client.nthreads().values())
        self.window = max(2, 2 * threads)

    def submit(self, task: Task):
        return self.client.submit(render_task, task, key=f"broadcast-render-{task.key[:16]}-{task.stem}",
                                  retries=RETRIES, pure=False)

    def wait(self, futures) -> set:
        from distributed import wait

        with self.client.as_current():  # not the process's default client: a caller may have their own
            return set(wait(list(futures), return_when="FIRST_COMPLETED").done)

    def outcome(self, future) -> Outcome:
        from concurrent.futures import CancelledError

        from distributed import KilledWorker

        try:
            return future.result()
        except KilledWorker:
            # the scheduler already ran it on other workers; each of them died too
            raise EngineError("every worker that rendered it died (out of memory, or the speech engine "
                              "crashed)") from None
        except CancelledError:  # the scheduler went away or restarted: not a bug in the task
            raise EngineError("the Dask scheduler cancelled it (was the scheduler stopped?)") from None
        finally:
            future.release()

    def close(self) -> None:
        self.client.close()


# -------------------------------------------------------------------------------- bookkeeping

class Manifest:
    """OUT/batch-manifest.json: output stem → the key it was made with and its files' sizes. An
    unreadable or foreign file is an empty manifest (everything is rendered again)."""

    def __init__(self, path: Path):
        self.path = path
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            outputs = data["outputs"] if data.get("version") == 1 else {}
            self.outputs: dict[str, dict] = outputs if isinstance(outputs, dict) else {}
        except (OSError, ValueError, AttributeError, KeyError, TypeError):
            self.outputs = {}
        self.written = time.monotonic()

    def current(self, stem: str, key: str, out: Path) -> bool:
        entry = self.outputs.get(stem)
        if not isinstance(entry, dict) or entry.get("key") != key or not isinstance(entry.get("files"), dict):
            return False
        folder = (out / stem).parent
        for name, size in entry["files"].items():
            try:
                if (folder / name).stat().st_size != size:
                    return False
            except OSError:
                return False
        return True

    def record(self, stem: str, name: str, key: str, files: dict[str, int]) -> None:
        self.outputs[stem] = {"input": name, "key": key, "files": files}
        if time.monotonic() - self.written >= MANIFEST_EVERY_S:
            self.save()

    def save(self) -> None:
        from .export import write_text

        write_text(self.path, json.dumps({"version": 1, "outputs": self.outputs}, indent=1, sort_keys=True) + "\n")
        self.written = time.monotonic()


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise TranscriptError(f"{path}: no such file") from None
    except OSError as exc:
        raise TranscriptError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def _timeline(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "duration_s" in data else None


def _done(source: Source, status: str, audio: Path, timeline: dict, **extra) -> Entry:
    speakers = tuple((s["name"], s["role"], s["voice"]) for s in timeline.get("speakers", ()))
    return Entry(source, status, audio, timeline.get("title"), float(timeline["duration_s"]), speakers, **extra)


def _failed(source: Source, error: BroadcastError | str, exit_code: int | None = None, **extra) -> Entry:
    message = str(error)
    if not message.startswith(source.name) and not message.startswith(str(source.path)):
        message = f"{source.name}: {message}"
    code = exit_code if exit_code is not None else int(getattr(error, "exit_code", ExitCode.INTERNAL))
    return Entry(source, "failed", error=message, exit_code=code, **extra)


def recast(entries: Sequence[Entry]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Named speakers heard with more than one voice across the batch. Casting picks a voice
    from a stable hash of the name, so this is rare: it happens when two speakers of one program
    want the same voice (the one cast second moves on), or when a pronoun hint or a different
    role in another program changes the order of preference. Labels rather than names ("Host",
    "Unidentified Male", "Speaker 3") are different people in different programs: left out."""
    voices: dict[str, dict[str, None]] = {}
    for entry in entries:
        for name, role, voice in entry.speakers:
            if role != "unidentified" and name != "Host" and not any(ch.isdigit() for ch in name):
                voices.setdefault(name, {})[voice] = None
    return tuple((name, tuple(v)) for name, v in sorted(voices.items()) if len(v) > 1)


# ---------------------------------------------------------------------------------- the batch

def run(inputs: Sequence[str | Path], out: str | Path = DEFAULT_OUT, voices: str | Path | None = None,
        engine: str | None = None, jobs: int | None = None, scheduler: str | None = None,
        feed: str | None = None, reporter: Reporter | None = None) -> BatchResult:
    """Render every transcript the inputs name into `out` (folders kept), skipping those whose
    outputs are up to date; write OUT/batch-report.json and, with `feed` (the URL `out` will be
    served from), OUT/feed.xml. One transcript failing never stops the others."""
    reporter = reporter or Reporter()
    started = time.perf_counter()
    if scheduler is not None and jobs is not None:
        raise UsageError("--jobs sets the local pool; with --scheduler each Dask worker renders one transcript per "
                     "thread (start workers with 'dask worker ADDRESS --nthreads 1 --nworkers N')")
    out = Path(out)
    sources = find(inputs)
    voices_bytes = None
    if voices is not None:
        from . import config

        config.load(voices)  # one error for the whole batch, before anything is rendered
        voices_bytes = Path(voices).read_bytes()
    if engine is not None:
        from . import engines

        engines.engine_class(engine)  # an unknown name stops the batch; an engine missing here may be on the workers
    manifest = Manifest(out / MANIFEST)

    entries: dict[Source, Entry] = {}
    owners: dict[str, Source] = {}
    queue: deque[Source] = deque()
    for source in sources:
        if source.stem in owners:
            entries[source] = _failed(source, OutputError(
                f"{source.name}: its outputs {source.stem}.* would replace those of {owners[source.stem].path} "
                f"(rename one, or give their common folder as the input)"))
            continue
        owners[source.stem] = source
        try:
            key = task_key(_read(source.path), voices_bytes, engine)
        except TranscriptError as exc:
            entries[source] = _failed(source, exc)
            continue
        audio = out / f"{source.stem}.mp3"
        timeline = _timeline(out / f"{source.stem}.timeline.json")
        if manifest.current(source.stem, key, out) and timeline is not None:
            entries[source] = _done(source, "skipped", audio, timeline)
        else:
            queue.append(source)

    if queue:
        entries.update(_render_all(queue, out, voices, voices_bytes, engine, jobs, scheduler, manifest, reporter))
    ordered = tuple(entries[s] for s in sources if s in entries)
    failed = [e for e in ordered if e.status == "failed"]
    exit_code = failed[0].exit_code if failed else 0

    feed_path = None
    if feed is not None:
        from .feed import write_feed

        feed_path = write_feed(out, feed, [_episode(e) for e in ordered if e.status != "failed"])
    result = BatchResult(ordered, out, out / REPORT, feed_path, exit_code, time.perf_counter() - started,
                         recast(ordered), scheduler, jobs, engine)
    from .export import write_text

    write_text(result.report, json.dumps(report(result), indent=1, ensure_ascii=False) + "\n")
    return result


def _episode(entry: Entry):
    from .feed import Episode

    named = tuple(n for n, role, _ in entry.speakers if role != "unidentified" and n != "Host")
    return Episode(entry.source.stem, entry.audio, entry.title or PurePosixPath(entry.source.name).stem,
                   entry.duration_s, entry.source.path.stat().st_mtime, named)


def _render_all(queue: deque[Source], out: Path, voices: str | Path | None, voices_bytes: bytes | None,
                engine: str | None, jobs: int | None, scheduler: str | None, manifest: Manifest,
                reporter: Reporter) -> dict[Source, Entry]:
    import traceback

    from .export import atomic

    entries: dict[Source, Entry] = {}
    if scheduler is not None:
        backend: _LocalPool | _DaskCluster = _DaskCluster(scheduler)
    else:
        backend = _LocalPool(max(1, min(jobs or os.cpu_count() or 1, len(queue))))
    attempts: dict[Source, int] = {}
    running: dict[object, tuple[Source, Task]] = {}
    # Tasks whose pool process died: which of the tasks running then killed it is unknown, so
    # each runs again alone, and only a death alone counts against it (innocents go through).
    suspects: deque[tuple[Source, Task]] = deque()
    alone = False
    reporter.start(len(queue), "Transcripts")
    try:
        while queue or running or suspects:
            if suspects and not running:
                source, task = suspects.popleft()
                running[backend.submit(task)] = (source, task)
                alone = True
            while queue and not suspects and len(running) < backend.window:
                source = queue.popleft()
                try:
                    data = _read(source.path)  # read again: what is rendered is what the key says
                except TranscriptError as exc:
                    entries[source] = _failed(source, exc)
                    reporter.advance()
                    continue
                task = Task(source.name, source.stem, data, str(voices) if voices is not None else None,
                            voices_bytes, engine, __version__, task_key(data, voices_bytes, engine))
                running[backend.submit(task)] = (source, task)
            if not running:
                continue
            was_alone, alone = alone, False
            for future in backend.wait(running):
                source, task = running.pop(future)
                try:
                    outcome = backend.outcome(future)
                except _WorkerLost:
                    attempts[source] = attempts.get(source, 0) + was_alone
                    if attempts[source] <= RETRIES:
                        suspects.append((source, task))
                        continue
                    entry = _failed(source, "the worker process rendering it died (out of memory, or the speech "
                                            "engine crashed)", int(ExitCode.ENGINE))
                except BroadcastError as exc:
                    entry = _failed(source, exc)
                except Exception as exc:  # a bug in a task: one line here, the traceback in the report
                    entry = _failed(source, f"internal error: {type(exc).__name__}: {exc}", int(ExitCode.INTERNAL),
                                    traceback="".join(traceback.format_exception(exc)))
                else:
                    entry = _write(source, task, outcome, out, manifest, atomic)
                entries[source] = entry
                reporter.advance()
                reporter.audio(entry.duration_s)
    finally:
        reporter.finish()
        backend.close()
        manifest.save()
    return entries


def _write(source: Source, task: Task, outcome: Outcome, out: Path, manifest: Manifest, atomic) -> Entry:
    """Put a task's files under OUT, the audio last, then note them in the manifest."""
    extra = {"engine": outcome.engine, "render_s": outcome.render_s, "worker": outcome.worker,
             "notes": outcome.notes}
    if outcome.error:
        return _failed(source, outcome.error, outcome.exit_code, **extra)
    files = dict(outcome.files)
    audio_name = f"{PurePosixPath(source.stem).name}.mp3"
    timeline_name = f"{PurePosixPath(source.stem).name}.timeline.json"
    folder = (out / source.stem).parent
    try:
        for name in sorted(files, key=lambda n: n == audio_name):
            with atomic(folder / name) as (handle, _):
                handle.write(files[name])
    except OutputError as exc:
        return _failed(source, exc, **extra)
    manifest.record(source.stem, source.name, task.key, {name: len(data) for name, data in files.items()})
    return _done(source, "rendered", folder / audio_name, json.loads(files[timeline_name]), **extra)


def report(result: BatchResult) -> dict:
    """OUT/batch-report.json (also what `broadcast batch --json` prints)."""
    transcripts = []
    for e in result.entries:
        row: dict = {"input": str(e.source.path), "name": e.source.name, "status": e.status}
        if e.status == "failed":
            row.update(error=e.error, exit_code=e.exit_code)
            if e.traceback:
                row["traceback"] = e.traceback
        else:
            row.update(audio=str(e.audio), title=e.title, duration_s=round(e.duration_s, 3))
        if e.status != "skipped" and e.worker:
            row.update(engine=e.engine or None, render_s=round(e.render_s, 3), worker=e.worker)
        if e.notes:
            row["notes"] = list(e.notes)
        transcripts.append(row)
    return {
        "version": 1, "out": str(result.out), "scheduler": result.scheduler, "jobs": result.jobs,
        "engine": result.engine,
        "rendered": result.count("rendered"), "skipped": result.count("skipped"), "failed": result.count("failed"),
        "exit_code": result.exit_code, "audio_s": round(sum(e.duration_s for e in result.entries), 3),
        "elapsed_s": round(result.elapsed_s, 3), "feed": str(result.feed) if result.feed else None,
        "recast": {name: list(v) for name, v in result.recast},
        "transcripts": transcripts,
    }
