"""Clips → one mastered program, streamed: pacing, cue chimes, levelling, true-peak limiting.

Every clip is brought to the program format once, at the door (resampled with soxr), trimmed of
the engine's own leading and trailing silence, levelled to the program's loudness target and
limited to the true-peak ceiling, faded at both ends (no clicks), and handed on with the pause
before it. Nothing accumulates: the program exists only in the sink, so memory stays flat and
time linear however long the transcript. Levelling each clip to the target makes voices match
and puts the whole program at the target without a second pass; the streaming BS.1770 meter
below reports what was actually achieved.

Targets (DESIGN.md, "Audio standards"): −19 LUFS integrated for mono, −16 LUFS for stereo,
true peak at most −1.5 dBTP after MP3 encoding (we limit at −3.5 dBTP before it: 64 kb/s LAME
adds up to about 1.6 dB of overshoot, measured on the example). The loudness and true peak in the
timeline are those of the mastered program before encoding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from .models import Clip, Item, Segment

PROGRAM_RATE = 24000
FADE_MS = 5
TRIM_FLOOR_DB = -40.0  # relative to the clip's loudest 10 ms: quieter edges are the engine's silence
TRIM_KEEP_MS = 10  # of that silence kept at each end, so soft consonants are not clipped
CEILING_DBTP = -3.5
CHIME_BELOW_SPEECH_DB = 6.0


def target_lufs(channels: int) -> float:
    return -16.0 if channels == 2 else -19.0


# -- measuring ----------------------------------------------------------------------------------

class LoudnessMeter:
    """ITU-R BS.1770-4 integrated loudness and true peak, fed in pieces.

    The K-weighting filters are pyloudnorm's own (so the weighting is the library's, not ours);
    what this adds is state across pieces, so a 100-minute program is measured without holding
    it. tests/test_mixing.py checks it against `pyloudnorm.Meter.integrated_loudness`.
    """

    def __init__(self, rate: int):
        import pyloudnorm

        self.rate = rate
        meter = pyloudnorm.Meter(rate)
        self._stages = [(f.b, f.a, f.passband_gain) for f in meter._filters.values()]
        self._state = [None] * len(self._stages)
        self._step = rate // 10  # 100 ms: four make a 400 ms block with 75 % overlap
        self._carry = np.zeros(0, np.float64)
        self._energies: list[float] = []  # mean square of each 100 ms step
        self.peak = 0.0

    def feed(self, samples: np.ndarray, peak: float | None = None) -> None:
        """Measure the next piece; `peak` is its true peak when the caller already knows it."""
        from scipy.signal import lfilter, lfilter_zi

        x = samples.astype(np.float64)
        for n, (b, a, gain) in enumerate(self._stages):
            if self._state[n] is None:
                self._state[n] = lfilter_zi(b, a) * 0.0
            x, self._state[n] = lfilter(b, a, x, zi=self._state[n])
            x = x * gain
        x = np.concatenate([self._carry, x])
        whole = len(x) // self._step * self._step
        if whole:
            self._energies.extend(np.mean(x[:whole].reshape(-1, self._step) ** 2, axis=1).tolist())
        self._carry = x[whole:]
        self.peak = max(self.peak, true_peak(samples) if peak is None else peak)

    @property
    def integrated_lufs(self) -> float:
        e = np.asarray(self._energies)
        if len(e) < 4:
            return float("-inf")
        blocks = (e[:-3] + e[1:-2] + e[2:-1] + e[3:]) / 4.0
        with np.errstate(divide="ignore"):
            loud = -0.691 + 10 * np.log10(blocks)
        gated = blocks[loud > -70.0]
        if not len(gated):
            return float("-inf")
        relative = -0.691 + 10 * np.log10(gated.mean()) - 10.0
        final = blocks[(loud > -70.0) & (loud > relative)]
        return float(-0.691 + 10 * np.log10(final.mean())) if len(final) else float("-inf")

    @property
    def true_peak_dbtp(self) -> float:
        return float(20 * np.log10(self.peak)) if self.peak > 0 else float("-inf")


def sample_peaks(samples: np.ndarray) -> np.ndarray:
    """For each sample, the largest magnitude among the four points of the signal oversampled 4×
    around it (BS.1770-4 Annex 2's true-peak method, by scipy's polyphase resampler)."""
    from scipy.signal import resample_poly

    if samples.size == 0:
        return np.zeros(0, np.float32)
    over = np.abs(resample_poly(samples.astype(np.float32), 4, 1))[: len(samples) * 4]
    return over.reshape(-1, 4).max(axis=1)


def true_peak(samples: np.ndarray) -> float:
    """Peak of the signal oversampled 4× (BS.1770-4 Annex 2), as a linear amplitude."""
    return float(sample_peaks(samples).max()) if samples.size else 0.0


def clip_loudness(samples: np.ndarray, rate: int) -> float:
    """Integrated loudness of one clip; clips shorter than one gating block are repeated to fill one."""
    block = int(0.4 * rate) + 1
    if samples.size == 0:
        return float("-inf")
    if samples.size < block:
        samples = np.tile(samples, block // samples.size + 1)
    meter = LoudnessMeter(rate)
    meter.feed(samples, peak=0.0)
    return meter.integrated_lufs


# -- shaping clips --------------------------------------------------------------------------------

def to_program_rate(clip: Clip, rate: int = PROGRAM_RATE) -> np.ndarray:
    samples = np.asarray(clip.samples, dtype=np.float32)
    if clip.sample_rate == rate:
        return samples
    import soxr

    return soxr.resample(samples, clip.sample_rate, rate, quality="HQ").astype(np.float32)


def trim(samples: np.ndarray, rate: int) -> np.ndarray:
    """Cut the engine's leading and trailing silence, keeping a little room for soft consonants."""
    step = max(1, rate // 100)
    usable = len(samples) // step * step
    if usable == 0:
        return samples
    energy = np.mean(samples[:usable].reshape(-1, step).astype(np.float64) ** 2, axis=1)
    loud = energy > energy.max() * 10 ** (TRIM_FLOOR_DB / 10)
    if not loud.any():
        return samples[:0]
    first, last = int(np.argmax(loud)), len(loud) - int(np.argmax(loud[::-1]))
    keep = int(rate * TRIM_KEEP_MS / 1000)
    return samples[max(0, first * step - keep): min(len(samples), last * step + keep)]


def fade(samples: np.ndarray, rate: int, ms: int = FADE_MS) -> np.ndarray:
    n = min(len(samples) // 2, int(rate * ms / 1000))
    if n == 0:
        return samples
    out = samples.copy()
    ramp = np.sin(np.linspace(0, np.pi / 2, n, dtype=np.float32)) ** 2
    out[:n] *= ramp
    out[-n:] *= ramp[::-1]
    return out


def limit(samples: np.ndarray, ceiling_dbtp: float = CEILING_DBTP) -> np.ndarray:
    """A look-ahead peak limiter: gain rides down smoothly around the (oversampled) peaks that
    would pass the ceiling, and stays at 1 everywhere else."""
    return limit_and_peak(samples, ceiling_dbtp)[0]


def limit_and_peak(samples: np.ndarray, ceiling_dbtp: float = CEILING_DBTP) -> tuple[np.ndarray, float]:
    """`limit`, also returning the true peak of the result (so it is measured once)."""
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    ceiling = 10 ** (ceiling_dbtp / 20)
    for _ in range(4):  # converges in one or two passes; the bound is a safety net
        peaks = sample_peaks(samples)
        if not len(peaks) or peaks.max() <= ceiling:
            return samples, float(peaks.max()) if len(peaks) else 0.0
        need = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12)) * 0.995
        window = 96  # 4 ms at 24 kHz: attack and release
        gain = uniform_filter1d(minimum_filter1d(need, size=2 * window + 1), size=window + 1)
        samples = (samples * gain).astype(np.float32)
    return samples, true_peak(samples)


