"""The stages wired together: the one place that knows them all, and what the CLI calls.

    from broadcast import render, parse
    result = render("seeds/newscast.txt")          # out/newscast.mp3 and its sidecars
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import config, engines, transcript
from .errors import EngineError
from .models import Cast, Clip, Item, Piece, Script, Timeline

if TYPE_CHECKING:
    from .export.audio import PcmFormat
    from .export.mp3 import Mp3Format

DEFAULT_OUT = Path("out")
DEFAULT_ENGINE = "neural"
FALLBACK_ENGINE = "espeak"


class Reporter:
    """Where a render tells people what it is doing; the default says nothing. The CLI passes
    one that draws a progress bar on stderr, tests pass one that records."""

    def note(self, message: str) -> None:
        """A one-line remark worth showing (a fallback, an assumption about the input)."""

    def start(self, total: int, label: str) -> None:
        """Work of `total` steps begins."""

    def advance(self, steps: int = 1) -> None:
        """`steps` more are done."""

    def finish(self) -> None:
        """The work is over (done or failed)."""


@dataclass(frozen=True)
class Plan:
    script: Script
    settings: config.Settings
    engine: str
    cast: Cast


@dataclass(frozen=True)
class Finisher:
    """What becomes of a clip where it is made (a worker): mastered to the program's level and
    ceiling (mixing.master), then encoded as a piece of the output file (export.audio). Frozen
    and plain, so it is sent to the workers; its `key` is part of every cached piece's key."""

    encoding: Mp3Format | PcmFormat  # export.audio.encoding(...): the program's rate and channels too

    @property
    def rate(self) -> int:
        return self.encoding.rate

    @property
    def key(self) -> str:
        from .mixing import MASTER_VERSION

        return f"{self.encoding.key}/{self.rate}/master-{MASTER_VERSION}"

    def __call__(self, clip: Clip, below_db: float = 0.0) -> Piece:
        import numpy as np

        from .mixing import TARGET_PER_CHANNEL_LUFS, master

        mastered = master(clip, self.rate, TARGET_PER_CHANNEL_LUFS - below_db)
        if not mastered.samples.size:
            return Piece(b"", 0, 0, 0, 0.0, mastered.blocks)
        pcm = mastered.samples[:, None]  # frames × channels: the program is mono, copied to each
        if self.encoding.channels > 1:
            pcm = np.repeat(pcm, self.encoding.channels, axis=1)
        data, samples = self.encoding.encode(pcm)
        return Piece(data, samples, self.encoding.delay, len(mastered.samples), mastered.true_peak, mastered.blocks)

    def chime(self, kind: str) -> Piece:
        from .mixing import CHIME_BELOW_SPEECH_DB, chime

        return self(Clip(chime(kind, self.rate), self.rate), CHIME_BELOW_SPEECH_DB)


@dataclass(frozen=True)
class RenderResult:
    audio: Path
    sidecars: tuple[Path, ...]
    timeline: Timeline
    engine: str
    cache_hits: int
    cache_misses: int


def parse(source: str | Path) -> Script:
    """The transcript, understood: speakers, turns, cues, and what was dropped."""
    return transcript.parse(source)


def choose_engine(requested: str | None, settings: config.Settings, reporter: Reporter) -> str:
    """The engine asked for (an error if it cannot run), else the neural engine, else eSpeak."""
    name = requested or settings.engine
    if name is not None:
        engines.get(name).check()
        return name
    try:
        engines.get(DEFAULT_ENGINE).check()
        return DEFAULT_ENGINE
    except EngineError as exc:
        reporter.note(f"the neural engine is unavailable ({exc}); using eSpeak instead")
        engines.get(FALLBACK_ENGINE).check()
        return FALLBACK_ENGINE


def plan(source: str | Path, voices: str | Path | None = None, engine: str | None = None,
         reporter: Reporter | None = None, script: Script | None = None) -> Plan:
    """Parse, load voices.yaml and cast: everything before synthesis (what `broadcast cast` shows)."""
    reporter = reporter or Reporter()
    from .casting import cast

    script = script or transcript.parse(source)
    settings = config.load(voices)
    chosen = choose_engine(engine, settings, reporter)
    return Plan(script, settings, chosen, cast(script, settings, chosen))


def warm(source: str | Path, voices: str | Path | None = None, engine: str | None = None) -> None:
    """Load each engine the cast uses into this process and have it say a word, so that the next
    render's first new clip does not wait for a model to load (about a second for the neural
    voices: import, model, phonemizer). `render --watch` does this while it waits for an edit."""
    from . import synthesis

    first: dict[str, object] = {}
    for casting in plan(source, voices, engine).cast.castings:
        first.setdefault(casting.voice.engine, casting.voice)
    synthesis.warm(list(first.values()))


def output_path(source: str | Path, output: str | Path | None, script: Script, audio_format: str) -> Path:
    if output is not None:
        path = Path(output)
        return path if path.suffix else path.with_suffix(f".{audio_format}")
    stem = transcript_stem(source, script)
    return DEFAULT_OUT / f"{stem}.{audio_format}"


def transcript_stem(source: str | Path, script: Script) -> str:
    from .export import slug

    if str(source) == "-":
        return slug(script.title or "stdin")
    return slug(Path(source).stem)


