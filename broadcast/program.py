"""`Script` + `Cast` + `Settings` → the running order: what is said or played, by whom, after
what pause. Decides cue treatment (chime, narrate, skip), speaker introductions, the lexicon
and where long turns are split; synthesis and mixing then follow the list without judgement.
"""

from __future__ import annotations

import fnmatch
import re

from .config import Settings
from .models import Cast, Item, Script, Turn

MAX_ITEM_CHARS = 900  # long paragraphs are split at sentences: parallel work, finer captions
ANNOUNCE = ("first", "always", "never")

#: Built-in cue treatment, after the patterns of voices.yaml: languages narrated, music and
#: soundbites chimed (the default), laughter, applause and crosstalk skipped.
DEFAULT_CUES: tuple[tuple[str, str], ...] = (
    ("SPEAKING *", "narrate"), ("*LAUGH*", "skip"), ("*CHUCKL*", "skip"), ("*CROSSTALK*", "skip"),
    ("*CROSS-TALK*", "skip"), ("*APPLAUSE*", "skip"),
)
_CHIMES = (
    ("break", re.compile(r"BREAK|COMMERCIAL|SPONSOR")),
    ("music", re.compile(r"MUSIC|SONG|SING|THEME|INTRO|OUTRO|JINGLE|INSTRUMENTAL")),
    ("soundbite", re.compile(r"SOUNDBITE|SOUND BITE|SOUND OF|CLIP|VIDEOTAPE|TAPE|AUDIO|VIDEO|RECORDING")),
)
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"”’)]*\s+")


def direction_words(text: str) -> str:
    """`(SOUNDBITE OF MUSIC).` → `SOUNDBITE OF MUSIC`."""
    return re.sub(r"[()\[\]]", " ", text).strip(" .").strip()


def cue_action(text: str, settings: Settings) -> str:
    """chime, narrate or skip: the first matching pattern of voices.yaml, then the built-ins."""
    words = direction_words(text)
    for pattern, action in settings.cues:
        if fnmatch.fnmatchcase(words.upper(), pattern.upper()):
            return action
    for pattern, action in DEFAULT_CUES:
        if fnmatch.fnmatchcase(words.upper(), pattern):
            return action
    return settings.cue_default


def chime_kind(text: str) -> str:
    words = direction_words(text).upper()
    return next((kind for kind, pattern in _CHIMES if pattern.search(words)), "generic")


def narration(turn: Turn) -> str:
    """A plain sentence for a direction: `(Speaking Arabic).` by Mustafa Bali →
    `Mustafa Bali speaks in Arabic.`"""
    words = " ".join(direction_words(part) for part in re.findall(r"[(\[][^)\]]*[)\]]", turn.text)) or turn.text
    m = re.match(r"(?i)speaking (?:in )?(.+)", words)
    if m and turn.speaker:
        return f"{turn.speaker} speaks in {m.group(1).strip().title()}."
    sentence = words.lower()
    sentence = re.sub(r"^soundbite of ", "sound of ", sentence)
    sentence = sentence[:1].upper() + sentence[1:]
    return f"{turn.speaker}: {sentence}." if turn.speaker else f"{sentence}."


def apply_lexicon(text: str, lexicon: tuple[tuple[str, str], ...]) -> str:
    """Whole-word, case-aware replacements: `SDF` matches `SDF`, not `sdf` or `SDFs`."""
    if not lexicon:
        return text
    table = dict(lexicon)
    pattern = re.compile(r"(?<![\w'’])(" + "|".join(re.escape(w) for w in sorted(table, key=len, reverse=True))
                         + r")(?![\w'’])")
    return pattern.sub(lambda m: table[m.group(1)], text)


def split_text(text: str, limit: int = MAX_ITEM_CHARS) -> list[str]:
    """Paragraphs, and paragraphs longer than `limit` at sentence ends (or words, as a last resort)."""
    pieces: list[str] = []
    for paragraph in (p.strip() for p in text.split("\n\n")):
        if not paragraph:
            continue
        current = ""
        for sentence in _SENTENCE_END.split(paragraph):
            while len(sentence) > limit:  # a sentence with no end in sight: cut at a space
                cut = sentence.rfind(" ", 0, limit)
                cut = cut if cut > 0 else limit
                if current:
                    pieces.append(current)
                    current = ""
                pieces.append(sentence[:cut].strip())
                sentence = sentence[cut:].strip()
            if current and len(current) + 1 + len(sentence) > limit:
                pieces.append(current)
                current = sentence
            else:
                current = f"{current} {sentence}".strip()
        if current:
            pieces.append(current)
        pieces.append("\n\n")  # paragraph marker
    return pieces


def _role_phrase(role: str) -> str:
    return {"host": "host", "reporter": "reporter", "guest": "guest"}.get(role, "")


def running_order(script: Script, cast: Cast, settings: Settings, announce: str = "first") -> tuple[Item, ...]:
    pauses = settings.pauses
    items: list[Item] = []
    narrator = cast.narrator
    last_speaker: str | None = None
    introduced: set[str] = set()

    def add(kind: str, speaker: str, role: str, text: str, voice, pause_ms: int, **extra) -> None:
        spoken = apply_lexicon(text, settings.lexicon) if voice is not None else ""
        items.append(Item(kind, speaker, role, text, spoken, voice, 0 if not items else pause_ms, **extra))

    if script.title and announce != "never":
        add("announcement", "Narrator", "narrator", script.title.rstrip(".") + ".", narrator, 0)
        last_speaker = "Narrator"

    for index, turn in enumerate(script.turns):
        if turn.kind == "cue":
            action = cue_action(turn.text, settings)
            if action == "skip":
                continue
            if action == "narrate":
                add("cue", "Narrator", "narrator", narration(turn), narrator, pauses.cue_ms, line=turn.line)
                last_speaker = "Narrator"
            else:
                add("cue", turn.speaker or "Narrator", "cue", turn.text, None, pauses.cue_ms,
                    chime=chime_kind(turn.text), turn=index, line=turn.line)
                last_speaker = None
            continue
        assert turn.speaker is not None
        voice = cast.voice_for(turn.speaker, interpreted=turn.interpreted)
        if announce == "always" or (announce == "first" and turn.speaker not in introduced):
            if turn.speaker != last_speaker and not turn.speaker.startswith(("Host", "Unidentified")):
                phrase = _role_phrase(turn.role)
                words = f"{turn.speaker}, {phrase}." if phrase else f"{turn.speaker}."
                if turn.interpreted:
                    words = f"{turn.speaker}, through an interpreter."
                add("announcement", "Narrator", "narrator", words, narrator, pauses.speaker_change_ms)
                last_speaker = "Narrator"
        introduced.add(turn.speaker)
        pause = pauses.speaker_change_ms if turn.speaker != last_speaker else pauses.same_speaker_ms
        for piece in split_text(turn.text):
            if piece == "\n\n":
                pause = pauses.paragraph_ms
                continue
            add("speech", turn.speaker, turn.role, piece, voice, pause, turn=index, line=turn.line)
            pause = pauses.same_speaker_ms  # a split paragraph goes on after a sentence-length breath
        last_speaker = turn.speaker
    return tuple(items)
