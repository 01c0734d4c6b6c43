"""The files a render leaves: the audio (MP3 or WAV) with tags and chapters, and the timeline.

Every file is written under a temporary name in its final folder and moved into place with
`os.replace` only when complete, so a failed or interrupted render never leaves a partial file
and never replaces a good one. MP3 comes from the LAME encoder inside soundfile's libsndfile
wheel (no system ffmpeg); it writes the LAME/Info header, so decoders trim the encoder delay and
the timeline's times hold in players (gapless), which a bare LAME stream would miss by ~46 ms.
"""

from __future__ import annotations

import json
import os
import queue
import re
import tempfile
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import IO

from .errors import OutputError
from .models import Timeline

AUDIO_FORMATS = ("mp3", "wav")
MP3_KBPS = 64  # mono speech: transparent enough at 24 kHz, small for phones


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


class AudioWriter:
    """Streams the program into a temporary file; `commit()` tags it and moves it into place.

    Encoding runs on its own thread behind a short queue (libsndfile releases the GIL), so the
    encoder works while the next clips are synthesized and mixed, and at most a few seconds of
    audio wait in memory.
    """

    QUEUE_CHUNKS = 8

    def __init__(self, path: Path, audio_format: str, rate: int, channels: int, kbps: int = MP3_KBPS):
        import soundfile

        prepare_folder(path)
        self.path, self.format = path, audio_format
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        os.close(fd)
        self.tmp = Path(name)
        options: dict = {"samplerate": rate, "channels": channels}
        if audio_format == "mp3":
            options.update(format="MP3", subtype="MPEG_LAYER_III", bitrate_mode="CONSTANT",
                           compression_level=_mp3_level(kbps, rate))
        else:
            options.update(format="WAV", subtype="PCM_16")
        self._file = None
        try:
            self._file = soundfile.SoundFile(self.tmp, "w", **options)
        except Exception as exc:
            self.abort()
            raise OutputError(f"{path}: cannot start the {audio_format} encoder ({exc})") from None
        self._queue: queue.Queue = queue.Queue(maxsize=self.QUEUE_CHUNKS)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._encode, name="broadcast-encoder", daemon=True)
        self._thread.start()

    def _encode(self) -> None:
        while (samples := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._file.write(samples)
                except BaseException as exc:  # reported to the writer's caller at the next call
                    self._error = exc

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            exc, self._error = self._error, None
            self.abort()
            if isinstance(exc, OSError):
                raise _failure(self.path, exc) from None
            raise OutputError(f"{self.path}: cannot write ({exc})") from None

    def write(self, samples) -> None:
        self._raise_if_failed()
        self._queue.put(samples)

    def _drain(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def commit(self, timeline: Timeline | None = None, hosts: list[str] = (), source: str = "") -> None:
        """Finish encoding, tag (MP3 with a timeline), and move the file into place."""
        self._drain()
        self._raise_if_failed()
        try:
            self._file.close()
            if self.format == "mp3" and timeline is not None:
                tag_mp3(self.tmp, timeline, list(hosts), source)
            os.chmod(self.tmp, 0o644)
            os.replace(self.tmp, self.path)
        except OSError as exc:
            self.abort()
            raise _failure(self.path, exc) from None
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        thread = getattr(self, "_thread", None)
        if thread is not None and thread.is_alive():
            self._error = self._error or OutputError("aborted")  # the encoder skips what is left
            self._queue.put(None)
            thread.join()
        try:
            if self._file is not None and not self._file.closed:
                self._file.close()
        except Exception:
            pass
        self.tmp.unlink(missing_ok=True)


def _mp3_level(kbps: int, rate: int) -> float:
    """libsndfile's compression level for a constant bitrate: 0 is the layer's highest bitrate
    and 1 its lowest (MPEG-1 32–320 kb/s at 32 kHz and up, MPEG-2 8–160 kb/s below)."""
    low, high = (32, 320) if rate >= 32000 else (8, 160)
    kbps = max(low, min(high, kbps))
    return min(0.999, (high - kbps) / (high - low) + 1e-3)


def tag_mp3(path: Path, timeline: Timeline, hosts: list[str], source: str) -> None:
    """ID3v2.3: title, artist (the hosts), album, comment with the source, and one chapter
    (CHAP, listed in a CTOC) per segment of speech, titled with its speaker."""
    from mutagen.id3 import CHAP, COMM, CTOC, ID3, TALB, TIT2, TPE1, CTOCFlags

    tags = ID3()
    title = timeline.title or Path(source).stem
    tags.add(TIT2(encoding=3, text=title))
    if hosts:
        tags.add(TPE1(encoding=3, text=", ".join(hosts)))
    tags.add(TALB(encoding=3, text=title))
    tags.add(COMM(encoding=3, lang="eng", desc="source", text=f"Rendered by broadcast from {source}"))
    chapters = []
    for n, (start, end, speaker) in enumerate(chapter_marks(timeline)):
        element = f"ch{n}"
        chapters.append(element)
        tags.add(CHAP(element_id=element, start_time=int(round(start * 1000)), end_time=int(round(end * 1000)),
                      sub_frames=[TIT2(encoding=3, text=speaker)]))
    if chapters:
        tags.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED, child_element_ids=chapters,
                      sub_frames=[TIT2(encoding=3, text="Speakers")]))
    tags.save(path, v2_version=3)


def chapter_marks(timeline: Timeline) -> list[tuple[float, float, str]]:
    """One chapter per change of speaker: (start_s, end_s, speaker), covering the program."""
    marks: list[list] = []
    for seg in timeline.segments:
        if marks and marks[-1][2] == seg.speaker:
            marks[-1][1] = seg.end_s
        else:
            marks.append([seg.start_s, seg.end_s, seg.speaker])
    for n in range(len(marks) - 1):
        marks[n][1] = marks[n + 1][0]  # chapters tile the program: each ends where the next starts
    if marks:
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
