"""voices.yaml → validated `Settings`, every problem reported as `FILE:LINE: what (hint)`.

The file is composed (not constructed) with PyYAML's safe loader so every value keeps its line,
and walked against a schema: unknown keys, wrong types, out-of-range values and keys that YAML
reads as something other than a string (`NO:` is false) are errors, never ignored. Whether a
voice exists is checked by casting, which knows the engines; the line travels with the value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import VoicesError

MAX_BYTES = 1_000_000
MAX_NODES = 20_000  # an alias bomb expands past this long before it exhausts memory

ROLE_FAMILIES = ("host", "reporter", "guest", "unidentified", "narrator", "interpreter")
CUE_ACTIONS = ("chime", "narrate", "skip")
_VOICE_ID = re.compile(r"^([a-z][a-z0-9_\-]*):([^\s~]+)(?:~([A-Za-z0-9_\-]+))?$")


@dataclass(frozen=True)
class VoiceSpec:
    """A voice as written in voices.yaml, with where it was written."""

    id: str
    engine: str
    base: str
    transform: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class Tuning:
    """Per-role or per-speaker settings; None means "inherit"."""

    voices: tuple[VoiceSpec, ...] = ()
    rate_wpm: int | None = None
    pitch: float | None = None
    formant: float | None = None
    tilt: float | None = None
    volume: float | None = None
    line: int | None = None


@dataclass(frozen=True)
class Pauses:
    """Silences between items of the program, in milliseconds."""

    speaker_change_ms: int = 450
    same_speaker_ms: int = 250
    paragraph_ms: int = 350
    cue_ms: int = 300


@dataclass(frozen=True)
class Settings:
    engine: str | None = None  # None: the best installed (neural, else eSpeak)
    rate_wpm: int = 165
    volume: float = 1.0
    channels: int = 1  # 2: the same program on both channels, mastered to the stereo target
    bitrate_kbps: int = 64
    pauses: Pauses = field(default_factory=Pauses)
    roles: tuple[tuple[str, Tuning], ...] = ()
    speakers: tuple[tuple[str, Tuning], ...] = ()
    cues: tuple[tuple[str, str], ...] = ()  # (glob pattern, action), first match wins; "default" last
    cue_default: str = "chime"
    interpreted_from: str = "interpreter"  # or "speaker"
    lexicon: tuple[tuple[str, str], ...] = ()
    path: str | None = None

    def role(self, name: str) -> Tuning | None:
        return dict(self.roles).get(name)

    def speaker(self, name: str) -> Tuning | None:
        return dict(self.speakers).get(name)


def parse_voice_id(text: str, line: int | None = None, path: str | None = None) -> VoiceSpec:
    m = _VOICE_ID.match(text.strip())
    if not m:
        raise VoicesError(f"voice {text!r} is not of the form ENGINE:VOICE or ENGINE:VOICE~TRANSFORM "
                          f"(e.g. neural:heart~deep; run 'broadcast voices')", path, line)
    return VoiceSpec(text.strip(), m.group(1), m.group(2), m.group(3), line)


# -- the walk -------------------------------------------------------------------------------

class _Walker:
    def __init__(self, path: str):
        self.path = path
        self.nodes = 0

    def fail(self, node: Any, message: str) -> VoicesError:
        return VoicesError(message, self.path, node.start_mark.line + 1 if node is not None else None)

    def count(self, node: Any) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(node, f"more than {MAX_NODES} values (an alias bomb?); voices.yaml should be small")

    def mapping(self, node: Any, what: str) -> list[tuple[str, Any, Any]]:
        import yaml

        self.count(node)
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
            return []  # `lexicon:` with everything under it commented out
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping of keys to values")
        out, seen = [], set()
        for key, value in node.value:
            self.count(key)
            if not isinstance(key, yaml.ScalarNode) or key.tag != "tag:yaml.org,2002:str":
                shown = getattr(key, "value", "?")
                raise self.fail(key, f"key {shown!r} in {what} is not read as text by YAML; quote it "
                                     f"(\"{shown}\")")
            if key.value in seen:
                raise self.fail(key, f"key {key.value!r} appears twice in {what}")
            seen.add(key.value)
            out.append((key.value, key, value))
        return out

    def scalar(self, node: Any, what: str) -> Any:
        import yaml

        self.count(node)
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, f"{what} must be a single value")
        return yaml.SafeLoader.construct_scalar(yaml.SafeLoader(""), node), node.tag

    def string(self, node: Any, what: str) -> str:
        value, tag = self.scalar(node, what)
        if tag not in ("tag:yaml.org,2002:str",):
            raise self.fail(node, f"{what} must be text, got {value!r} (quote it)")
        return value

    def number(self, node: Any, what: str, low: float, high: float, integer: bool = False) -> float:
        value, tag = self.scalar(node, what)
        try:
            number = float(value) if tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float") else None
        except ValueError:
            number = None
        if number is None or number != number:
            raise self.fail(node, f"{what} must be a number from {low:g} to {high:g}, got {value!r}")
        if integer and number != int(number):
            raise self.fail(node, f"{what} must be a whole number, got {value!r}")
        if not low <= number <= high:
            raise self.fail(node, f"{what} must be from {low:g} to {high:g}, got {value!r}")
        return int(number) if integer else number

    def unknown(self, key_node: Any, key: str, where: str, valid: tuple[str, ...]) -> VoicesError:
        return self.fail(key_node, f"unknown key {key!r} in {where} (valid: {', '.join(valid)})")

    def tuning(self, node: Any, where: str) -> Tuning:
        import yaml

        valid = ("voice", "voices", "rate", "pitch", "formant", "tilt", "volume")
        values: dict[str, Any] = {"line": node.start_mark.line + 1}
        for key, key_node, value in self.mapping(node, where):
            if key == "voice":
                values["voices"] = (parse_voice_id(self.string(value, f"{where}.voice"),
                                                   value.start_mark.line + 1, self.path),)
            elif key == "voices":
                self.count(value)
                if not isinstance(value, yaml.SequenceNode) or not value.value:
                    raise self.fail(value, f"{where}.voices must be a non-empty list of voice ids")
                values["voices"] = tuple(parse_voice_id(self.string(v, f"{where}.voices"), v.start_mark.line + 1,
                                                        self.path) for v in value.value)
            elif key == "rate":
                values["rate_wpm"] = self.number(value, f"{where}.rate (words a minute)", 80, 400, integer=True)
            elif key == "pitch":
                values["pitch"] = self.number(value, f"{where}.pitch", 0.3, 2.0)
            elif key == "formant":
                values["formant"] = self.number(value, f"{where}.formant", 0.6, 1.5)
            elif key == "tilt":
                values["tilt"] = self.number(value, f"{where}.tilt (dB per octave)", -12.0, 12.0)
            elif key == "volume":
                values["volume"] = self.number(value, f"{where}.volume", 0.0, 2.0)
            else:
                raise self.unknown(key_node, key, where, valid)
        return Tuning(**values)


def load(path: str | Path | None) -> Settings:
    """Settings from `path`, or the built-in defaults when `path` is None."""
    if path is None:
        return Settings()
    name = str(path)
    try:
        data = Path(path).read_bytes()[: MAX_BYTES + 1]
    except FileNotFoundError:
        raise VoicesError("no such file (run 'broadcast init' to write a starter voices.yaml)", name) from None
    except IsADirectoryError:
        raise VoicesError("is a directory, not a voices.yaml file", name) from None
    except OSError as exc:
        raise VoicesError(f"cannot be read ({exc.strerror or exc})", name) from None
    if len(data) > MAX_BYTES:
        raise VoicesError(f"larger than {MAX_BYTES // 1000} kB; voices.yaml should be a short settings file", name)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise VoicesError("not UTF-8 text; save voices.yaml as UTF-8", name) from None
    return loads(text, name)


def loads(text: str, path: str = "voices.yaml") -> Settings:
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = (exc.problem or exc.context or "syntax error").strip()
        raise VoicesError(f"YAML syntax error: {problem}", path, mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise VoicesError(f"YAML error: {str(exc).splitlines()[0]}", path) from None
    if root is None:
        return Settings(path=path)
    walker = _Walker(path)
    settings = Settings(path=path)
    valid = ("engine", "defaults", "roles", "speakers", "cues", "interpreted", "lexicon")
    for key, key_node, value in walker.mapping(root, "voices.yaml"):
        if key == "engine":
            settings = replace(settings, engine=walker.string(value, "engine"))
        elif key == "defaults":
            settings = _defaults(walker, value, settings)
        elif key == "roles":
            roles = []
            for role, role_key, node in walker.mapping(value, "roles"):
                if role not in ROLE_FAMILIES:
                    raise walker.unknown(role_key, role, "roles", ROLE_FAMILIES)
                roles.append((role, walker.tuning(node, f"roles.{role}")))
            settings = replace(settings, roles=tuple(roles))
        elif key == "speakers":
            settings = replace(settings, speakers=tuple(
                (name, walker.tuning(node, f"speakers.{name!r}")) for name, _k, node in walker.mapping(value, "speakers")))
        elif key == "cues":
            cues, default = [], settings.cue_default
            for pattern, _k, node in walker.mapping(value, "cues"):
                action = walker.string(node, f"cues.{pattern!r}")
                if action not in CUE_ACTIONS:
                    raise walker.fail(node, f"cue treatment {action!r} for {pattern!r} is not one of "
                                            f"{', '.join(CUE_ACTIONS)}")
                if pattern == "default":
                    default = action
                else:
                    cues.append((pattern, action))
            settings = replace(settings, cues=tuple(cues), cue_default=default)
        elif key == "interpreted":
            for sub, sub_key, node in walker.mapping(value, "interpreted"):
                if sub != "voice_from":
                    raise walker.unknown(sub_key, sub, "interpreted", ("voice_from",))
                source = walker.string(node, "interpreted.voice_from")
                if source not in ("interpreter", "speaker"):
                    raise walker.fail(node, f"interpreted.voice_from must be 'interpreter' or 'speaker', got {source!r}")
                settings = replace(settings, interpreted_from=source)
        elif key == "lexicon":
            entries = []
            for word, word_key, node in walker.mapping(value, "lexicon"):
                if not word.strip() or len(word) > 100:
                    raise walker.fail(word_key, f"lexicon word {word!r} must be 1 to 100 characters")
                entries.append((word, walker.string(node, f"lexicon.{word!r}")))
            settings = replace(settings, lexicon=tuple(entries))
        else:
            raise walker.unknown(key_node, key, "voices.yaml", valid)
    return settings


def _defaults(walker: _Walker, node: Any, settings: Settings) -> Settings:
    valid = ("rate", "volume", "pause_ms", "same_speaker_pause_ms", "paragraph_pause_ms", "cue_pause_ms",
             "channels", "bitrate")
    pauses = settings.pauses
    for key, key_node, value in walker.mapping(node, "defaults"):
        if key == "rate":
            settings = replace(settings, rate_wpm=walker.number(value, "defaults.rate (words a minute)", 80, 400, True))
        elif key == "volume":
            settings = replace(settings, volume=walker.number(value, "defaults.volume", 0.0, 2.0))
        elif key == "pause_ms":
            pauses = replace(pauses, speaker_change_ms=walker.number(value, "defaults.pause_ms", 0, 5000, True))
        elif key == "same_speaker_pause_ms":
            pauses = replace(pauses, same_speaker_ms=walker.number(value, f"defaults.{key}", 0, 5000, True))
        elif key == "paragraph_pause_ms":
            pauses = replace(pauses, paragraph_ms=walker.number(value, f"defaults.{key}", 0, 5000, True))
        elif key == "cue_pause_ms":
            pauses = replace(pauses, cue_ms=walker.number(value, f"defaults.{key}", 0, 5000, True))
        elif key == "channels":
            settings = replace(settings, channels=walker.number(value, "defaults.channels (1 or 2)", 1, 2, True))
        elif key == "bitrate":
            settings = replace(settings, bitrate_kbps=walker.number(value, "defaults.bitrate (kb/s)", 32, 320, True))
        else:
            raise walker.unknown(key_node, key, "defaults", valid)
    return replace(settings, pauses=pauses)
