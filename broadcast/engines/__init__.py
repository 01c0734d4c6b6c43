"""Speech engines behind one small interface, found by name in the `broadcast.engines`
entry-point group (ours are registered there like anyone else's, see pyproject.toml).

An engine declares `name`, `version` and `sample_rate`, lists `voices()` and implements one
`synthesize(text, voice)`. It is built once per worker process; expensive set-up belongs in
`__init__`. A package that fails to import makes its engine unavailable, not the program.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from ..errors import EngineError

if TYPE_CHECKING:
    from ..models import Clip, Voice

GROUP = "broadcast.engines"


@dataclass(frozen=True)
class VoiceInfo:
    """One installed voice, as `broadcast voices` lists it."""

    id: str  # engine:base, as written in voices.yaml
    language: str
    gender: str | None = None
    description: str = ""


class Engine:
    """Base class of speech engines; subclasses set the attributes and implement two methods."""

    name: str = ""
    version: str = ""
    sample_rate: int = 0
    #: transforms (`~name` or pitch/formant) are honoured; engines without them reject them
    supports_transforms: bool = False
    #: whether synthesis is slow enough to be worth worker processes (see pipeline.default_jobs)
    parallel: bool = True
    #: named transforms (`base~name` → (pitch, formant, tilt)) this engine offers
    transforms: dict[str, tuple[float, float, float]] = {}

    def voices(self) -> list[VoiceInfo]:
        raise NotImplementedError

    def synthesize(self, text: str, voice: Voice) -> Clip:
        """Speak `text` (non-empty, already cleaned) with `voice`; return mono float32 audio."""
        raise NotImplementedError

    def check(self) -> None:
        """Raise EngineError when the engine cannot speak here (called before a render starts)."""

    def knows(self, base: str) -> bool:
        """Whether `base` names one of this engine's voices (casting checks before synthesis)."""
        return any(v.id == f"{self.name}:{base}" for v in self.voices())


@dataclass(frozen=True)
class Availability:
    name: str
    available: bool
    reason: str = ""


@cache
def _entry_points() -> dict[str, object]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def names() -> list[str]:
    return sorted(_entry_points())


def engine_class(name: str) -> type[Engine]:
    """The engine class registered as `name`; EngineError names the engines there are."""
    eps = _entry_points()
    if name not in eps:
        raise EngineError(f"unknown engine {name!r} (available: {', '.join(sorted(eps))})")
    try:
        return eps[name].load()
    except Exception as exc:  # a third-party package may fail in any way on import
        raise EngineError(f"engine {name!r} cannot be loaded: {type(exc).__name__}: {exc}") from exc


@cache
def get(name: str) -> Engine:
    """One instance per process (workers each build their own)."""
    cls = engine_class(name)
    try:
        return cls()
    except EngineError:
        raise
    except Exception as exc:
        raise EngineError(f"engine {name!r} failed to start: {type(exc).__name__}: {exc}") from exc


def availability(name: str) -> Availability:
    try:
        get(name)
    except EngineError as exc:
        return Availability(name, False, str(exc))
    return Availability(name, True)
