"""Captions and chapters from the timeline: WebVTT, SRT and Podcasting 2.0 JSON chapters.

Cues follow the common caption guidelines (BBC Subtitle Guidelines, DCMP Captioning Key): at
most two lines of at most 42 characters, a cue ends at a sentence end where one is near and else
at a clause boundary (`,` `;` `:` or a dash), and only a clause too long for a cue is broken
between words. A segment's time is shared among its cues in proportion to their characters: the
timeline knows when a segment starts and ends, not when each word is said, and speech rate is
close to constant within one voice.

Chimed cues (`(SOUNDBITE OF SIRENS)`, voice None) are captioned as sound descriptions,
`[soundbite of sirens]`, without a speaker: a listener who relies on captions should learn
that something is playing, as captions for the deaf and hard of hearing do for music and
effects (the DCMP Captioning Key's sound-effect rule). Narrated cues and the program's own
announcements are spoken, so they are captioned as speech by the Narrator.

The file formats are written by their well-kept libraries (`webvtt-py`, `srt`), not by hand.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from ..models import Segment, Timeline
from ..program import direction_words
from . import chapter_marks

LINE_CHARS = 42
CUE_LINES = 2
CHAPTERS_VERSION = "1.2.0"  # Podcasting 2.0 JSON chapters (podcast namespace, jsonChapters.md)

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|(?<=[.!?…][\"”’)\]])\s+")
_CLAUSE_END = re.compile(r"(?<=[,;:])\s+|(?<=\s[-–—])\s+")
_CLAUSE_PUNCTUATION = ",;:.!?…-–—"
#: Words a long clause is best cut before: conjunctions first, then prepositions.
_BREAK_BEFORE = (frozenset("and but or nor so yet because where when while which who whom whose that if".split()),
                 frozenset("at in on of for to with from by after before about into than as".split()))


@dataclass(frozen=True)
class Cue:
    """One caption: its lines as shown (the SRT speaker prefix included) and its time."""

    start_s: float
    end_s: float
    lines: tuple[str, ...]
    speaker: str | None  # None for a sound description


def is_sound(seg: Segment) -> bool:
    """A chimed cue: played as a sound, not spoken by any voice."""
    return seg.voice is None


def sound_description(seg: Segment) -> str:
    """`(SOUNDBITE OF SIRENS)` → `[soundbite of sirens]`, the bracketed form captions use."""
    return f"[{direction_words(seg.text).lower() or 'sound'}]"


def caption_text(seg: Segment) -> str:
    """What a segment's captions say: its words, or the description of its sound."""
    return sound_description(seg) if is_sound(seg) else " ".join(seg.text.split())


def lay_out(text: str, room: tuple[int, ...]) -> list[str] | None:
    """`text` as at most `len(room)` lines, line n at most `room[n]` characters, or None.

    Of two-line layouts the most balanced wins, bar a bonus for a break at a clause boundary.
    """
    if len(text) <= room[0]:
        return [text]
    if len(room) < 2:
        return None
    best: tuple[float, list[str]] | None = None
    for space in re.finditer(" ", text):
        first, second = text[:space.start()], text[space.end():]
        if not first or not second or len(first) > room[0] or len(second) > room[1]:
            continue
        score = abs(len(first) - len(second)) - _break_bonus(first, second)
        if best is None or score < best[0]:
            best = (score, [first, second])
    return best[1] if best else None


def fits(text: str, room: tuple[int, ...]) -> bool:
    """Whether `lay_out(text, room)` has a layout, without scoring them: the split at the last
    space the first line has room for leaves the shortest second line (chunking asks this for
    every word it adds, so it must not try every split)."""
    if len(text) <= room[0]:
        return True
    space = text.rfind(" ", 0, room[0] + 1)
    while space == len(text) - 1:  # a break at a trailing space leaves no second line
        space = text.rfind(" ", 0, space)
    return len(room) >= 2 and space > 0 and len(text) - space - 1 <= room[1]


def _break_bonus(before: str, after: str) -> int:
    """How much a line break between these words is worth, in characters of imbalance."""
    if before[-1] in _CLAUSE_PUNCTUATION:
        return 20
    last, word = before.rsplit(" ", 1)[-1], after.split(" ", 1)[0]
    if last[:1].isupper() and word[:1].isupper():
        return -10  # inside a name: Alder / Falls
    return 10 if word.lower() in _BREAK_BEFORE[0] else 5 if word.lower() in _BREAK_BEFORE[1] else 0


def _sentences(text: str) -> list[list[str]]:
    """Sentences, each a list of clauses."""
    return [[c for c in _CLAUSE_END.split(s) if c] for s in _SENTENCE_END.split(text) if s]


