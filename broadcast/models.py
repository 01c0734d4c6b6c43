"""The values that flow between stages: frozen, tuples not lists, units in the names, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # numpy stays out of `import broadcast` (cheap start-up)
    import numpy as np

Role = Literal["host", "reporter", "guest", "unidentified", "cue"]
Kind = Literal["speech", "cue"]
ROLES: tuple[str, ...] = ("host", "reporter", "guest", "unidentified", "cue")
KINDS: tuple[str, ...] = ("speech", "cue")


@dataclass(frozen=True)
class Turn:
    """One stretch of the transcript: a speaker's words, or a direction (`kind == "cue"`)."""

    speaker: str | None
    role: Role
    kind: Kind
    text: str
    line: int
    interpreted: bool = False


@dataclass(frozen=True)
class Speaker:
    name: str
    role: Role
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Dropped:
    """A line of the input that is not part of the program (page chrome, headline, footer)."""

    line: int
    text: str


@dataclass(frozen=True)
class Script:
    title: str | None
    speakers: tuple[Speaker, ...]
    turns: tuple[Turn, ...]
    dropped: tuple[Dropped, ...] = ()
    warnings: tuple[str, ...] = ()

    def speaker(self, name: str) -> Speaker:
        return next(s for s in self.speakers if s.name == name)


@dataclass(frozen=True)
class Voice:
    """How one speaker sounds: an engine's base voice, an optional transform and a pace.

    `id` is the name people write in voices.yaml (`neural:heart~deep`, `espeak:gmw/en-us+f2`);
    `pitch` (F0 scale), `formant` (spectral-envelope warp) and `tilt` (spectral slope in dB per
    octave about 1 kHz) are the transform behind it; 1.0, 1.0 and 0.0 leave the voice unchanged.
    """

    id: str
    engine: str
    base: str
    pitch: float = 1.0
    formant: float = 1.0
    rate_wpm: int = 165
    volume: float = 1.0
    tilt: float = 0.0

    @property
    def transformed(self) -> bool:
        return (self.pitch, self.formant, self.tilt) != (1.0, 1.0, 0.0)


@dataclass(frozen=True)
class Casting:
    """Who speaks with which voice, and why (`override`, `role family`, `automatic`)."""

    speaker: str
    role: str
    voice: Voice
    reason: str


@dataclass(frozen=True)
class Cast:
    castings: tuple[Casting, ...]
    narrator: Voice
    interpreters: tuple[tuple[str, Voice], ...] = ()  # (speaker, voice used for their interpreted turns)

    def voice_for(self, speaker: str, interpreted: bool = False) -> Voice:
        if interpreted:
            for name, voice in self.interpreters:
                if name == speaker:
                    return voice
        for casting in self.castings:
            if casting.speaker == speaker:
                return casting.voice
        raise KeyError(speaker)


@dataclass(frozen=True, eq=False)
class Clip:
    """Mono audio as float32 in [-1, 1], travelling with its sample rate."""

    samples: "np.ndarray" = field(repr=False)
    sample_rate: int

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate


@dataclass(frozen=True, eq=False)
class Piece:
    """One item of the program, mastered and encoded on its own where it was synthesized, ready
    to be joined: `data` (in the output's encoding) decodes to `samples` samples, the sound from
    `onset` for `length` of them, silence around it."""

    data: bytes = field(repr=False)
    samples: int
    onset: int
    length: int
    true_peak: float  # linear, of the mastered sound before encoding
    blocks: "np.ndarray" = field(repr=False)  # powers of the loudness gating blocks over the sound (float64)


@dataclass(frozen=True)
class Segment:
    index: int
    start_s: float
    end_s: float
    speaker: str
    role: str
    kind: str
    voice: str | None
    text: str
    line: int | None
    turn: int | None


@dataclass(frozen=True)
class Timeline:
    title: str | None
    source: str
    audio: str
    duration_s: float
    sample_rate: int
    channels: int
    loudness_lufs: float
    true_peak_dbtp: float
    speakers: tuple[tuple[str, str, str], ...]  # (name, role, voice id)
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Item:
    """One thing the program says or plays, in order: a speaker's words, a narrated or chimed
    direction, or an announcement the program adds (title, who is speaking)."""

    kind: str  # speech | cue | announcement
    speaker: str  # the turn's speaker, or "Narrator" for what the program adds
    role: str
    text: str  # as shown in captions and the read-along page
    spoken: str  # what the engine is given (lexicon applied); "" for a chime
    voice: Voice | None
    pause_before_ms: int
    chime: str | None = None  # music | soundbite | break | generic
    turn: int | None = None
    line: int | None = None