def parse_formats(formats: str | None, output: str | Path | None = None) -> tuple[str, tuple[str, ...]]:
    """`mp3,vtt,srt` → ("mp3", ("vtt", "srt")); one audio format, any sidecars. With no audio
    format named, the output's suffix chooses (`-o show.wav` is a WAV file), else MP3."""
    from .errors import UsageError
    from .export import SIDECARS
    from .export.audio import AUDIO_FORMATS

    wanted = [f.strip().lower() for f in (formats or "").split(",") if f.strip()]
    audio = [f for f in wanted if f in AUDIO_FORMATS]
    unknown = [f for f in wanted if f not in AUDIO_FORMATS and f not in SIDECARS]
    if unknown or len(audio) > 1:
        problem = f"unknown format {unknown[0]!r}" if unknown else "more than one audio format"
        raise UsageError(f"--formats: {problem} (choose one of {', '.join(AUDIO_FORMATS)} and any of "
                         f"{', '.join(SIDECARS)})")
    suffix = Path(output).suffix.lower().lstrip(".") if output is not None else ""
    if audio and suffix in AUDIO_FORMATS and suffix != audio[0]:
        raise UsageError(f"--formats {audio[0]} and -o {output} disagree: name the file .{audio[0]}")
    chosen = audio[0] if audio else suffix if suffix in AUDIO_FORMATS else "mp3"
    return chosen, tuple(SIDECARS) if formats is None else tuple(f for f in wanted if f in SIDECARS)


def default_jobs(items: tuple[Item, ...]) -> int:
    """A worker per core when an engine is slow enough to pay for its process (neural voices);
    in-process when every voice is from a fast engine. eSpeak speaks 500-1000x real time, and
    in-process it has a thread of its own beside two finishing pieces: on two cores a 114-minute
    program takes 9.7 s and 122 MB, where two workers take 9.9 s and 213 MB (benchmarks/bench.py)."""
    names = {item.voice.engine for item in items if item.voice is not None}
    if names and not any(engines.get(name).parallel for name in names):
        return 1
    return os.cpu_count() or 1


def program_rate(items: tuple[Item, ...]) -> int:
    """The engines' own rate when every voice shares one of at least 16 kHz (nothing to resample),
    else 24 kHz."""
    from .mixing import PROGRAM_RATE

    rates = {engines.get(item.voice.engine).sample_rate for item in items if item.voice is not None}
    return rates.pop() if len(rates) == 1 and min(rates) >= 16000 else PROGRAM_RATE


def render(source: str | Path, output: str | Path | None = None, voices: str | Path | None = None,
           engine: str | None = None, jobs: int | None = None, formats: str | None = None,
           announce: str = "first", cache: bool = True, reporter: Reporter | None = None) -> RenderResult:
    """Transcript → mastered audio and its sidecars. Nothing is written until the audio is complete."""
    from . import export, mixing, program, synthesis
    from .export.audio import AudioWriter, encoding

    reporter = reporter or Reporter()
    audio_format, sidecars = parse_formats(formats, output)
    script = transcript.parse(source)
    for warning in script.warnings:  # what was assumed about the input, said once
        reporter.note(warning)
    chosen = plan(source, voices, engine, reporter, script)
    items: tuple[Item, ...] = program.running_order(script, chosen.cast, chosen.settings, announce)
    path = output_path(source, output, script, audio_format)
    if jobs is None:
        jobs = default_jobs(items)
    jobs = max(1, jobs)
    clip_cache = synthesis.ClipCache(synthesis.default_cache_dir()) if cache else None
    channels = chosen.settings.channels
    rate = program_rate(items)

    finish = Finisher(encoding(audio_format, rate, channels, chosen.settings.bitrate_kbps))
    writer = AudioWriter(path, audio_format, finish.encoding, chosen.settings.bitrate_kbps)
    reporter.start(len(items), "Rendering")
    try:
        pieces = synthesis.synthesize(items, finish, jobs=min(jobs, max(1, len(items))), cache=clip_cache,
                                      on_clip=lambda _i: reporter.advance())
        mastered = mixing.join(items, pieces, writer, rate, channels)
        timeline = Timeline(
            title=script.title, source=str(source), audio=path.name, duration_s=mastered.duration_s,
            sample_rate=rate, channels=channels, loudness_lufs=mastered.loudness_lufs,
            true_peak_dbtp=mastered.true_peak_dbtp,
            speakers=tuple((c.speaker, c.role, c.voice.id) for c in chosen.cast.castings),
            segments=mastered.segments,
        )
        hosts = [s.name for s in script.speakers if s.role == "host" and s.name != "Host"]
        writer.commit(mastered.samples, timeline, hosts, str(source))
    except BaseException:
        writer.abort()
        raise
    finally:
        reporter.finish()
    if clip_cache is not None:
        clip_cache.prune()
    timeline_path = path.with_name(f"{path.stem}.timeline.json")
    export.write_text(timeline_path, export.timeline_json(timeline))
    written = [timeline_path] + [export.write_sidecar(name, timeline, path) for name in sidecars]
    return RenderResult(path, tuple(written), timeline, chosen.engine,
                        clip_cache.hits if clip_cache else 0, clip_cache.misses if clip_cache else 0)
