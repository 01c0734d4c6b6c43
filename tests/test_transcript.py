"""Unit tests for the transcript reader: decoding, normalising, errors, and a large input."""

from __future__ import annotations

import time

import pytest

from broadcast.errors import ExitCode, TranscriptError
from broadcast.transcript import MAX_BYTES, decode, is_direction, normalise, parse, parse_text, read

STORY = "JANE ROE, BYLINE: The bridge opened on Tuesday.\n\nSAM LEE: We waited a long time.\n"


# -- decode ---------------------------------------------------------------------------------------------

def test_utf8_bom_is_removed_without_a_note() -> None:
    text, notes = decode("\ufeffPlay Live Radio\nCafé".encode("utf-8"))
    assert text == "Play Live Radio\nCafé" and notes == []


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_a_byte_order_mark(codec: str) -> None:
    bom = "\ufeff".encode(codec)
    text, notes = decode(bom + STORY.encode(codec))
    assert text == STORY and notes == ["decoded as UTF-16 (byte-order mark)"]


def test_utf16_without_a_byte_order_mark_is_recognised() -> None:
    text, notes = decode(STORY.encode("utf-16-le"))
    assert text == STORY and "UTF-16" in notes[0]


def test_latin1_falls_back_with_a_note() -> None:
    text, notes = decode("JOSÉ NUÑEZ: Buenos días, café.\n".encode("latin-1"))
    assert text == "JOSÉ NUÑEZ: Buenos días, café.\n"
    assert notes == ["not UTF-8: decoded as Windows-1252 (Latin-1)"]


def test_windows_1252_punctuation_survives_the_fallback() -> None:
    text, _ = decode(b"HOST: \x93Quoted\x94 \x96 and so on\x85\n")
    assert text == "HOST: “Quoted” – and so on…\n"


@pytest.mark.parametrize("data, what", [
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "a PDF"),
    (b"PK\x03\x04\x14\x00\x06\x00word/document.xml", "zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "Word"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"),
    (bytes(range(256)) * 4, "binary"),
    (b"\x00\x01\x02\x03\x04\x05\x06\x07\x08" * 50, "binary"),
    (b"\x00\x01\x02\x03" * 100, "binary"),  # every other byte zero, yet not UTF-16 text
])
def test_not_text_is_refused(data: bytes, what: str) -> None:
    with pytest.raises(TranscriptError, match=what) as caught:
        decode(data, "upload.bin")
    message = str(caught.value)
    assert message.startswith("upload.bin: ") and "\n" not in message
    assert caught.value.exit_code == ExitCode.TRANSCRIPT == 3


def test_too_large_is_refused_before_decoding() -> None:
    with pytest.raises(TranscriptError, match="larger than a transcript can be"):
        decode(b"a" * (MAX_BYTES + 1), "huge.txt")


@pytest.mark.parametrize("data", [b"", b"   \n\r\n\t  \n", "\ufeff \n".encode("utf-8")])
def test_empty_is_refused(data: bytes) -> None:
    with pytest.raises(TranscriptError, match="is empty"):
        decode(data, "empty.txt")


# -- read and parse (files) ---------------------------------------------------------------------------