def level(samples: np.ndarray, rate: int, target: float) -> np.ndarray:
    loudness = clip_loudness(samples, rate)
    if not np.isfinite(loudness):
        return samples
    return (samples * np.float32(10 ** ((target - loudness) / 20))).astype(np.float32)


def chime(kind: str, rate: int = PROGRAM_RATE) -> np.ndarray:
    """A short, soft generated sound: two rising notes for music, one bright blip for a
    soundbite, three falling notes for a break, one mellow note otherwise."""
    notes = {"music": ((523.25, 0.0), (783.99, 0.16)), "soundbite": ((880.0, 0.0),),
             "break": ((783.99, 0.0), (659.25, 0.16), (523.25, 0.32)), "generic": ((587.33, 0.0),)}[kind]
    length = notes[-1][1] + 0.55
    t = np.arange(int(rate * length), dtype=np.float32) / rate
    out = np.zeros_like(t)
    for freq, start in notes:
        local = np.clip(t - start, 0, None)
        envelope = (t >= start) * np.exp(-local * 7.0) * np.minimum(1.0, local / 0.01)
        out += envelope * (np.sin(2 * np.pi * freq * local) + 0.3 * np.sin(4 * np.pi * freq * local))
    return (out * 0.2).astype(np.float32)


# -- the program ----------------------------------------------------------------------------------

