"""The running order: cue treatment, introductions, pauses and splitting."""

from __future__ import annotations

from broadcast.casting import cast
from broadcast.config import Settings, loads
from broadcast.models import Script, Speaker, Turn
from broadcast.program import chime_kind, cue_action, narration, running_order, split_text


def test_default_cue_treatment():
    s = Settings()
    assert cue_action("(Speaking Arabic).", s) == "narrate"
    assert cue_action("(SOUNDBITE OF MUSIC)", s) == "chime"
    assert cue_action("(BEGIN VIDEOTAPE)", s) == "chime"
    assert cue_action("(LAUGHTER)", s) == "skip"
    assert cue_action("[laughs]", s) == "skip"
    assert cue_action("(CROSSTALK)", s) == "skip"
    assert cue_action("(APPLAUSE)", s) == "skip"


def test_voices_yaml_patterns_come_first():
    s = loads('cues: {"LAUGHTER": narrate, "SOUNDBITE OF *": skip, default: narrate}\n')
    assert cue_action("(LAUGHTER)", s) == "narrate"
    assert cue_action("(SOUNDBITE OF MUSIC)", s) == "skip"
    assert cue_action("(BEGIN VIDEOTAPE)", s) == "narrate"


def test_chimes_differ_by_kind():
    assert chime_kind("(SOUNDBITE OF MUSIC, 'THEME')") == "music"
    assert chime_kind("(SOUNDBITE OF SIRENS)") == "soundbite"
    assert chime_kind("(BEGIN VIDEOTAPE)") == "soundbite"
    assert chime_kind("(COMMERCIAL BREAK)") == "break"
    assert chime_kind("(BELL RINGS)") == "generic"


def test_narration_reads_a_direction_plainly():
    assert narration(Turn("Mustafa Bali", "guest", "cue", "(Speaking Arabic).", 3)) == "Mustafa Bali speaks in Arabic."
    assert narration(Turn(None, "cue", "cue", "(SOUNDBITE OF CHEERING)", 3)) == "Sound of cheering."


def test_split_text_keeps_paragraphs_and_bounds_length():
    long = " ".join(f"Sentence number {i} is here." for i in range(200))
    pieces = split_text("First paragraph.\n\nSecond one. " + long)
    text = [p for p in pieces if p != "\n\n"]
    assert text[0] == "First paragraph." and pieces[1] == "\n\n"
    assert all(len(p) <= 900 for p in text)
    assert " ".join(text[1:]) == "Second one. " + long
    endless = "word " * 1000
    assert all(len(p) <= 900 for p in split_text(endless) if p != "\n\n")


def _script() -> Script:
    turns = (
        Turn("Host", "host", "speech", "Hello and welcome.", 3),
        Turn("Jane Roe", "reporter", "speech", "First paragraph.\n\nSecond paragraph.", 5),
        Turn("Sam Lee", "guest", "cue", "(Speaking Spanish).", 7),
        Turn(None, "cue", "cue", "(LAUGHTER)", 8),
        Turn("Sam Lee", "guest", "speech", "We waited.", 9, interpreted=True),
        Turn("Jane Roe", "reporter", "speech", "Back to me.", 11),
        Turn(None, "cue", "cue", "(SOUNDBITE OF MUSIC)", 12),
    )
    return Script("A Story", (Speaker("Host", "host"), Speaker("Jane Roe", "reporter"), Speaker("Sam Lee", "guest")),
                  turns)


def test_running_order_with_introductions():
    script = _script()
    settings = Settings()
    result = cast(script, settings, "neural")
    items = running_order(script, result, settings, announce="first")
    said = [(i.kind, i.speaker, i.text) for i in items]
    assert said == [
        ("announcement", "Narrator", "A Story."),
        ("speech", "Host", "Hello and welcome."),
        ("announcement", "Narrator", "Jane Roe, reporter."),
        ("speech", "Jane Roe", "First paragraph."),
        ("speech", "Jane Roe", "Second paragraph."),
        ("cue", "Narrator", "Sam Lee speaks in Spanish."),
        ("announcement", "Narrator", "Sam Lee, through an interpreter."),
        ("speech", "Sam Lee", "We waited."),
        ("speech", "Jane Roe", "Back to me."),
        ("cue", "Narrator", "(SOUNDBITE OF MUSIC)"),
    ]
    assert items[0].pause_before_ms == 0
    assert items[4].pause_before_ms == settings.pauses.paragraph_ms
    assert items[3].pause_before_ms == settings.pauses.speaker_change_ms
    assert items[-1].chime == "music" and items[-1].voice is None
    assert items[7].voice == result.voice_for("Sam Lee", interpreted=True)
    assert [i.turn for i in items] == [None, 0, None, 1, 1, None, None, 4, 5, 6]


def test_announce_never_and_always():
    script = _script()
    result = cast(script, Settings(), "neural")
    never = running_order(script, result, Settings(), announce="never")
    assert not any(i.kind == "announcement" for i in never)
    always = running_order(script, result, Settings(), announce="always")
    assert sum(i.text == "Jane Roe, reporter." for i in always) == 2
