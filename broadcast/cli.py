"""The `broadcast` command: parse arguments, call the Python API, print, exit with the right code.

Only this module prints or exits. stdout carries results (paths, or JSON with --json); progress
and messages go to stderr. Every `BroadcastError` becomes one line and its exit code; anything
else is a bug: one line naming the file where the traceback was written, and exit code 1.
"""

from __future__ import annotations

import functools
import json
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Optional

import typer

from .errors import BroadcastError, ExitCode

WATCH_POLL_S = 0.05  # how often --watch looks at the files (a stat each: nothing to the CPU)
#: A save is taken once the files have not changed for this long: an editor may write in steps,
#: all within a few ms. Counted from the files' modification time, so a save seen late by the
#: poll is not made to wait again (it took 50-100 ms from a save to its render; now 30-50 ms).
WATCH_STILL_S = 0.03

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None,
                  help="Turn a broadcast transcript into a multi-voice, mastered audio program.")

TranscriptArg = Annotated[str, typer.Argument(help="Transcript text file, or - for standard input.",
                                              show_default=False)]
VoicesOpt = Annotated[Optional[Path], typer.Option("--voices", help="voices.yaml with your casting.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]
EngineOpt = Annotated[Optional[str], typer.Option("--engine", help="Speech engine: neural, espeak, silence, ...")]


def _err(message: str) -> None:
    typer.echo(message, err=True)


class _Terminated(BaseException):
    """SIGTERM, raised where the program is, so every `finally` and abort runs as for Ctrl-C."""


#: Where a signal's exception must not be raised: just after `Condition.__enter__` took its lock
#: (before the `with` holds it), in `__exit__` before it gives the lock back, and so on. Raised
#: there, the exception leaves the lock held for ever: the process pool's manager thread then
#: blocks on it (the pool's queue of work ids, a future, the idle-worker semaphore) and the
#: interpreter hangs at exit joining that thread.
_UNSAFE = frozenset(getattr(threading.Condition, name).__code__ for name in
                    ("__enter__", "__exit__", "_release_save", "_acquire_restore", "_is_owned"))
_deferred: list[int] = []


def _on_signal(signum, frame) -> None:
    """SIGTERM raises _Terminated, SIGINT KeyboardInterrupt, where the main thread is; but in the
    lines of `_UNSAFE` the signal is deferred, and raised a millisecond later (SIGALRM)."""
    import signal

    while frame is not None and frame.f_code is _on_signal.__code__:  # taken inside this handler
        frame = frame.f_back
    if signum == signal.SIGALRM:
        if not _deferred:
            return
        signum = _deferred[0]
    if frame is not None and frame.f_code in _UNSAFE and hasattr(signal, "setitimer"):  # not on Windows
        if signum not in _deferred:
            _deferred.append(signum)
        signal.setitimer(signal.ITIMER_REAL, 0.001)
        return
    _deferred.clear()
    raise _Terminated(signum) if signum == signal.SIGTERM else KeyboardInterrupt()


def _handled(command: Callable[..., None]) -> Callable[..., None]:
    """Turn every outcome of a command into one line on stderr and its exit code (errors.py)."""

    @functools.wraps(command)
    def run(*args, **kwargs) -> None:
        import signal

        signal.signal(signal.SIGTERM, _on_signal)  # unwind like Ctrl-C: temporary files removed
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not when started ignoring it
            signal.signal(signal.SIGINT, _on_signal)
        if hasattr(signal, "SIGALRM"):
            signal.signal(signal.SIGALRM, _on_signal)
        try:
            command(*args, **kwargs)
        except (typer.Exit, typer.BadParameter):
            raise
        except BroadcastError as exc:
            _err(f"broadcast: error: {exc}")
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt:
            _err("broadcast: interrupted; no partial output was left")
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except _Terminated:
            _err("broadcast: terminated; no partial output was left")
            raise typer.Exit(int(ExitCode.TERMINATED)) from None
        except BrokenPipeError:
            raise typer.Exit(0) from None
        except Exception as exc:  # a bug: one line here, the whole story in a file
            import tempfile
            import traceback

            fd, name = tempfile.mkstemp(prefix="broadcast-crash-", suffix=".txt")
            with open(fd, "w") as f:
                traceback.print_exc(file=f)
            _err(f"broadcast: internal error: {type(exc).__name__}: {exc} (traceback in {name}; please report it)")
            raise typer.Exit(int(ExitCode.INTERNAL)) from None

    return run


class _Progress:
    """A progress bar on stderr when it is a terminal; notes always (unless quiet)."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.bar = None
        self.task = None

    def note(self, message: str) -> None:
        if not self.quiet:
            _err(f"broadcast: {message}")

    def start(self, total: int, label: str) -> None:
        if self.quiet or not sys.stderr.isatty():
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        self.bar = Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                            TimeRemainingColumn(), console=Console(stderr=True), transient=True)
        self.bar.start()
        self.task = self.bar.add_task(label, total=total)

    def advance(self, steps: int = 1) -> None:
        if self.bar is not None:
            self.bar.advance(self.task, steps)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def _script_json(script) -> dict:
    return {
        "version": 1,
        "title": script.title,
        "speakers": [{"name": s.name, "role": s.role, "labels": list(s.labels)} for s in script.speakers],
        "turns": [{"speaker": t.speaker, "role": t.role, "kind": t.kind, "text": t.text,
                   "interpreted": t.interpreted, "line": t.line} for t in script.turns],
        "dropped": [{"line": d.line, "text": d.text} for d in script.dropped],
        "warnings": list(script.warnings),
    }


@app.command()
@_handled
def parse(transcript: TranscriptArg, as_json: JsonOpt = False) -> None:
    """Show what was understood: turns, speakers, and the lines dropped as page furniture."""
    from .pipeline import parse as parse_transcript

    script = parse_transcript(transcript)
    if as_json:
        typer.echo(json.dumps(_script_json(script), ensure_ascii=False, indent=1))
        return
    typer.echo(f"Title: {script.title or '(none)'}")
    typer.echo(f"\nSpeakers ({len(script.speakers)}):")
    for s in script.speakers:
        labels = f"  [labels: {', '.join(s.labels)}]" if s.labels else ""
        typer.echo(f"  {s.name} ({s.role}){labels}")
    typer.echo(f"\nTurns ({len(script.turns)}):")
    for n, t in enumerate(script.turns, 1):
        who = t.speaker or "(direction)"
        flags = " [interpreted]" if t.interpreted else ""
        words = t.text.replace("\n", " ")
        typer.echo(f"  {n:3}. line {t.line:<4} {who} ({t.role}, {t.kind}){flags}: "
                   f"{words[:60]}{'…' if len(words) > 60 else ''}")
    typer.echo(f"\nDropped ({len(script.dropped)}):")
    for d in script.dropped:
        typer.echo(f"  line {d.line}: {d.text[:70]}")
    for w in script.warnings:
        typer.echo(f"\nwarning: {w}")


@app.command()
@_handled
def cast(transcript: TranscriptArg, voices: VoicesOpt = None, engine: EngineOpt = None,
         as_json: JsonOpt = False) -> None:
    """Show who gets which voice, and why, before rendering."""
    from .pipeline import plan

    chosen = plan(transcript, voices, engine, _Progress(False))
    rows = [{"speaker": c.speaker, "role": c.role, "voice": c.voice.id, "rate": c.voice.rate_wpm,
             "pitch": c.voice.pitch, "formant": c.voice.formant, "reason": c.reason} for c in chosen.cast.castings]
    extra = [{"speaker": "Narrator", "role": "narrator", "voice": chosen.cast.narrator.id,
              "rate": chosen.cast.narrator.rate_wpm, "pitch": chosen.cast.narrator.pitch,
              "formant": chosen.cast.narrator.formant, "reason": "narrator"}]
    extra += [{"speaker": f"{name} (interpreted)", "role": "interpreter", "voice": v.id, "rate": v.rate_wpm,
               "pitch": v.pitch, "formant": v.formant, "reason": "interpreter voice-over"}
              for name, v in chosen.cast.interpreters]
    if as_json:
        typer.echo(json.dumps({"version": 1, "engine": chosen.engine, "cast": rows + extra}, indent=1))
        return
    typer.echo(f"Engine: {chosen.engine}")
    for r in rows + extra:
        typer.echo(f"  {r['speaker']:<32} {r['role']:<12} {r['voice']:<34} {r['rate']} wpm  ({r['reason']})")


@app.command()
@_handled
def render(
    transcript: TranscriptArg,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Audio file to write.")] = None,
    voices: VoicesOpt = None,
    engine: EngineOpt = None,
    jobs: Annotated[Optional[int], typer.Option("--jobs", min=1, max=64, help="Worker processes.")] = None,
    formats: Annotated[Optional[str], typer.Option("--formats", help="mp3|wav and sidecars: vtt,srt,chapters,html")] = None,
    announce: Annotated[str, typer.Option("--announce", help="Introduce speakers: first, always or never.")] = "first",
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Synthesize every clip afresh.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary on stderr.")] = False,
    as_json: JsonOpt = False,
    watch: Annotated[bool, typer.Option("--watch", help="Render again whenever the transcript or voices "
                                        "file changes, until Ctrl-C.")] = False,
) -> None:
    """Render a transcript to a mastered audio file with its timeline."""
    from .pipeline import render as render_transcript
    from .program import ANNOUNCE
    from .synthesis import keep_audio_memory

    keep_audio_memory()  # this process's own setting: the CLI's, not the Python API's
    if announce not in ANNOUNCE:
        raise typer.BadParameter(f"must be one of {', '.join(ANNOUNCE)}", param_hint="--announce")
    if watch and str(transcript) == "-":
        raise typer.BadParameter("needs a transcript file to watch, not standard input", param_hint="--watch")
    progress = _Progress(quiet)

    def once():
        return render_transcript(transcript, output, voices, engine, jobs, formats, announce, not no_cache, progress)

    _report(once(), as_json, quiet, progress)
    if watch:
        from .pipeline import warm

        warm(transcript, voices, engine)  # the first render's engines may have been in workers
        _watch(once, [Path(transcript), *([Path(voices)] if voices else [])], as_json, quiet, progress)


def _watch(again: Callable, paths: list[Path], as_json: bool, quiet: bool, progress: _Progress) -> None:
    """Render again whenever one of `paths` changes, until Ctrl-C. The process stays, so the
    engines stay loaded and the cache warm: an edited turn costs its own synthesis and the
    writing, not a start-up (benchmarks/bench.py --edit). A render that fails says why in one
    line and the watch goes on; the last good files stay in place."""
    import time

    def state(path: Path) -> tuple[int, int] | None:
        try:
            found = path.stat()
        except OSError:  # missing for a moment while an editor saves: a change like any other
            return None
        return found.st_mtime_ns, found.st_size

    def stamp() -> tuple:
        return tuple(state(p) for p in paths)

    def changed(seen: tuple) -> tuple:
        now = seen
        while now == seen:
            time.sleep(WATCH_POLL_S)
            now = stamp()
        while wait := _still_to_wait(now, time.time_ns()):  # an editor may save in steps
            time.sleep(wait)
            seen, now = now, stamp()
            if now == seen:  # no change while waiting: held still (so too when the files' clock differs)
                return now
        return now

    seen = stamp()
    progress.note(f"watching {', '.join(str(p) for p in paths)} (Ctrl-C stops)")
    while True:
        try:
            seen = changed(seen)
        except KeyboardInterrupt:  # between renders: the way a watch ends, every file complete
            progress.note("stopped watching")
            return
        started = time.perf_counter()
        try:
            result = again()
        except BroadcastError as exc:
            _err(f"broadcast: error: {exc}")
            continue
        _report(result, as_json, quiet, progress)
        progress.note(f"rendered again in {time.perf_counter() - started:.2f} s ({result.cache_misses} new "
                      f"pieces, {result.cache_hits} reused)")


def _still_to_wait(stamps: tuple, now_ns: int) -> float:
    """Seconds until files with these (mtime ns, size) stamps (None: missing) will have held still
    for `WATCH_STILL_S`; 0 when they have. A missing file, or a modification time ahead of the
    clock, waits the whole time."""
    if any(stamp is None for stamp in stamps):
        return WATCH_STILL_S
    still_for = (now_ns - max(mtime for mtime, _ in stamps)) / 1e9
    if still_for < 0:
        return WATCH_STILL_S
    return max(0.0, WATCH_STILL_S - still_for)


def _report(result, as_json: bool, quiet: bool, progress: _Progress) -> None:
    """What a render prints: its files (or the JSON summary) on stdout, a summary on stderr."""
    t = result.timeline
    if as_json:
        typer.echo(json.dumps({"version": 1, "audio": str(result.audio), "sidecars": [str(p) for p in result.sidecars],
                               "engine": result.engine, "duration_s": round(t.duration_s, 3),
                               "speakers": len(t.speakers), "loudness_lufs": round(t.loudness_lufs, 2),
                               "true_peak_dbtp": round(t.true_peak_dbtp, 2), "cache_hits": result.cache_hits,
                               "cache_misses": result.cache_misses}, indent=1))
    else:
        typer.echo(str(result.audio))
        for p in result.sidecars:
            typer.echo(str(p))
    if not quiet:
        minutes, seconds = divmod(int(round(t.duration_s)), 60)
        progress.note(f"{minutes}:{seconds:02d} of audio, {len(t.speakers)} speakers, {t.loudness_lufs:.1f} LUFS, "
                      f"true peak {t.true_peak_dbtp:.1f} dBTP, engine {result.engine} → {result.audio}")


@app.command()
@_handled
def voices(
    engine: EngineOpt = None,
    sample: Annotated[Optional[str], typer.Option("--sample", help="Text to speak as a preview.")] = None,
    voice: Annotated[Optional[str], typer.Option("--voice", help="Voice id for --sample.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the installed voices of every engine (or one); --sample writes a preview file."""
    from . import engines

    names = [engine] if engine else engines.names()
    listing = []
    for name in names:
        try:
            found = engines.get(name).voices()
            listing.append({"engine": name, "available": True, "voices": [v.__dict__ for v in found]})
        except BroadcastError as exc:
            if engine:
                raise
            listing.append({"engine": name, "available": False, "reason": str(exc), "voices": []})
    if sample is not None:
        typer.echo(str(_preview(sample, voice, engine)))
        return
    if as_json:
        typer.echo(json.dumps({"version": 1, "engines": listing}, indent=1))
        return
    for entry in listing:
        if not entry["available"]:
            typer.echo(f"{entry['engine']}: unavailable — {entry['reason']}")
            continue
        typer.echo(f"{entry['engine']}: {len(entry['voices'])} voices")
        for v in entry["voices"]:
            typer.echo(f"  {v['id']:<40} {v['language']:<8} {v['gender'] or '':<7} {v['description']}")


def _preview(text: str, voice_id: str | None, engine: str | None) -> Path:
    from . import engines, export, mixing
    from .casting import resolve_spec
    from .config import Settings, parse_voice_id
    from .export.audio import AudioWriter, encoding
    from .pipeline import Finisher

    spec = parse_voice_id(voice_id or f"{engine or 'neural'}:heart")
    voice = resolve_spec(spec, None, Settings(), "preview")
    clip = engines.get(voice.engine).synthesize(" ".join(text.split()) or "Hello.", voice)
    finish = Finisher(encoding("wav", mixing.PROGRAM_RATE, 1))
    piece = finish(clip)
    path = Path("out") / f"voice-{export.slug(voice.id)}.wav"
    writer = AudioWriter(path, "wav", finish.encoding)
    writer.piece(piece)
    writer.commit(piece.samples)
    return path


@app.command()
@_handled
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the starter file.")] = Path("voices.yaml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter voices.yaml."""
    from importlib.resources import files

    from .errors import OutputError
    from .export import write_text

    if path.exists() and not force:
        raise OutputError(f"{path}: already exists (use --force to overwrite it)")
    write_text(path, files("broadcast").joinpath("voices.yaml").read_text(encoding="utf-8"))
    typer.echo(str(path))


class _BatchProgress(_Progress):
    """The batch's bar: transcripts done, minutes of audio made, time remaining."""

    def start(self, total: int, label: str) -> None:
        if self.quiet or not sys.stderr.isatty():
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[minutes]:.1f} min of audio"), TimeRemainingColumn(),
                            console=Console(stderr=True), transient=True)
        self.bar.start()
        self.task = self.bar.add_task(label, total=total, minutes=0.0)

    def audio(self, seconds: float) -> None:
        if self.bar is not None:
            done = self.bar.tasks[0].fields["minutes"]
            self.bar.update(self.task, minutes=done + seconds / 60)