class DriftCorrection:
    """How much louder than the target the next clip should be, so the program lands on it.

    Every clip levelled to the target still leaves the program below it: gating blocks that
    straddle pauses count, and the limiter takes the tops off peaky clips. Once ten seconds are
    measured, each clip's aim moves by the program's remaining shortfall (an integral controller,
    at most ±3 dB), which pulls the running integrated loudness onto the target in one pass."""

    def __init__(self, target: float):
        self.target, self.offset_db = target, 0.0

    def next(self, meter: LoudnessMeter) -> float:
        if len(meter._energies) >= 100 and np.isfinite(meter.integrated_lufs):
            self.offset_db = float(np.clip(self.offset_db + 0.5 * (self.target - meter.integrated_lufs), -3.0, 3.0))
        return self.offset_db


@dataclass(frozen=True)
class Mastered:
    """What the mix achieved: the segments with their times, and the measured loudness."""

    segments: tuple[Segment, ...]
    duration_s: float
    loudness_lufs: float
    true_peak_dbtp: float


def mix(items: tuple[Item, ...], clips: Iterable[Clip | None], write: Callable[[np.ndarray], None],
        channels: int = 1, rate: int = PROGRAM_RATE) -> Mastered:
    """Join clips into the program, writing as it goes; return the timeline and measurements."""
    # the program is mono, copied to every channel: BS.1770 sums channel powers, so a stereo copy
    # measures 3 dB louder than its mono source, and −16 LUFS stereo is −19 LUFS per channel
    channel_gain_db = 10 * np.log10(channels)
    target = target_lufs(channels) - channel_gain_db
    meter = LoudnessMeter(rate)
    drift = DriftCorrection(target)
    position = 0
    segments: list[Segment] = []

    def emit(samples: np.ndarray, peak: float) -> None:
        nonlocal position
        if samples.size:
            meter.feed(samples, peak)
            write(samples if channels == 1 else np.repeat(samples[:, None], 2, axis=1))
            position += len(samples)

    for item, clip in zip(items, clips, strict=True):
        if item.chime is not None:
            sound = level(chime(item.chime, rate), rate, target - CHIME_BELOW_SPEECH_DB)
        elif clip is None:
            continue
        else:
            sound = trim(to_program_rate(clip, rate), rate)
            if not sound.size:
                continue
            sound = level(sound, rate, target + drift.next(meter))
        sound, peak = limit_and_peak(sound)
        sound = fade(sound, rate)  # fades only lower samples: the peak still holds
        emit(np.zeros(int(rate * item.pause_before_ms / 1000) if segments else 0, np.float32), 0.0)
        start = position
        emit(sound, peak)
        segments.append(Segment(len(segments), start / rate, position / rate, item.speaker, item.role, item.kind,
                                item.voice.id if item.voice else None, item.text, item.line, item.turn))
    emit(np.zeros(int(rate * 0.5), np.float32), 0.0)  # a moment of room at the end, as programs have
    return Mastered(tuple(segments), position / rate, meter.integrated_lufs + channel_gain_db, meter.true_peak_dbtp)

