"""What people will feed broadcast, and what they get back: the README's table of bad inputs.

Every row renders through the real command line (typer's runner) with the silence engine and
checks the exit code, the one-line message, and the files left afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from broadcast.cli import app

runner = CliRunner()
GOOD = "JANE ROE, HOST: Good evening. Here is the news.\n\nSAM LEE: Thank you, Jane.\n"


def render(tmp_path: Path, content: bytes | str | None, *extra: str, name: str = "in.txt", stdin: str | None = None):
    source = tmp_path / name
    if content is not None:
        source.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    out = tmp_path / "out" / "program.mp3"
    args = ["render", "-" if stdin is not None else str(source), "-o", str(out), "--engine", "silence", "--jobs", "1",
            *extra]
    return runner.invoke(app, args, input=stdin), out


def one_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def nothing_written(out: Path) -> bool:
    return not out.parent.exists() or not any(out.parent.iterdir())


TRANSCRIPTS = [
    # (id, content, exit code, words in the message)
    ("empty file", b"", 3, "is empty"),
    ("whitespace only", b"  \n\t\n   \n", 3, "is empty"),
    ("a PDF", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", 3, "this is a PDF, not text"),
    ("a Word file (zip)", b"PK\x03\x04\x14\x00\x06\x00word/document.xml", 3, "zip archive or Word"),
    ("an old Word file", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(200), 3, "old Word/Office file"),
    ("an MP3 by mistake", b"ID3\x04\x00\x00" + bytes(300), 3, "an MP3 file"),
    ("random binary", bytes(range(256)) * 40, 3, "binary data, not text"),
    ("only page chrome", "Play Live Radio\nNext Up:\nAvailable On Air Stations\n", 3, "nothing speakable found"),
    ("only directions", "(SOUNDBITE OF MUSIC)\n\n(LAUGHTER)\n", 3, "nothing speakable found"),
]


@pytest.mark.parametrize("content, code, words", [row[1:] for row in TRANSCRIPTS], ids=[r[0] for r in TRANSCRIPTS])
def test_transcripts_that_cannot_be_rendered(tmp_path, content, code, words):
    result, out = render(tmp_path, content)
    assert result.exit_code == code
    assert words in one_line(result)
    assert nothing_written(out)


DECODABLE = [
    ("Latin-1 (not UTF-8)", GOOD.replace("news", "café news").encode("cp1252"), "café"),
    ("UTF-16 with BOM", GOOD.encode("utf-16"), "Good evening"),
    ("UTF-8 with BOM", b"\xef\xbb\xbf" + GOOD.encode(), "Good evening"),
    ("CRLF line endings", GOOD.replace("\n", "\r\n").encode(), "Good evening"),
    ("lone CR line endings", GOOD.replace("\n", "\r").encode(), "Good evening"),
    ("control characters and U+FFFD", (GOOD.replace("Good", "Go\x07od\ufffd") + GOOD * 10).encode(), "Good evening"),
]


@pytest.mark.parametrize("content, words", [row[1:] for row in DECODABLE], ids=[r[0] for r in DECODABLE])
def test_odd_encodings_are_decoded(tmp_path, content, words):
    import json

    result, out = render(tmp_path, content)
    assert result.exit_code == 0, result.stderr
    timeline = json.loads(out.with_name("program.timeline.json").read_text())
    spoken = " ".join(s["text"] for s in timeline["segments"])
    assert words in spoken and "\ufffd" not in spoken and "\x07" not in spoken
    assert [s["name"] for s in timeline["speakers"]] == ["Jane Roe", "Sam Lee"]


def test_latin1_says_what_was_assumed(tmp_path):
    result, _ = render(tmp_path, GOOD.replace("news", "café news").encode("cp1252"))
    assert "Windows-1252" in result.stderr


def test_a_50_mb_transcript_is_refused_with_the_limit(tmp_path):
    result, out = render(tmp_path, ("SAM LEE: " + "word " * 100 + "\n\n") * 100_000)
    assert result.exit_code == 3
    assert "51 MB is larger than a transcript can be (limit 20 MB)" in one_line(result)
    assert nothing_written(out)


def test_a_20000_word_turn_renders_in_pieces(tmp_path):
    import json

    words = " ".join(f"Sentence {n} goes on." for n in range(5000))
    result, out = render(tmp_path, f"SAM LEE: {words}\n", "--announce", "never")
    assert result.exit_code == 0, result.stderr
    segments = json.loads(out.with_name("program.timeline.json").read_text())["segments"]
    assert len(segments) > 20 and {s["turn"] for s in segments} == {0}


def test_thousands_of_speakers_each_get_their_own_voice(tmp_path):
    from broadcast.casting import cast
    from broadcast.config import Settings
    from broadcast.models import Script, Speaker, Turn

    names = [f"Person Number{n}" for n in range(2000)]
    script = Script(None, tuple(Speaker(n, "guest") for n in names),
                    tuple(Turn(n, "guest", "speech", "Hello.", i + 1) for i, n in enumerate(names)))
    voices = [c.voice for c in cast(script, Settings(), "espeak").castings]
    assert len({v.id for v in voices}) == 2000
    assert len({(v.base, round(v.pitch, 3)) for v in voices}) == 2000


VOICES = [
    ("syntax error", "speakers: {\"Sam Lee\": {voice: \"espeak:gmw/en-us\"}\n", "YAML syntax error"),
    ("unknown key", "speakerz: {}\n", "unknown key 'speakerz' in voices.yaml (valid:"),
    ("wrong type", "defaults: {rate: fast}\n", "defaults.rate (words a minute) must be a number"),
    ("out of range", "defaults: {rate: 5000}\n", "must be from 80 to 400"),
    ("unknown voice", "speakers:\n  \"Sam Lee\": {voice: \"espeak:gmw/en-zz\"}\n",
     "unknown voice 'espeak:gmw/en-zz' for speaker 'Sam Lee' (run 'broadcast voices' to list them)"),
    ("unquoted NO", "speakers:\n  NO: {voice: \"espeak:gmw/en-us\"}\n", "is not read as text by YAML; quote it"),
    ("alias bomb", "lexicon:\n  a: &a [x,x,x,x,x,x,x,x,x]\n  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                   "  c: [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n", "must be a single value"),
    ("10 MB file", "lexicon:\n" + "  word: replacement\n" * 600_000, "should be a short settings file"),
]


@pytest.mark.parametrize("yaml_text, words", [row[1:] for row in VOICES], ids=[r[0] for r in VOICES])
def test_voices_yaml_problems(tmp_path, yaml_text, words):
    voices = tmp_path / "voices.yaml"
    voices.write_text(yaml_text)
    result, out = render(tmp_path, GOOD, "--voices", str(voices))
    assert result.exit_code == 4
    line = one_line(result)
    assert line.startswith(f"broadcast: error: {voices}") and words in line
    assert nothing_written(out)


def test_a_missing_voices_file(tmp_path):
    result, out = render(tmp_path, GOOD, "--voices", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 4 and "no such file (run 'broadcast init'" in one_line(result)


def test_output_folder_missing_is_made(tmp_path):
    result, out = render(tmp_path, GOOD)
    assert result.exit_code == 0 and out.exists()


def test_output_folder_is_a_file(tmp_path):
    (tmp_path / "in.txt").write_text(GOOD)
    (tmp_path / "out").write_text("a file where the folder should be")
    result = runner.invoke(app, ["render", str(tmp_path / "in.txt"), "-o", str(tmp_path / "out" / "x.mp3"),
                                 "--engine", "silence"])
    assert result.exit_code == 6 and "cannot write" in one_line(result)
    assert (tmp_path / "out").read_text() == "a file where the folder should be"


def test_output_folder_cannot_be_written(tmp_path):
    """/proc refuses new files even to root (a read-only folder does not stop root)."""
    (tmp_path / "in.txt").write_text(GOOD)
    result = runner.invoke(app, ["render", str(tmp_path / "in.txt"), "-o", "/proc/broadcast/x.mp3",
                                 "--engine", "silence"])
    assert result.exit_code == 6 and "cannot write" in one_line(result)


def test_a_title_cannot_steer_the_output_path(tmp_path, monkeypatch):
    """From standard input the file is named after the title: slugified, inside out/ (slug()
    itself is tested with `../` in test_export.py)."""
    monkeypatch.chdir(tmp_path)
    text = "Play Live Radio\n\nCrisis At Café Niño In Town\n\nGood evening and welcome to a short program tonight.\n"
    result = runner.invoke(app, ["render", "-", "--engine", "silence", "--quiet"], input=text)
    assert result.exit_code == 0, result.stderr
    audio = Path(result.stdout.splitlines()[0])
    assert audio.resolve().parent == (tmp_path / "out").resolve()
    assert audio.name == "crisis-at-cafe-nino-in-town.mp3"


def test_standard_input(tmp_path):
    result, out = render(tmp_path, None, stdin=GOOD)
    assert result.exit_code == 0 and out.exists()
