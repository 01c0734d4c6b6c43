"""The audio file: MP3, WAV or M4B, joined from pieces into a temporary file, tagged, moved into place.

Pieces arrive encoded (the workers encode them: `encoding` gives them the format); the writer
joins them with silence between, then finishes the file: MP3 gets our gapless Info frame
(mp3.py), WAV its header (the standard library's `wave`), M4B is made from the WAV by the ffmpeg
in the `imageio-ffmpeg` wheel. None needs a system package.
"""

from __future__ import annotations

import os
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import OutputError
from ..models import Piece, Timeline
from . import _failure, chapter_marks, prepare_folder
from .mp3 import Mp3Format, to_int16

AUDIO_FORMATS = ("mp3", "wav", "m4b")
MP3_KBPS = 64  # mono speech: transparent enough at 24 kHz, small for phones


@dataclass(frozen=True)
class PcmFormat:
    """16-bit PCM (a WAV file, or the audio an M4B is made from): no delay, silence to the sample."""

    rate: int
    channels: int

    delay = 0
    granule = 1

    @property
    def key(self) -> str:
        return f"pcm16/{self.rate}/{self.channels}"

    def encode(self, pcm: np.ndarray) -> tuple[bytes, int]:
        ints = to_int16(pcm)
        return ints.tobytes(), ints.shape[0]

    def header(self) -> bytes:
        return b""

    def silence(self, samples: int, header: bytes = b"") -> tuple[bytes, int]:
        samples = max(0, samples)
        return bytes(2 * self.channels * samples), samples


def encoding(audio_format: str, rate: int, channels: int, kbps: int = MP3_KBPS) -> Mp3Format | PcmFormat:
    """How pieces of a program in `audio_format` are encoded."""
    return Mp3Format.make(rate, channels, kbps) if audio_format == "mp3" else PcmFormat(rate, channels)


class AudioWriter:
    """Joins pieces into a temporary file; `commit()` finishes and tags it and moves it into place.
    Positions count decoded samples, the format's delay included (see mixing.join)."""

    def __init__(self, path: Path, audio_format: str, encoding: Mp3Format | PcmFormat, kbps: int = MP3_KBPS):
        prepare_folder(path)
        self.path, self.format, self.encoding, self.kbps = path, audio_format, encoding, kbps  # kbps: M4B's AAC
        self.delay = encoding.delay
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        os.close(fd)
        self.tmp = Path(name)
        self.position = 0
        self._file = self._wav = None
        self._header: bytes | None = None  # an MP3 frame header of the stream (the first piece's)
        self._bytes = 0
        try:
            if audio_format == "mp3":
                self._file = open(self.tmp, "wb")
                self._file.write(bytes(encoding.info_size()))  # the Info frame's place, filled at commit
            else:  # WAV, or the PCM that becomes an M4B audiobook at commit
                if audio_format == "m4b":
                    _ffmpeg()  # fail before synthesis, not after it
                self._file = open(self.tmp, "wb")
                self._wav = wave.open(self._file, "wb")
                self._wav.setnchannels(encoding.channels)
                self._wav.setsampwidth(2)
                self._wav.setframerate(encoding.rate)
        except OutputError:
            self.abort()
            raise
        except OSError as exc:
            self.abort()
            raise _failure(path, exc) from None

    def _write(self, data: bytes) -> None:
        try:
            if self._wav is not None:
                self._wav.writeframesraw(data)
            else:
                self._file.write(data)
        except OSError as exc:
            self.abort()
            raise _failure(self.path, exc) from None
        self._bytes += len(data)

    def piece(self, piece: Piece) -> None:
        if self._header is None and len(piece.data) >= 4 and self.format == "mp3":
            self._header = piece.data[:4]
        self._write(piece.data)
        self.position += piece.samples

    def silence(self, samples: int) -> int:
        """About `samples` of silence, in the format's steps; returns how many were written."""
        data, written = self.encoding.silence(samples, self._header or self.encoding.header())
        self._write(data)
        self.position += written
        return written

    def commit(self, samples: int, timeline: Timeline | None = None, hosts: list[str] = (), source: str = "") -> None:
        """End the program at `samples` (silence is added up to there), finish the file, tag it
        (MP3 with a timeline), and move it into place."""
        try:
            short = samples + self.delay - self.position
            granule = self.encoding.granule
            if short > 0:
                self.silence(-(-short // granule) * granule)
            if self._wav is not None:
                self._wav.close()  # writes the header's sizes
            else:
                frames = self.position // self.encoding.granule
                self._file.seek(0)
                self._file.write(self.encoding.info_frame(self._header or self.encoding.header(), frames,
                                                          self._bytes, samples))
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
        for closing in (self._wav, self._file):
            try:
                if closing is not None:
                    closing.close()
            except Exception:
                pass
        self._wav = None
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