def chunk(text: str, first_room: tuple[int, ...] = (LINE_CHARS,) * CUE_LINES) -> list[list[str]]:
    """`text` as caption cues (each a list of lines), cut at sentence ends where the next whole
    sentence does not fit (unless the cue so far is under half a line: too brief to read), else
    at clause boundaries, and only within a clause too long for one cue between words. The first
    cue may have less room (a speaker prefix, in SRT)."""
    room_rest = (LINE_CHARS,) * CUE_LINES
    cues: list[list[str]] = []
    current = ""

    def room() -> tuple[int, ...]:
        return first_room if not cues else room_rest

    def fits_room(candidate: str) -> bool:
        return fits(candidate, room())

    def flush() -> None:
        nonlocal current
        if current:
            cues.append(lay_out(current, room()))
            current = ""

    def add_words(clause: str) -> None:
        """A clause too long for a cue: cue after cue of as many words as fit, cut before a
        conjunction or preposition in the second half of the cue where there is one."""
        nonlocal current
        words = clause.split()
        while words:
            while not fits_room(words[0]):  # longer than a line (an address): cut it
                current = words[0][:room()[0]]
                words[0] = words[0][room()[0]:]
                flush()
            n = 1
            while n < len(words) and fits_room(" ".join(words[:n + 1])):
                n += 1
            if n < len(words):
                n = next((k for tier in _BREAK_BEFORE for k in range(n, n // 2, -1) if words[k].lower() in tier), n)
            current = " ".join(words[:n])
            words = words[n:]
            if words:
                flush()

    for sentence in _sentences(text):
        whole = " ".join(sentence)
        if current and fits_room(f"{current} {whole}"):
            current = f"{current} {whole}"
            continue
        if len(current) >= LINE_CHARS // 2:  # a new sentence starts a new cue, unless the
            flush()                          # one before is too short to read on its own
        for clause in sentence:
            if current and fits_room(f"{current} {clause}"):
                current = f"{current} {clause}"
                continue
            if current and len(current) < LINE_CHARS // 2:  # too brief alone: run into the clause
                current, clause = "", f"{current} {clause}"
            flush()
            if fits_room(clause):
                current = clause
            else:
                add_words(clause)
    flush()
    return cues


def segment_cues(seg: Segment, prefix: str = "") -> list[Cue]:
    """The cues of one segment, sharing its time in proportion to their characters (a prefix,
    which is not spoken, takes no time)."""
    text = caption_text(seg)
    short_prefix = bool(prefix) and len(prefix) + 1 <= LINE_CHARS // 2
    if short_prefix:
        laid = chunk(text, (LINE_CHARS - len(prefix) - 1, LINE_CHARS))
    else:  # a long name takes the first line of the first cue to itself
        laid = chunk(text, (LINE_CHARS,) if prefix else (LINE_CHARS,) * CUE_LINES)
    if not laid:
        return []
    weights = [sum(len(line) for line in lines) for lines in laid]
    if short_prefix:
        laid[0][0] = f"{prefix} {laid[0][0]}"
    elif prefix:
        laid[0].insert(0, prefix)
    total = sum(weights) or 1
    span = seg.end_s - seg.start_s
    speaker = None if is_sound(seg) else seg.speaker
    cues, done = [], 0
    for lines, weight in zip(laid, weights):
        start = seg.start_s + span * done / total
        done += weight
        end = seg.start_s + span * done / total
        cues.append(Cue(round(start, 3), round(end, 3), tuple(lines), speaker))
    return cues


def _timestamp(seconds: float) -> str:
    ms = int(round(seconds * 1000))
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def webvtt(timeline: Timeline, audio: Path) -> str:
    """WebVTT with the speaker as a voice span (`<v Ruth Sherlock>`) on every spoken cue;
    cue text is escaped as the format requires (`&`, `<`, `>`)."""
    import webvtt as webvtt_py

    document = webvtt_py.WebVTT()
    for seg in timeline.segments:
        for cue in segment_cues(seg):
            lines = [html.escape(line, quote=False) for line in cue.lines]
            if cue.speaker is not None:
                lines[0] = f"<v {html.escape(cue.speaker, quote=False)}>{lines[0]}"
            document.captions.append(webvtt_py.Caption(_timestamp(cue.start_s), _timestamp(cue.end_s), lines))
    return document.content


def srt(timeline: Timeline, audio: Path) -> str:
    """SubRip with `RUTH SHERLOCK:` before the first cue of each turn (each announcement is a
    turn of its own); sound descriptions carry no name."""
    import srt as srt_lib

    subtitles, previous_turn = [], None
    for seg in timeline.segments:
        new_turn = seg.turn is None or seg.turn != previous_turn
        prefix = f"{seg.speaker.upper()}:" if new_turn and not is_sound(seg) else ""
        previous_turn = seg.turn
        for cue in segment_cues(seg, prefix):
            subtitles.append(srt_lib.Subtitle(len(subtitles) + 1, timedelta(seconds=cue.start_s),
                                              timedelta(seconds=cue.end_s), "\n".join(cue.lines)))
    return srt_lib.compose(subtitles)


def chapters_json(timeline: Timeline, audio: Path) -> str:
    """Podcasting 2.0 JSON chapters: one per change of speaker, as in the MP3's own chapters."""
    data: dict = {"version": CHAPTERS_VERSION}
    if timeline.title:
        data["title"] = timeline.title
    data["fileName"] = timeline.audio
    data["chapters"] = [{"startTime": round(start, 3), "endTime": round(end, 3), "title": speaker}
                        for start, end, speaker in chapter_marks(timeline)]
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"
