"""Captions and chapters: they parse with their own libraries, cover every turn in order, keep to
two lines of 42 characters, and take their times from the timeline."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
import srt
import webvtt

from broadcast import parse, render
from broadcast.export import chapter_marks
from broadcast.export.captions import LINE_CHARS, caption_text, chapters_json, chunk, fits, is_sound, lay_out, srt as make_srt
from broadcast.export.captions import webvtt as make_webvtt
from broadcast.models import Segment, Timeline

from .conftest import SEEDS

SEED_NAMES = ("newscast", "cable-news", "podcast")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, tuple[Timeline, Path]]:
    """Each seed rendered once (silence engine, WAV: the captions do not depend on the codec)."""
    out = tmp_path_factory.mktemp("captions")
    result = {}
    for name in SEED_NAMES:
        done = render(SEEDS / f"{name}.txt", out / f"{name}.wav", engine="silence", jobs=1,
                      formats="wav,vtt,srt,chapters")
        result[name] = (done.timeline, done.audio)
    return result


def words(text: str) -> str:
    return " ".join(text.split())


def vtt_lines(caption) -> list[str]:
    """A cue's lines as shown: tags removed, entities decoded."""
    return [html.unescape(line) for line in caption.text.split("\n")]


def srt_body(subtitle, speakers: set[str]) -> tuple[str | None, str]:
    """(speaker prefix or None, text) of one SRT subtitle."""
    content = " ".join(subtitle.content.split("\n"))
    for name in speakers:
        if content.startswith(f"{name.upper()}: "):
            return name, content[len(name) + 2:]
    return None, content


def spoken_stream(timeline: Timeline) -> str:
    return " ".join(caption_text(seg) for seg in timeline.segments)


@pytest.mark.parametrize("name", SEED_NAMES)
def test_webvtt_parses_and_covers_every_turn_in_order(rendered, name):
    timeline, audio = rendered[name]
    document = webvtt.from_string(audio.with_suffix(".vtt").read_text(encoding="utf-8"))
    captions = list(document)
    assert captions, "no cues"
    stream = " ".join(" ".join(vtt_lines(c)) for c in captions)
    assert stream == spoken_stream(timeline)

    # every spoken turn of the parsed transcript appears, whole and in order
    position = 0
    voiced = {seg.turn for seg in timeline.segments if seg.kind == "speech"}
    for n, turn in enumerate(parse(SEEDS / f"{name}.txt").turns):
        if n in voiced:
            found = stream.find(words(turn.text), position)
            assert found >= 0, f"turn {n} ({turn.speaker}) missing or out of order"
            position = found + len(words(turn.text))


@pytest.mark.parametrize("name", SEED_NAMES)
def test_webvtt_cues_name_their_speaker_and_keep_to_two_short_lines(rendered, name):
    timeline, audio = rendered[name]
    captions = list(webvtt.from_string(audio.with_suffix(".vtt").read_text(encoding="utf-8")))
    speakers = {seg.speaker for seg in timeline.segments if not is_sound(seg)}
    for caption in captions:
        lines = vtt_lines(caption)
        assert 1 <= len(lines) <= 2, caption
        assert all(0 < len(line) <= LINE_CHARS for line in lines), caption
        if caption.voice is None:
            assert lines[0].startswith("[") and lines[-1].endswith("]"), f"unnamed cue is not a sound: {caption}"
        else:
            assert caption.voice in speakers


@pytest.mark.parametrize("name", SEED_NAMES)
def test_caption_times_lie_within_their_segments(rendered, name):
    timeline, audio = rendered[name]
    captions = list(webvtt.from_string(audio.with_suffix(".vtt").read_text(encoding="utf-8")))
    spans = [(round(s.start_s, 3), round(s.end_s, 3)) for s in timeline.segments]
    previous_end = 0.0
    for caption in captions:
        start = caption.start_time.in_milliseconds() / 1000
        end = caption.end_time.in_milliseconds() / 1000
        assert start < end and start >= previous_end - 0.001, caption
        assert any(a - 0.001 <= start and end <= b + 0.001 for a, b in spans), f"{caption} outside every segment"
        previous_end = end
    # each segment's captions begin when it begins and end when it ends
    starts = {c.start_time.in_milliseconds() for c in captions}
    ends = {c.end_time.in_milliseconds() for c in captions}
    for a, b in spans:
        assert round(a * 1000) in starts and round(b * 1000) in ends


