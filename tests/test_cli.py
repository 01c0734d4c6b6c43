"""The command line through typer's runner: stdout carries only results, errors are one line with
the right exit code, and a failed run leaves no file behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from broadcast.cli import app

runner = CliRunner()


def run(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)


def test_help_lists_the_commands():
    result = run("--help")
    assert result.exit_code == 0
    for command in ("render", "parse", "cast", "voices", "init"):
        assert command in result.stdout


def test_parse_json_is_the_contract(short_transcript):
    result = run("parse", str(short_transcript), "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["version"] == 1 and data["title"] == "A Short Test Story"
    assert [s["name"] for s in data["speakers"]] == ["Host", "Jane Roe", "Sam Lee"]
    turn = data["turns"][1]
    assert set(turn) >= {"speaker", "role", "kind", "text", "interpreted", "line"}
    assert turn["speaker"] == "Jane Roe" and turn["role"] == "reporter" and turn["line"] == 7
    assert {"line": 1, "text": "Play Live Radio"} in data["dropped"]


def test_parse_reads_standard_input():
    result = run("parse", "-", "--json", input="JANE DOE, HOST: Hello there, everyone.\n")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["turns"][0]["speaker"] == "Jane Doe"


def test_cast_json_names_every_speaker(short_transcript):
    result = run("cast", str(short_transcript), "--engine", "espeak", "--json")
    assert result.exit_code == 0, result.stderr
    cast = json.loads(result.stdout)["cast"]
    assert {r["speaker"] for r in cast} >= {"Host", "Jane Roe", "Sam Lee", "Narrator"}
    assert len({r["voice"] for r in cast}) == len(cast)


def test_render_prints_only_paths(short_transcript, tmp_path):
    out = tmp_path / "show.mp3"
    result = run("render", str(short_transcript), "-o", str(out), "--engine", "silence", "--jobs", "1")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == [str(out), str(tmp_path / "show.timeline.json")]
    assert all(Path(line).exists() and Path(line).stem.startswith("show") for line in lines)
    assert "LUFS" in result.stderr  # the summary goes to stderr


def test_render_json(short_transcript, tmp_path):
    result = run("render", str(short_transcript), "-o", str(tmp_path / "a.mp3"), "--engine", "silence", "--json",
                 "--quiet")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["audio"] == str(tmp_path / "a.mp3") and data["speakers"] == 3
    assert result.stderr == ""


def test_render_wav(short_transcript, tmp_path):
    import soundfile

    result = run("render", str(short_transcript), "-o", str(tmp_path / "a"), "--engine", "silence",
                 "--formats", "wav", "--quiet")
    assert result.exit_code == 0
    assert soundfile.info(str(tmp_path / "a.wav")).format == "WAV"


def test_the_output_suffix_chooses_the_audio_format(short_transcript, tmp_path):
    """`-o show.wav` is a WAV file (it used to be MP3 bytes under a .wav name); a --formats that
    says otherwise is a usage error, not a mislabelled file."""
    import soundfile

    assert run("render", str(short_transcript), "-o", str(tmp_path / "b.wav"), "--engine", "silence",
               "--quiet").exit_code == 0
    assert soundfile.info(str(tmp_path / "b.wav")).format == "WAV"
    assert (tmp_path / "b.vtt").exists(), "the sidecars as usual"
    result = run("render", str(short_transcript), "-o", str(tmp_path / "c.wav"), "--formats", "mp3,vtt",
                 "--engine", "silence")
    assert result.exit_code == 2 and "disagree" in result.stderr and not (tmp_path / "c.wav").exists()


@pytest.mark.parametrize("content, words", [
    (b"", "is empty"),
    (b"   \n\n \t\n", "is empty"),
    (b"%PDF-1.7 binary", "this is a PDF, not text"),
    (b"PK\x03\x04zipzip", "zip archive"),
    (b"\x00\x01\x02\x03" * 100, "binary data"),
])
def test_bad_transcripts_exit_3_and_write_nothing(tmp_path, content, words):
    source = tmp_path / "in.txt"
    source.write_bytes(content)
    result = run("render", str(source), "-o", str(tmp_path / "out" / "x.mp3"), "--engine", "silence")
    assert result.exit_code == 3
    assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_missing_transcript(tmp_path):
    result = run("render", str(tmp_path / "nope.txt"), "-o", str(tmp_path / "x.mp3"))
    assert result.exit_code == 3
    assert result.stderr.strip() == f"broadcast: error: {tmp_path / 'nope.txt'}: no such file"
    assert not (tmp_path / "x.mp3").exists()


def test_bad_voices_file_exits_4(short_transcript, tmp_path):
    voices = tmp_path / "v.yaml"
    voices.write_text('speakers:\n  "Jane Roe": {voice: "espeak:gmw/en-xx"}\n')
    result = run("render", str(short_transcript), "--voices", str(voices), "-o", str(tmp_path / "x.mp3"))
    assert result.exit_code == 4
    assert f"{voices}:2: unknown voice 'espeak:gmw/en-xx' for speaker 'Jane Roe'" in result.stderr
    assert not (tmp_path / "x.mp3").exists()
    missing = run("render", str(short_transcript), "--voices", str(tmp_path / "none.yaml"))
    assert missing.exit_code == 4


def test_unknown_engine_exits_5(short_transcript, tmp_path):
    result = run("render", str(short_transcript), "--engine", "nope", "-o", str(tmp_path / "x.mp3"))
    assert result.exit_code == 5 and "unknown engine 'nope'" in result.stderr


def test_unwritable_output_exits_6_and_keeps_the_old_file(short_transcript, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run("render", str(short_transcript), "-o", str(blocker / "x.mp3"), "--engine", "silence")
    assert result.exit_code == 6 and "cannot write" in result.stderr
    assert blocker.read_text() == "not a folder"
    folder = tmp_path / "folder.mp3"
    folder.mkdir()
    result = run("render", str(short_transcript), "-o", str(folder), "--engine", "silence")
    assert result.exit_code == 6 and "is a directory" in result.stderr


def test_usage_errors_exit_2(short_transcript):
    assert run("render", str(short_transcript), "--announce", "sometimes").exit_code == 2
    assert run("render", str(short_transcript), "--formats", "mp3,ogg").exit_code == 2
    assert run("render").exit_code == 2


def test_a_cache_limit_that_is_not_a_number_exits_2(short_transcript, tmp_path, monkeypatch):
    monkeypatch.setenv("BROADCAST_CACHE_MB", "lots")
    result = run("render", str(short_transcript), "--engine", "silence", "-o", str(tmp_path / "x.mp3"))
    assert result.exit_code == 2 and "BROADCAST_CACHE_MB='lots' is not a number" in result.stderr
    assert not (tmp_path / "x.mp3").exists()


def test_init_writes_a_starter_and_will_not_overwrite(tmp_path):
    path = tmp_path / "voices.yaml"
    assert run("init", str(path)).exit_code == 0
    from broadcast.config import load

    load(path)  # the starter is valid
    again = run("init", str(path))
    assert again.exit_code == 6 and "--force" in again.stderr
    assert run("init", str(path), "--force").exit_code == 0


def test_voices_lists_engines_as_json():
    result = run("voices", "--json")
    assert result.exit_code == 0
    engines = {e["engine"]: e for e in json.loads(result.stdout)["engines"]}
    assert engines["neural"]["available"] and any(v["id"] == "neural:heart" for v in engines["neural"]["voices"])
    assert any(v["id"] == "espeak:gmw/en-us+f2" for v in engines["espeak"]["voices"])


def test_voices_sample_writes_a_preview(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("voices", "--sample", "Hello from the preview.", "--voice", "espeak:gmw/en-us+f2")
    assert result.exit_code == 0, result.stderr
    path = tmp_path / result.stdout.strip()
    assert path.exists() and path.stat().st_size > 10_000


def test_any_transcript_renders_or_fails_with_a_transcript_error(tmp_path):
    """Hypothesis through the real command line: only exit 0 or 3, never a traceback."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    pieces = st.sampled_from(["JANE DOE, HOST:", "DOE:", "(SOUNDBITE OF MUSIC)", "(Speaking French).", "[laughs]",
                              "Copyright NPR.", "\n", "\n\n", ":", "(", "Play Live Radio"])
    texts = st.lists(st.one_of(pieces, st.text(max_size=30)), max_size=25).map(" ".join)

    @settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(texts)
    def check(text):
        source = tmp_path / "in.txt"
        source.write_text(text, encoding="utf-8", errors="surrogatepass")
        result = run("render", str(source), "-o", str(tmp_path / "o.mp3"), "--engine", "silence", "--jobs", "1",
                     "--quiet")
        assert result.exit_code in (0, 3), result.stderr
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr

    check()


