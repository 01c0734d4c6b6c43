"""Reliability: hung or crashing engines, interrupts, concurrent renders, determinism.

Each test asserts the message, the exit code and the state of the files afterwards."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from broadcast import engines, render, synthesis
from broadcast.errors import EngineError

from .test_engines import install_plugin

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def faulty_engine(tmp_path, monkeypatch):
    """The test plugin installed on sys.path, where worker processes find it too."""
    site = tmp_path / "site"
    install_plugin(site)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    engines._entry_points.cache_clear()
    engines.get.cache_clear()
    yield
    engines._entry_points.cache_clear()
    engines.get.cache_clear()


def transcript(tmp_path, words: str) -> Path:
    path = tmp_path / "t.txt"
    path.write_text(f"ANN LEE, HOST: Good evening, everyone.\n\nBO KIM: {words}\n\nLEE: Thank you both.\n")
    return path


def voices_for_faulty(tmp_path) -> Path:
    path = tmp_path / "v.yaml"
    path.write_text('engine: faulty\nroles:\n  narrator: {voice: "beeper:low"}\n')
    return path


def no_children_left():
    time.sleep(0.2)
    children = [p for p in multiprocessing.active_children() if p.name != "ForkServerProcess"]
    return not children


@pytest.mark.parametrize("word, message", [("HANG", "took longer than"), ("CRASH", "worker crashed")])
def test_a_hung_or_crashed_engine_is_stopped_and_reported(faulty_engine, tmp_path, monkeypatch, word, message):
    monkeypatch.setattr(synthesis, "CLIP_TIMEOUT_S", 3.0)
    out = tmp_path / "out" / "x.mp3"
    start = time.monotonic()
    with pytest.raises(EngineError, match=message) as caught:
        render(transcript(tmp_path, f"Words then {word} here."), out, voices=voices_for_faulty(tmp_path), jobs=2,
               cache=False)
    assert time.monotonic() - start < 30
    assert caught.value.exit_code == 5
    assert not out.exists() and not list(out.parent.glob(".*"))
    assert no_children_left()


def _default_sigint() -> None:
    # a shell starts background jobs with SIGINT ignored, and Python keeps an ignored SIGINT
    # ignored; the render under test must get Ctrl-C as it would at a terminal
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_cli(*args, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "broadcast.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint, **kw)


def long_transcript(tmp_path, example_text: str, copies: int = 6) -> Path:
    path = tmp_path / "long.txt"
    path.write_text(example_text + "\n\n" + "\n\n".join(
        f"ROE: Paragraph {n}. " + "The council met again today and the vote was close. " * 12 for n in range(copies * 8)))
    return path


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])  # in-process (engine and finishing threads), and workers
@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_render_leaves_the_old_output_and_a_sound_cache(tmp_path, sig, code, jobs):
    from .conftest import SEEDS

    source = long_transcript(tmp_path, (SEEDS / "newscast.txt").read_text())
    out = tmp_path / "show.mp3"
    out.write_bytes(b"the previous good render")
    cache = tmp_path / "cache"
    env = {**os.environ, "BROADCAST_CACHE_DIR": str(cache)}
    proc = run_cli("render", str(source), "-o", str(out), "--engine", "espeak", "--jobs", jobs, env=env)
    deadline = time.monotonic() + 60
    # interrupt once a first clip is stored whole (".tmp-*.piece" is one still being written)
    while not [p for p in cache.rglob("*.piece") if not p.name.startswith(".tmp-")] and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(sig)
    try:
        _stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == code, stderr
    assert "no partial output" in stderr and "Traceback" not in stderr
    assert out.read_bytes() == b"the previous good render"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "long.txt", "show.mp3"]
    entries = list(cache.rglob("*.piece"))
    assert entries and not list(cache.rglob(".tmp-*"))
    store = synthesis.ClipCache(entries[0].parent.parent)
    assert all(store.get(e.stem) is not None for e in entries), "every cache entry is whole"
    # the next run resumes from the cache
    again = run_cli("render", str(source), "-o", str(out), "--engine", "espeak", "--json", "--quiet", env=env)
    stdout, stderr = again.communicate(timeout=300)
    assert again.returncode == 0, stderr
    assert json.loads(stdout)["cache_hits"] >= len(entries) - 2
    assert out.read_bytes()[:3] == b"ID3"


@pytest.mark.slow
def test_two_renders_at_once_do_not_corrupt_each_other(tmp_path):
    from .conftest import SEEDS

    env = {**os.environ, "BROADCAST_CACHE_DIR": str(tmp_path / "cache")}
    out = tmp_path / "same.mp3"
    procs = [run_cli("render", str(SEEDS / "podcast.txt"), "-o", str(out), "--engine", "espeak", "--quiet",
                     "--jobs", "1", env=env) for _ in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    import soundfile

    info = soundfile.info(str(out))
    timeline = json.loads(out.with_name("same.timeline.json").read_text())
    assert abs(info.duration - timeline["duration_s"]) < 0.05
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    entries = list((tmp_path / "cache").rglob("*.piece"))
    store = synthesis.ClipCache(entries[0].parent.parent)
    assert all(store.get(e.stem) is not None for e in entries)


@pytest.mark.slow
def test_the_same_input_gives_byte_identical_audio(short_transcript, tmp_path):
    """Neural voices are seeded: two cold renders (no cache) give the same bytes. (eSpeak voices
    vary by a few samples between syntheses; with them the clip cache gives the identity.)"""
    first = render(short_transcript, tmp_path / "a.mp3", cache=False)
    second = render(short_transcript, tmp_path / "b.mp3", cache=False, jobs=1)
    assert {s.voice.split(":")[0] for s in first.timeline.segments if s.voice} == {"neural"}
    assert first.audio.read_bytes() == second.audio.read_bytes()


def test_watch_takes_a_save_once_the_files_have_held_still():
    """…counted from their modification time, so a save the poll sees late starts at once."""
    from broadcast.cli import WATCH_STILL_S, _still_to_wait

    now = 1_700_000_000 * 10**9
    ms = 10**6
    assert _still_to_wait(((now - 10 * ms, 500), (now - 900 * ms, 40)), now) == pytest.approx(WATCH_STILL_S - 0.010)
    assert _still_to_wait(((now - 200 * ms, 500), (now - 900 * ms, 40)), now) == 0.0, "saved long enough ago"
    assert _still_to_wait(((now - 200 * ms, 500), None), now) == WATCH_STILL_S, "a file missing mid-save"
    assert _still_to_wait(((now + 5000 * ms, 500),), now) == WATCH_STILL_S, "a clock behind the files' waits, no longer"


def _lines(stream, into: "queue.Queue[str]") -> None:
    for line in stream:
        into.put(line)


def _until(lines: "queue.Queue[str]", text: str, seen: list[str], timeout: float = 60) -> str:
    """The next line of `lines` that holds `text` (every line read is kept in `seen`)."""
    import queue

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        seen.append(line)
        if text in line:
            return line
    raise AssertionError(f"no line with {text!r} in {timeout} s; stderr so far: {''.join(seen)}")


@pytest.mark.parametrize("engine", ["silence", "espeak"])
def test_watch_renders_again_after_each_edit_and_survives_a_bad_one(tmp_path, short_transcript, engine):
    """`render --watch`: an edit makes one new piece and new files; a broken edit is one error
    line and the watch goes on (the last good files stay); Ctrl-C between renders ends it, 0."""
    import queue
    import threading

    out = tmp_path / "show.mp3"
    env = {**os.environ, "BROADCAST_CACHE_DIR": str(tmp_path / "cache")}
    proc = run_cli("render", str(short_transcript), "-o", str(out), "--engine", engine, "--watch", env=env)
    errors: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_lines, args=(proc.stderr, errors), daemon=True).start()
    seen: list[str] = []
    try:
        _until(errors, "watching", seen)
        first = json.loads((tmp_path / "show.timeline.json").read_text())
        text = short_transcript.read_text(encoding="utf-8")
        short_transcript.write_text(text.replace("two years of work", "three years of work"), encoding="utf-8")
        assert "(1 new pieces" in _until(errors, "rendered again", seen)
        edited = json.loads((tmp_path / "show.timeline.json").read_text())
        assert any("three years" in s["text"] for s in edited["segments"])
        assert edited["duration_s"] != first["duration_s"] or edited["segments"] != first["segments"]

        short_transcript.write_text("", encoding="utf-8")  # saved half-way, or by mistake
        assert "is empty" in _until(errors, "error", seen)
        assert json.loads((tmp_path / "show.timeline.json").read_text()) == edited, "the last good files stay"
        short_transcript.unlink()  # gone for a moment, as some editors save
        assert "no such file" in _until(errors, "error", seen)
        short_transcript.write_text(text, encoding="utf-8")
        assert "(0 new pieces" in _until(errors, "rendered again", seen), "back to the first text: all cached"
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        _until(errors, "stopped watching", seen, timeout=5)
    finally:
        proc.kill()
    assert proc.returncode == 0, "".join(seen)
    assert "Traceback" not in "".join(seen)
