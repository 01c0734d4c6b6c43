"""The files a render leaves, each written atomically: under a temporary name in its final
folder, moved into place with `os.replace` only when complete, so a failed or interrupted render
never leaves a partial file and never replaces a good one.

    audio.py     the MP3/WAV with ID3 tags and chapters
    captions.py  WebVTT, SRT and Podcasting 2.0 chapters
    readalong.py the self-contained read-along page
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import IO

from ..errors import OutputError
from ..models import Timeline

#: Files written beside the audio on request (`--formats`): name → (module, function, suffix).
#: Each function takes (timeline, audio path) and returns the text of the file.
SIDECARS: dict[str, tuple[str, str, str]] = {
    "vtt": ("captions", "webvtt", ".vtt"),
    "srt": ("captions", "srt", ".srt"),
    "chapters": ("captions", "chapters_json", ".chapters.json"),
    "html": ("readalong", "page", ".html"),
}


def write_sidecar(name: str, timeline: Timeline, audio: Path) -> Path:
    """Write one sidecar beside `audio` (same stem), atomically; returns its path."""
    from importlib import import_module

    module, function, suffix = SIDECARS[name]
    render = getattr(import_module(f"{__name__}.{module}"), function)
    path = audio.with_name(audio.stem + suffix)
    write_text(path, render(timeline, audio))
    return path


def slug(name: str) -> str:
    """A safe file stem from any title or file name: no path separators, no `..`, ASCII only."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    cleaned = re.sub(r"[^A-Za-z0-9]+", "-", ascii_name).strip("-").lower()
    return cleaned[:80].strip("-") or "program"


def _failure(path: Path, exc: OSError) -> OutputError:
    reason = {28: "disk full", 13: "permission denied", 30: "read-only file system", 21: "is a directory",
              20: "a parent is not a directory", 36: "file name too long"}.get(exc.errno or 0, exc.strerror or str(exc))
    return OutputError(f"{path}: cannot write ({reason})")


def prepare_folder(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _failure(path.parent, exc) from None
    if path.is_dir():
        raise OutputError(f"{path}: is a directory; give a file name such as {path / 'program.mp3'}")
    if not os.access(path.parent, os.W_OK):
        raise OutputError(f"{path.parent}: cannot write (permission denied)")


@contextmanager
def atomic(path: Path, mode: str = "wb") -> Iterator[tuple[IO, Path]]:
    """A temporary file beside `path`, moved over it only when the block finishes without error."""
    prepare_folder(path)
    try:
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise _failure(path, exc) from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle, tmp
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _failure(path, exc) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    with atomic(path, "w") as (handle, _):
        handle.write(text)


def chapter_marks(timeline: Timeline) -> list[tuple[float, float, str]]:
    """One chapter per change of speaker: (start_s, end_s, speaker), tiling the program.

    What the narrator adds (the title, "Ruth Sherlock, reporter.", a narrated direction, a
    chime) opens the chapter of the speaker who follows it, so chapters are named for people."""
    marks: list[list] = []
    pending: float | None = None
    for seg in timeline.segments:
        if seg.speaker == "Narrator":
            pending = seg.start_s if pending is None else pending
            continue
        if marks and marks[-1][2] == seg.speaker:
            marks[-1][1] = seg.end_s
        else:
            marks.append([pending if pending is not None else seg.start_s, seg.end_s, seg.speaker])
        pending = None
    if marks:
        marks[0][0] = 0.0
        for n in range(len(marks) - 1):
            marks[n][1] = marks[n + 1][0]  # each chapter ends where the next starts
        marks[-1][1] = timeline.duration_s
    return [(a, b, c) for a, b, c in marks]


def timeline_json(timeline: Timeline) -> str:
    data = {
        "version": 1, "title": timeline.title, "source": timeline.source, "audio": timeline.audio,
        "duration_s": round(timeline.duration_s, 3), "sample_rate": timeline.sample_rate,
        "channels": timeline.channels, "loudness_lufs": round(timeline.loudness_lufs, 2),
        "true_peak_dbtp": round(timeline.true_peak_dbtp, 2),
        "speakers": [{"name": n, "role": r, "voice": v} for n, r, v in timeline.speakers],
        "segments": [],
    }
    for seg in timeline.segments:
        entry = asdict(seg)
        entry["start_s"], entry["end_s"] = round(seg.start_s, 3), round(seg.end_s, 3)
        if seg.turn is None:
            del entry["turn"]
        data["segments"].append(entry)
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"