def test_a_signal_that_lands_as_a_lock_is_taken_waits_until_the_with_holds_it():
    """SIGTERM raised just after `Condition.__enter__` took its lock left the lock held for ever
    (the process pool's manager thread then blocked on it and the interpreter hung at exit). The
    handler defers the signal out of those lines; it is raised a moment later, inside the `with`,
    whose exit then gives the lock back."""
    import signal
    import sys
    import threading
    import time

    from broadcast import cli

    lock = threading.Lock()
    condition = threading.Condition(lock)
    deferred = []

    def tracer(frame, event, _arg):
        if event == "return" and frame.f_code is threading.Condition.__enter__.__code__ and not deferred:
            deferred.append(True)
            cli._on_signal(signal.SIGTERM, frame)  # as if the signal arrived here: must not raise
        return tracer

    previous = signal.signal(signal.SIGALRM, cli._on_signal)
    try:
        with pytest.raises(cli._Terminated):
            sys.settrace(tracer)
            try:
                with condition:
                    sys.settrace(None)
                    time.sleep(1)  # the deferred signal arrives within a few milliseconds
            finally:
                sys.settrace(None)
    finally:
        signal.signal(signal.SIGALRM, previous)
    assert deferred == [True]
    assert lock.acquire(blocking=False), "the lock was given back"
