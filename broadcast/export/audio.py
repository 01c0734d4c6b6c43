"""The audio file: MP3 or WAV, streamed to a temporary file, tagged, then moved into place.

MP3 comes from the LAME encoder inside soundfile's libsndfile
wheel (no system ffmpeg); it writes the LAME/Info header, so decoders trim the encoder delay and
the timeline's times hold in players (gapless), which a bare LAME stream would miss by ~46 ms.
"""

from __future__ import annotations

import os
import queue
import tempfile
import threading
from pathlib import Path

from ..errors import OutputError
from ..models import Timeline
from . import _failure, chapter_marks, prepare_folder

AUDIO_FORMATS = ("mp3", "wav", "m4b")
MP3_KBPS = 64  # mono speech: transparent enough at 24 kHz, small for phones


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
        self.kbps = kbps
        if audio_format == "mp3":
            options.update(format="MP3", subtype="MPEG_LAYER_III", bitrate_mode="CONSTANT",
                           compression_level=_mp3_level(kbps, rate))
        else:  # WAV, or the PCM that becomes an M4B audiobook at commit
            options.update(format="WAV", subtype="PCM_16")
            if audio_format == "m4b":
                _ffmpeg()  # fail before synthesis, not after it
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
            if self.format == "m4b":
                self._to_m4b(timeline, list(hosts), source)
            os.chmod(self.tmp, 0o644)
            os.replace(self.tmp, self.path)
        except OSError as exc:
            self.abort()
            raise _failure(self.path, exc) from None
        except BaseException:
            self.abort()
            raise

    def _to_m4b(self, timeline: Timeline | None, hosts: list[str], source: str) -> None:
        """PCM → AAC in an audiobook (M4B) container with chapters, by the wheel's ffmpeg."""
        import subprocess

        meta = self.tmp.with_suffix(".ffmeta")
        out = self.tmp.with_suffix(".m4b.part")
        try:
            meta.write_text(_ffmetadata(timeline, hosts, source), encoding="utf-8")
            done = subprocess.run(
                [_ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(self.tmp),
                 "-f", "ffmetadata", "-i", str(meta), "-map", "0:a", "-map_metadata", "1", "-map_chapters", "1",
                 "-c:a", "aac", "-b:a", f"{self.kbps}k", "-f", "ipod", str(out)],
                capture_output=True, text=True, timeout=3600)
            if done.returncode != 0:
                raise OutputError(f"{self.path}: ffmpeg could not make the M4B: {done.stderr.strip()[-200:]}")
            os.replace(out, self.tmp)
        finally:
            meta.unlink(missing_ok=True)
            out.unlink(missing_ok=True)

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


def _ffmpeg() -> str:
    """The ffmpeg binary that the `imageio-ffmpeg` wheel carries (extra `[m4b]`)."""
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as exc:
        raise OutputError(f"M4B needs the ffmpeg in the imageio-ffmpeg wheel: pip install 'broadcast[m4b]' ({exc})") from None


def _ffmetadata(timeline: Timeline | None, hosts: list[str], source: str) -> str:
    """FFmpeg's metadata file: title, artist, comment, and a chapter per change of speaker."""
    def escape(text: str) -> str:
        return "".join("\\" + ch if ch in "=;#\\\n" else ch for ch in text)

    lines = [";FFMETADATA1"]
    if timeline is None:
        return "\n".join(lines) + "\n"
    title = timeline.title or Path(source).stem
    lines += [f"title={escape(title)}", f"album={escape(title)}", "genre=Speech",
              f"comment={escape('Rendered by broadcast from ' + source)}"]
    if hosts:
        lines.append(f"artist={escape(', '.join(hosts))}")
    for start, end, speaker in chapter_marks(timeline):
        lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={int(round(start * 1000))}",
                  f"END={int(round(end * 1000))}", f"title={escape(speaker)}"]
    return "\n".join(lines) + "\n"


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