@app.command()
@_handled
def batch(
    inputs: Annotated[list[str], typer.Argument(help="Transcript files, folders (every *.txt below) or globs.",
                                                show_default=False)],
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder for the outputs.")] = Path("out"),
    voices: VoicesOpt = None,
    engine: EngineOpt = None,
    jobs: Annotated[Optional[int], typer.Option("--jobs", min=1, max=256,
                                                help="Transcripts at a time, locally (default: CPUs).")] = None,
    scheduler: Annotated[Optional[str], typer.Option("--scheduler", help="Dask scheduler: tcp://host:8786.")] = None,
    feed: Annotated[Optional[str], typer.Option("--feed", help="URL OUT is served at: writes OUT/feed.xml.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary on stderr.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Render many transcripts, skipping those up to date; locally or on a Dask cluster."""
    from .batch import report, run
    from .synthesis import keep_audio_memory

    keep_audio_memory()
    progress = _BatchProgress(quiet)
    result = run(inputs, output, voices, engine, jobs, scheduler, feed, progress)
    if as_json:
        typer.echo(json.dumps(report(result), indent=1, ensure_ascii=False))
    else:
        for entry in result.entries:
            if entry.status != "failed":
                typer.echo(str(entry.audio))
        typer.echo(str(result.report))
        if result.feed is not None:
            typer.echo(str(result.feed))
    for entry in result.failed:  # errors, so shown even with --quiet
        _err(f"broadcast: failed: {entry.error} (exit code {entry.exit_code})")
    if not quiet:
        for name, used in result.recast:
            progress.note(f"{name!r} has {len(used)} voices across the batch ({', '.join(used)}); give them "
                          f"one under 'speakers:' in voices.yaml")
        minutes, seconds = divmod(int(round(result.elapsed_s)), 60)
        audio_min = sum(e.duration_s for e in result.entries if e.status == "rendered") / 60
        progress.note(f"{result.count('rendered')} rendered ({audio_min:.1f} min of audio), {result.count('skipped')} "
                      f"up to date, {result.count('failed')} failed, in {minutes}:{seconds:02d} → {result.out}")
    if result.exit_code:
        raise typer.Exit(result.exit_code)


def main() -> None:
    """Entry point of the console script."""
    app()


if __name__ == "__main__":
    main()