@pytest.mark.parametrize("name", SEED_NAMES)
def test_srt_parses_names_each_turn_once_and_matches_the_vtt(rendered, name):
    timeline, audio = rendered[name]
    subtitles = list(srt.parse(audio.with_suffix(".srt").read_text(encoding="utf-8")))
    speakers = {seg.speaker for seg in timeline.segments}
    bodies = [srt_body(s, speakers) for s in subtitles]
    assert " ".join(text for _, text in bodies) == spoken_stream(timeline)
    for subtitle in subtitles:
        lines = subtitle.content.split("\n")
        assert 1 <= len(lines) <= 2 and all(len(line) <= LINE_CHARS for line in lines), subtitle

    expected, previous = [], None
    for seg in timeline.segments:
        if not is_sound(seg) and (seg.turn is None or seg.turn != previous):
            expected.append(seg.speaker)
        previous = seg.turn
    assert [who for who, _ in bodies if who] == expected

    vtt = list(webvtt.from_string(audio.with_suffix(".vtt").read_text(encoding="utf-8")))
    assert subtitles[0].start.total_seconds() == vtt[0].start_time.in_milliseconds() / 1000
    assert subtitles[-1].end.total_seconds() == vtt[-1].end_time.in_milliseconds() / 1000


@pytest.mark.parametrize("name", SEED_NAMES)
def test_chapters_json_follows_chapter_marks(rendered, name):
    timeline, audio = rendered[name]
    data = json.loads(audio.with_name(f"{audio.stem}.chapters.json").read_text(encoding="utf-8"))
    assert data["version"] == "1.2.0" and data["fileName"] == audio.name
    assert data["chapters"] == [{"startTime": round(a, 3), "endTime": round(b, 3), "title": who}
                                for a, b, who in chapter_marks(timeline)]
    assert data["chapters"][0]["startTime"] == 0


def test_cues_break_at_sentences_then_clauses():
    cues = chunk("Good evening. We begin tonight in eastern Kentucky, where a line of storms tore through "
                 "the town of Carver Hollow late this afternoon. The roof is simply gone.")
    texts = [" ".join(lines) for lines in cues]
    assert texts[0] == "Good evening. We begin tonight in eastern Kentucky,"  # too short to stand alone
    assert texts[-1] == "The roof is simply gone."
    assert all(t.endswith((",", ".")) for t in texts)


def _timeline(*segments: Segment) -> Timeline:
    return Timeline("A <b>bold</b> & odd title", "x.txt", "x.mp3", segments[-1].end_s, 24000, 1, -19.0, -1.6,
                    (("Maximiliana Wolfeschlegelsteinhausen-Bergerdorff", "guest", "silence:a"),), segments)


def test_awkward_text_stays_within_limits_and_escaped():
    long_name = "Maximiliana Wolfeschlegelsteinhausen-Bergerdorff"
    text = ("See https://example.org/a/very/long/address/that/cannot/break/anywhere/at/all and "
            "<b>tags</b> & ampersands — then a very long clause without any punctuation that keeps on "
            "going well past two lines of captions for sure")
    timeline = _timeline(
        Segment(0, 0.0, 1.0, "Narrator", "cue", "cue", None, "(SOUNDBITE OF MUSIC)", 1, 0),
        Segment(1, 1.5, 20.0, long_name, "guest", "speech", "silence:a", text, 3, 1),
    )
    vtt = make_webvtt(timeline, Path("x.mp3"))
    assert "<b>" not in vtt and "&lt;b&gt;" in vtt and "&amp;" in vtt
    captions = list(webvtt.from_string(vtt))
    assert vtt_lines(captions[0]) == ["[soundbite of music]"] and captions[0].voice is None
    shown = " ".join(" ".join(vtt_lines(c)) for c in captions[1:])
    assert shown.replace(" ", "") == text.replace(" ", "")  # the address is cut where it must be
    assert all(len(line) <= LINE_CHARS for c in captions for line in vtt_lines(c))

    subtitles = list(srt.parse(make_srt(timeline, Path("x.mp3"))))
    assert subtitles[1].content.split("\n")[0] == f"{long_name.upper()}:"  # a long name takes its own line
    assert all(len(s.content.split("\n")) <= 2 for s in subtitles)
    assert all(len(line) <= LINE_CHARS for s in subtitles[2:] for line in s.content.split("\n"))
    assert json.loads(chapters_json(timeline, Path("x.mp3")))["chapters"][0]["title"] == long_name


@settings(max_examples=1000)
@given(st.text(alphabet="ab ,.", max_size=90), st.lists(st.integers(1, 45), min_size=1, max_size=2))
def test_the_quick_fit_test_agrees_with_laying_out(text, room):
    """`fits` answers what chunking asks of every added word without trying every split; it
    must say yes exactly when `lay_out` finds a layout (double, leading and trailing spaces and
    all: a line is never empty)."""
    assert fits(text, tuple(room)) == (lay_out(text, tuple(room)) is not None)
