"""Properties of the parser that hold for every input, checked with hypothesis.

Any text (or any bytes through `decode`) gives a Script or a TranscriptError, never another
exception; turns are well formed; and transcripts generated from labelled turns come back with the
same speakers and the same number of turns, with no label spoken.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broadcast.errors import TranscriptError
from broadcast.models import KINDS, ROLES, Script
from broadcast.transcript import decode, normalise, parse_text

FAST = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Pieces that reach the parser's branches far more often than uniform text would.
FRAGMENTS = st.sampled_from([
    "JANE DOE, HOST: ", "DOE: ", "Jane: ", "Jane Doe, Director, Some Institute: ", "S. SMITH: ",
    "Speaker 1 (00:12): ", "UNIDENTIFIED PERSON #2: ", "host: ", "Mr. DOE (Actor): ", "JD: ",
    "(SOUNDBITE OF MUSIC)", "(Through interpreter) ", "(Speaking Arabic).", "[laughs]", "(ph) ", "( )",
    "(12:41)", "[07:02:31]", "Show: ", "Note: ", "SEGMENT ONE: ", "Copyright 2026 NPR.", "©",
    "Transcript provided by NPR.", "Aired May 3, 2026 - 20:00 ET", "Play Live Radio", "hide caption",
    "A Headline Of Some Length", "Good morning.", "It was late: very late.", "\n", "\n\n", "\r\n", "\r",
    " ", ":", ".", "(", ")", "[", "]", ",", "\u00a0", "\ufffd", "\ufeff", "\t", "—", "…", "“", "O'BRIEN",
])
TEXTS = st.one_of(st.text(max_size=400), st.lists(FRAGMENTS | st.text(max_size=12), max_size=40).map("".join))


def _parse_or_error(text: str) -> Script | None:
    try:
        return parse_text(text)
    except TranscriptError as exc:
        assert str(exc) and "\n" not in str(exc)  # one line a person can act on
        return None


def _check_well_formed(script: Script, text: str) -> None:
    line_count = len(normalise(text))
    previous = 0
    for turn in script.turns:
        assert turn.role in ROLES and turn.kind in KINDS
        assert (turn.speaker is None) == (turn.role == "cue")
        assert turn.role != "cue" or turn.kind == "cue"
        assert turn.text.strip()
        assert previous <= turn.line <= line_count
        previous = turn.line
    names = [s.name for s in script.speakers]
    assert len(names) == len(set(names))
    assert {t.speaker for t in script.turns if t.speaker is not None} == set(names)
    assert all(1 <= d.line <= line_count for d in script.dropped)


@FAST
@given(TEXTS)
def test_any_text_parses_or_says_why(text: str) -> None:
    script = _parse_or_error(text)
    if script is not None:
        _check_well_formed(script, text)


@FAST
@given(st.binary(max_size=600) | st.lists(FRAGMENTS, max_size=30).map(lambda p: "".join(p).encode("utf-16")))
def test_any_bytes_decode_or_say_why(data: bytes) -> None:
    try:
        text, notes = decode(data, "input")
    except TranscriptError as exc:
        assert str(exc).startswith("input: ")
        return
    assert isinstance(text, str) and all(isinstance(n, str) for n in notes)
    script = _parse_or_error(text)
    if script is not None:
        _check_well_formed(script, text)


# -- generated well-formed transcripts ----------------------------------------------------------------

SYLLABLES = ["ka", "lo", "mi", "ru", "ze", "tan", "vor", "bel", "sin", "dra", "quo", "fen"]
NAME_WORD = st.lists(st.sampled_from(SYLLABLES), min_size=2, max_size=3).map("".join)
WORDS = st.sampled_from("the bridge opened on tuesday after two years of work and we waited a long time "
                        "for this day in our small town by the river".split())
SENTENCE = st.lists(WORDS, min_size=3, max_size=14).map(lambda w: " ".join(w).capitalize() + ".")
SPEECH = st.lists(SENTENCE, min_size=1, max_size=4).map(" ".join)


@st.composite
def transcripts(draw) -> tuple[str, list[tuple[str, str]], list[str]]:
    """(text, turns as (full name, speech), labels used), in one of the common layouts."""
    words = draw(st.lists(NAME_WORD, min_size=4, max_size=8, unique=True))
    people = [(words[i], words[i + 1]) for i in range(0, len(words) - 1, 2)]
    order = draw(st.lists(st.integers(0, len(people) - 1), min_size=1, max_size=12))
    layout = draw(st.sampled_from(["same line", "alone on line", "mixed case", "one sentence per line"]))
    lines, turns, labels, seen = [], [], [], set()
    for who in order:
        first, last = people[who]
        speech = draw(SPEECH)
        if layout == "mixed case":
            label = f"{first.title()} {last.title()}" if who not in seen else first.title()
        else:
            label = f"{first.upper()} {last.upper()}" if who not in seen else last.upper()
        seen.add(who)
        body = speech.replace(". ", ".\n") if layout == "one sentence per line" else speech
        lines.append(f"{label}:\n{body}" if layout == "alone on line" else f"{label}: {body}")
        turns.append((f"{first.title()} {last.title()}", speech))
        labels.append(label)
    return "\n\n".join(lines) + "\n", turns, labels


@settings(max_examples=150, deadline=None)
@given(transcripts())
def test_generated_transcripts_round_trip(case) -> None:
    text, expected, labels = case
    script = parse_text(text)
    assert [t.speaker for t in script.turns] == [name for name, _ in expected]
    assert {s.name for s in script.speakers} == {name for name, _ in expected}
    assert all(s.role == "guest" for s in script.speakers)
    for turn, (_, speech) in zip(script.turns, expected):
        assert turn.kind == "speech" and turn.text == speech
    for turn in script.turns:
        assert not any(turn.text.startswith(f"{label}:") or f"{label}:" in turn.text for label in labels)
    _check_well_formed(script, text)


@settings(max_examples=80, deadline=None)
@given(transcripts(), st.sampled_from(["(SOUNDBITE OF APPLAUSE)", "[MUSIC]", "(LAUGHTER)"]))
def test_directions_between_turns_stay_cues(case, direction: str) -> None:
    text, expected, _ = case
    script = parse_text(text.replace("\n\n", f"\n\n{direction}\n\n"))
    speech = [t for t in script.turns if t.kind == "speech"]
    cues = [t for t in script.turns if t.kind == "cue"]
    assert [t.speaker for t in speech] == [name for name, _ in expected]
    assert len(cues) == len(expected) - 1 and all(c.text == direction and c.speaker is None for c in cues)
