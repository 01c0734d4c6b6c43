"""MP3 made of pieces: each item encoded apart by LAME (the `lameenc` wheel), joined at silences,
with the LAME "Info" frame written for the whole.

Why pieces: a piece depends on its own clip alone, so pieces are encoded in the workers that
synthesized them (encoding is the largest serial cost of a render otherwise), cached with the
clip, and a re-render after editing one turn encodes one piece. Each piece is a complete LAME
stream: its first frame takes nothing from an earlier frame's bit reservoir, so a decoder can
run from one piece into the next. A piece decodes to `DELAY` samples of silence (LAME's encoder
delay and the decoder's), then its input, then silence to the end of its last frame; joined
pieces keep those silences, and the pauses between items are made of all-zero frames that
decode to exact silence (the pause is rounded to a frame, 24 ms at 24 kHz). Both mpg123 and
ffmpeg decode a joined file sample-exactly where the layout says (tests/test_mp3.py).

lameenc leaves out the Info frame that LAME's command line writes first. Without it a player
cannot know the delay and plays it, so every time in the timeline would be 46 ms early at
24 kHz; we write it ourselves: a silent first frame that decoders recognise and skip, carrying
the frame and byte counts, a seek table, and the delay and padding to trim.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

ENCODER_DELAY = 576  # LAME's own delay for Layer III, in samples
DECODER_DELAY = 529  # the synthesis filterbank's, which decoders trim with it
DELAY = ENCODER_DELAY + DECODER_DELAY
# LAME's trade of speed and search (0 slowest .. 9 fastest; 5 is its default). For speech at 64 kb/s
# 7 encodes 40 % faster than 5 (28 min of our program: 3.0 s against 4.9 s) with no loss we could
# measure (waveform SNR 25.4 dB against 24.7).
QUALITY = 7
#: LAME scales its input by 0.95 by default (headroom for decoders), and lameenc cannot change
#: that: a file decoded 0.45 dB under the level we mastered (measured on sines and on speech at
#: every bitrate and quality). The input is raised by as much, so the file plays at the level the
#: timeline reports.
LAME_SCALE = 0.95
_BITRATES = {  # kb/s by bitrate index, for MPEG-1 and for MPEG-2/2.5 Layer III
    1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_RATES = {0b11: (44100, 48000, 32000), 0b10: (22050, 24000, 16000), 0b00: (11025, 12000, 8000)}


def _crc16(data: bytes, crc: int = 0) -> int:
    """CRC-16/ARC, as LAME stamps its tag."""
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def to_int16(pcm: np.ndarray, gain: float = 1.0) -> np.ndarray:
    """Float samples in [-1, 1], times `gain`, as little-endian 16-bit integers (what LAME and
    WAV take). In place on one temporary: this runs over every sample of the program."""
    scaled = np.multiply(pcm, np.float32(32767.0 * gain), dtype=np.float32)
    np.clip(scaled, -32767.0, 32767.0, out=scaled)
    np.rint(scaled, out=scaled)
    return scaled.astype("<i2")


def _frame_size(mpeg1: bool, kbps: int, rate: int) -> int:
    """Bytes in a Layer III frame without its padding byte."""
    return (144000 if mpeg1 else 72000) * kbps // rate


def _frame_length(key: int) -> int:
    """Frame length in bytes (without padding) for a header's second and third bytes, 0 where
    they are no Layer III frame."""
    version, layer, index, rate_index = (key >> 11) & 3, (key >> 9) & 3, (key >> 4) & 15, (key >> 2) & 3
    if key >> 13 != 0b111 or layer != 0b01 or version == 0b01 or index in (0, 15) or rate_index == 3:
        return 0
    mpeg1 = version == 0b11
    return _frame_size(mpeg1, _BITRATES[1 if mpeg1 else 2][index], _RATES[version][rate_index])


_LENGTHS: dict[int, int] = {}  # _frame_length by key, filled as keys are met (a stream has one or two)


def frame_sizes(data: bytes) -> list[int]:
    """The length in bytes of each frame of an MP3 stream (no tags), read from the headers."""
    sizes, at, end, lengths = [], 0, len(data) - 3, _LENGTHS
    while at < end:
        key = data[at + 1] << 8 | data[at + 2]
        length = lengths.get(key)
        if length is None:
            length = lengths[key] = _frame_length(key)
        if data[at] != 0xFF or not length:
            raise ValueError(f"no MP3 frame at byte {at}")
        sizes.append(length + ((key >> 1) & 1))
        at += sizes[-1]
    if at != len(data):
        raise ValueError("the MP3 stream ends inside a frame")
    return sizes


@dataclass(frozen=True)
class Mp3Format:
    """Constant-bitrate MP3 at the program's rate: how pieces are encoded, and the silence and
    Info frame that join them into one file."""

    rate: int
    channels: int
    kbps: int  # a bitrate the layer allows (`Mp3Format.make` picks the nearest below)

    delay = DELAY

    @classmethod
    def make(cls, rate: int, channels: int, kbps: int) -> Mp3Format:
        table = _BITRATES[1 if rate >= 32000 else 2]
        return cls(rate, channels, max((b for b in table if 0 < b <= kbps), default=table[1]))

    @property
    def key(self) -> str:
        """What changes the bytes of a piece: for the clip cache."""
        from importlib.metadata import version

        return f"mp3/{self.rate}/{self.channels}/{self.kbps}/q{QUALITY}/lameenc-{version('lameenc')}"

    @property
    def mpeg1(self) -> bool:
        return self.rate >= 32000

    @property
    def granule(self) -> int:
        """Samples a frame holds: silence is made in whole frames."""
        return 1152 if self.mpeg1 else 576

    def encode(self, pcm: np.ndarray) -> tuple[bytes, int]:
        """PCM (float32, frames × channels) → one complete MP3 stream and the number of samples it
        decodes to (whole frames: `DELAY`, the input, silence to the end of the last frame)."""
        import lameenc

        lame = lameenc.Encoder()
        lame.set_in_sample_rate(self.rate)
        lame.set_out_sample_rate(self.rate)  # LAME would resample low bitrates, breaking the layout
        lame.set_channels(self.channels)
        lame.set_bit_rate(self.kbps)
        lame.set_quality(QUALITY)
        ints = to_int16(pcm, 1 / LAME_SCALE)
        data = bytes(lame.encode(ints.tobytes())) + bytes(lame.flush())
        return data, len(frame_sizes(data)) * self.granule

    def silence(self, samples: int, header: bytes) -> tuple[bytes, int]:
        """About `samples` of silence as whole all-zero frames (main data of length zero decodes
        to zeros in every decoder); `header` is a frame header of the stream. Returns the bytes
        and the samples they decode to."""
        frames = max(0, round(samples / self.granule))
        word = struct.unpack(">I", header)[0] & ~(1 << 9)  # unpadded
        return (struct.pack(">I", word) + bytes(self._frame_bytes(self.kbps) - 4)) * frames, frames * self.granule

    def header(self) -> bytes:
        """A frame header for these settings, for a file with no encoded frame to take one from."""
        version = 0b11 if self.mpeg1 else 0b10
        rate_index = _RATES[version].index(self.rate) if self.rate in _RATES[version] else 1
        mode = 0b11 if self.channels == 1 else 0b01
        index = _BITRATES[1 if self.mpeg1 else 2].index(self.kbps)
        word = ((0x7FF << 21) | (version << 19) | (0b01 << 17) | (1 << 16) | (index << 12) | (rate_index << 10)
                | (mode << 6))
        return struct.pack(">I", word)

    @property
    def _side_info_bytes(self) -> int:
        return (17 if self.channels == 1 else 32) if self.mpeg1 else (9 if self.channels == 1 else 17)

    def _frame_bytes(self, kbps: int) -> int:
        return _frame_size(self.mpeg1, kbps, self.rate)

    def _info_bitrate_index(self) -> int:
        """The smallest bitrate whose frame holds header, side info, Xing (120) and LAME (36) parts."""
        table = _BITRATES[1 if self.mpeg1 else 2]
        need = 4 + self._side_info_bytes + 120 + 36
        return next(i for i, b in enumerate(table) if b and self._frame_bytes(b) >= need)

    def info_size(self) -> int:
        """Bytes the Info frame takes: reserve them at the start of the file, fill them at the end."""
        return self._frame_bytes(_BITRATES[1 if self.mpeg1 else 2][self._info_bitrate_index()])

    def info_frame(self, header: bytes, frames: int, audio_bytes: int, samples: int) -> bytes:
        """The Info frame for `frames` frames of `audio_bytes` bytes that should decode to
        `samples` samples (at most `frames × granule − DELAY`): decoders skip the delay at the
        start and the rest after `samples`."""
        word = struct.unpack(">I", header)[0]
        word = (word & ~(0xF << 12) & ~(1 << 9)) | (self._info_bitrate_index() << 12)
        size = self.info_size()
        padding = frames * self.granule - ENCODER_DELAY - samples
        if padding < DECODER_DELAY:
            raise ValueError(f"{samples} samples do not fit in {frames} frames")
        total = size + audio_bytes
        toc = bytes(min(255, i * 256 // 100) for i in range(100))
        xing = b"Info" + struct.pack(">IIII", 0x0F, frames, total, 0)[:12] + toc + struct.pack(">I", 50)
        lame = bytearray(b"LAME3.100")
        lame += bytes([0x01])  # tag revision 0, CBR
        lame += bytes([min(255, self.rate // 2 // 100)])  # lowpass, in 100 Hz
        lame += bytes(4 + 2 + 2)  # peak, radio and audiophile gain: not measured here
        lame += bytes([0])  # encoding flags, ATH type
        lame += bytes([min(255, self.kbps)])
        lame += struct.pack(">I", (min(ENCODER_DELAY, 4095) << 12) | min(padding, 4095))[1:]
        lame += bytes([0, 0]) + bytes(2)  # misc, MP3 gain, preset and surround
        lame += struct.pack(">I", total)
        lame += struct.pack(">H", 0)  # music CRC: not computed (players do not check it)
        frame = struct.pack(">I", word) + bytes(self._side_info_bytes) + xing + bytes(lame)
        frame += struct.pack(">H", _crc16(frame))  # the tag's CRC covers everything before it
        return frame + bytes(size - len(frame))