def test_read_errors_are_one_line(tmp_path) -> None:
    with pytest.raises(TranscriptError, match="no such file"):
        read(tmp_path / "missing.txt")
    with pytest.raises(TranscriptError, match="is a directory"):
        read(tmp_path)
    big = tmp_path / "big.txt"
    big.write_bytes(b"word " * (MAX_BYTES // 5 + 1))
    with pytest.raises(TranscriptError, match="larger than"):
        read(big)


def test_parse_names_the_file_when_nothing_is_speakable(tmp_path) -> None:
    chrome = tmp_path / "chrome.txt"
    chrome.write_text("Play Live Radio\nNext Up:\nAvailable On Air Stations\n", encoding="utf-8")
    with pytest.raises(TranscriptError, match=r"chrome\.txt: nothing speakable found"):
        parse(chrome)


def test_parse_reports_the_decoding_note(tmp_path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes("JOSÉ NUÑEZ: Buenos días.\n".encode("latin-1"))
    script = parse(path)
    assert script.turns[0].speaker == "José Nuñez" and script.turns[0].text == "Buenos días."
    assert "Windows-1252" in script.warnings[0]


# -- normalise -----------------------------------------------------------------------------------------

def test_line_endings_keep_the_numbering() -> None:
    assert normalise("one\r\ntwo\rthree\nfour\u2028five") == ["one", "two", "three", "four", "five"]


def test_spaces_and_invisible_characters() -> None:
    lines = normalise("JANE\u00a0DOE:\u00a0Hello\u2009there\t\tfriend\u200b.  \n\ufeffsecond\ufffd line\x07\x1b ")
    assert lines == ["JANE DOE: Hello there friend.", "second line"]


def test_typography_is_kept() -> None:
    assert normalise("“Quoted” — and… ’tis") == ["“Quoted” — and… ’tis"]


def test_crlf_transcript_parses_like_lf() -> None:
    lf = parse_text(STORY)
    crlf = parse_text(STORY.replace("\n", "\r\n"))
    cr = parse_text(STORY.replace("\n", "\r"))
    assert lf == crlf == cr


# -- directions and small behaviours -------------------------------------------------------------------

@pytest.mark.parametrize("inner, expected", [
    ("SOUNDBITE OF MUSIC", True), ("Soundbite of drums", True), ("Speaking Arabic", True), ("laughs", True),
    ("Through interpreter", True), ("ph", True), ("202", False), ("12:41", False), (" ", False),
    ("the one with the blue stripe", False), ("Oregon, not Illinois", False), ("Editor's note: updated", False),
])
def test_is_direction(inner: str, expected: bool) -> None:
    assert is_direction(inner) is expected


def test_nothing_speakable_is_an_error() -> None:
    for text in ["", "\n\n", "(SOUNDBITE OF MUSIC)\n", "Play Live Radio\nDonate\n"]:
        with pytest.raises(TranscriptError):
            parse_text(text)


def test_unlabelled_text_is_the_hosts() -> None:
    script = parse_text("Good evening. Here is the news, read by nobody in particular.\n")
    assert [(t.speaker, t.role, t.kind) for t in script.turns] == [("Host", "host", "speech")]


def test_surname_label_resolves_from_the_prose() -> None:
    script = parse_text("Good evening. NPR's Ruth Sherlock reports from Beirut.\n\n"
                        "SHERLOCK: The city is quiet tonight.\n")
    assert script.turns[1].speaker == "Ruth Sherlock"


def test_shared_surname_warns() -> None:
    script = parse_text("SARAH SMITH, HOST: Hello.\n\nMICHAEL SMITH: Hi.\n\nS. SMITH: Bye.\n")
    assert script.turns[2].speaker == "Sarah Smith"
    assert any("share the surname SMITH" in w for w in script.warnings)


# -- a large transcript ---------------------------------------------------------------------------------

def _large_transcript(size: int) -> tuple[str, int]:
    """A transcript of about `size` characters: chrome, an opening, labelled turns and directions."""
    people = [("RUTH SHERLOCK, BYLINE", "SHERLOCK"), ("MUSTAFA BALI", "BALI"), ("JANE DOE, HOST", "DOE")]
    sentence = "The council voted late last night to keep the buses running (ph) until spring. "
    parts = ["Play Live Radio\nNext Up:\n\nA Headline For The Night Buses\n\n"
             "Good evening. The night buses are staying, for now.\n\n"]
    turns, n, total = 1, 0, 0
    while total < size:
        full, short = people[n % 3]
        label = full if n < 3 else short
        part = f"{label}: {sentence * (1 + n % 5)}\n\n" if n % 10 != 9 else "(SOUNDBITE OF TRAFFIC)\n\n"
        parts.append(part)
        turns, n, total = turns + 1, n + 1, total + len(part)
    parts.append("Transcript provided by NPR, Copyright NPR.\n")
    return "".join(parts), turns


def test_ten_megabytes_parse_in_linear_time() -> None:
    text, turns = _large_transcript(10_000_000)
    started = time.perf_counter()
    script = parse_text(text)
    elapsed = time.perf_counter() - started
    print(f"\n10 MB transcript: {len(script.turns)} turns in {elapsed:.2f} s")  # reported, not asserted
    assert len(script.turns) == turns
    assert [(s.name, s.role) for s in script.speakers] == [
        ("Jane Doe", "host"), ("Ruth Sherlock", "reporter"), ("Mustafa Bali", "guest")]
    assert script.title == "A Headline For The Night Buses"
    assert not any("(ph)" in t.text or "Copyright" in t.text for t in script.turns)
    assert script.dropped[-1].text == "Transcript provided by NPR, Copyright NPR."


# -- house styles beyond the fixture corpus ------------------------------------------------------------

HOUSE_STYLES = {
    "cable time stamps before labels": (
        "[14:00:00] WOLF BLITZER, CNN ANCHOR: Good evening.\n\n[14:01:10]\n\n"
        "SECRETARY OF STATE ANTONY BLINKEN: We are watching.\n\nBLITZER:Thank you.\n\n"
        "TO ORDER A VIDEO OF THIS TRANSCRIPT, PLEASE CALL 800-555-0100.\n",
        [("Wolf Blitzer", "host"), ("Antony Blinken", "guest"), ("Wolf Blitzer", "host")]),
    "stamp after the label (Rev)": (
        "Jane Doe: (00:05)\nWelcome to the show.\n\nJohn Roe: (00:09)\nThanks, Jane.\n",
        [("Jane Doe", "guest"), ("John Roe", "guest")]),
    "name and bare stamp alone (Otter)": (
        "Jane Doe  0:05\nWelcome to the show.\n\nJohn Roe  0:09\nThanks, Jane.\n\nJane Doe  0:12\nGood.\n",
        [("Jane Doe", "guest"), ("John Roe", "guest"), ("Jane Doe", "guest")]),
    "interview letters and roles": (
        "Interviewer: When did you start?\n\nQ: And then?\n\nGUEST: We kept going.\n",
        [("Interviewer", "host"), ("Q", "unidentified"), ("Guest", "guest")]),
    "names alone, established by repetition": (
        "Ira Glass\nSo this is a story.\n\nIra Glass\nAbout a dog.\n\nAct One: The Dog\n\n"
        "Sarah Koenig\nI met him in 2004.\n",
        [("Ira Glass", "guest"), ("Ira Glass", "guest"), ("Sarah Koenig", "guest")]),
    "initial and surname, then surname": (
        "A MARTÍNEZ, HOST: Good morning.\n\nLUDWIG VAN BEETHOVEN: Da da da dum.\n\n"
        "MARTÍNEZ: Again?\n\nVAN BEETHOVEN: Again.\n",
        [("A Martínez", "host"), ("Ludwig van Beethoven", "guest"), ("A Martínez", "host"),
         ("Ludwig van Beethoven", "guest")]),
    "transcription service, lower-case starts": (
        "Jane Doe: yeah so we started in march.\n\nJohn Roe: right.\n\nJane Doe: so cold.\n\nJohn Roe: anyway.\n",
        [("Jane Doe", "guest"), ("John Roe", "guest"), ("Jane Doe", "guest"), ("John Roe", "guest")]),
}


@pytest.mark.parametrize("style", HOUSE_STYLES)
def test_house_styles(style: str) -> None:
    text, expected = HOUSE_STYLES[style]
    script = parse_text(text)
    assert [(t.speaker, t.role) for t in script.turns if t.kind == "speech"] == expected
    assert not any(":" in t.text[:20] and t.text[:1].isupper() and t.text.split(":")[0].isupper()
                   for t in script.turns)  # no label spoken


def test_not_labels_in_prose() -> None:
    script = parse_text("JANE DOE, HOST: Here is what she said: the numbers are clear.\n\n"
                        "COMING UP: the weather at the top of the hour.\n\n"
                        "CIA, FBI and NSA officials said: The agencies agree.\n")
    assert [t.speaker for t in script.turns] == ["Jane Doe"]  # unlabelled paragraphs continue the turn
    assert script.turns[0].text.endswith("\n\nCIA, FBI and NSA officials said: The agencies agree.")
    assert any(d.text.startswith("COMING UP") for d in script.dropped)


def test_long_public_radio_footer_is_dropped() -> None:
    script = parse_text(
        "STEVE INSKEEP, HOST: Good morning.\n\nINSKEEP: That's all.\n\n"
        "Copyright © 2024 NPR. All rights reserved. Visit our website terms of use and permissions pages "
        "at www.npr.org for further information.\n\nNPR transcripts are created on a rush deadline by an NPR "
        "contractor. This text may not be in its final form and may be updated or revised in the future. "
        "Accuracy and availability may vary. The authoritative record of NPR’s programming is the audio "
        "record.\n")
    assert script.turns[-1].text == "That's all."
    assert len(script.dropped) == 2
