"""Clips → one mastered program, streamed: pacing, cue chimes, levelling, true-peak limiting.

In two halves. `shape` is each clip's own work, done in the worker that made it: resample to the
program rate (soxr), trim the engine's leading and trailing silence, measure its loudness, and
find the points whose oversampled peak could pass the ceiling. `mix` is the rest, in order, in
the main process: each clip at the gain that levels it to the target, limited at those points,
faded at both ends (no clicks), and written with the pause before it. Nothing accumulates: the
program exists only in the sink, so memory stays flat and time linear however long the
transcript. Levelling each clip makes voices match and puts the program at the target without
a second pass; a streaming meter (libebur128) reports what was achieved and steers the small
correction that keeps the program on target.

Targets (DESIGN.md, "Audio standards"): −19 LUFS integrated for mono, −16 LUFS for stereo,
true peak at most −1.5 dBTP after MP3 encoding (we limit at −3.5 dBTP before it: 64 kb/s LAME
adds up to about 1.6 dB of overshoot, measured on the example). The loudness and true peak in the
timeline are those of the mastered program before encoding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from .models import Clip, Item, Segment, Shaped

PROGRAM_RATE = 24000
FADE_MS = 5
#: Relative to the clip's loudest 10 ms, quieter edges are the engine's silence. Engines pad with
#: digital silence (below -95 dB); a word's soft onset (the f of "fighters", the w of "with") sits
#: 35-60 dB down, so -40 cut it and the recogniser heard "writers" (benchmarks/casting.py).
TRIM_FLOOR_DB = -55.0
TRIM_KEEP_MS = 30  # kept beyond the floor at each end: the attack of the onset below it
CEILING_DBTP = -3.5
TARGET_PER_CHANNEL_LUFS = -19.0  # mono −19; stereo −16 is −19 in each channel
DRIFT_LIMIT_DB = 3.0
CHIME_BELOW_SPEECH_DB = 6.0


def target_lufs(channels: int) -> float:
    return TARGET_PER_CHANNEL_LUFS + 10 * np.log10(channels)


# -- measuring ----------------------------------------------------------------------------------

class LoudnessMeter:
    """ITU-R BS.1770-4 integrated loudness, fed in pieces, by libebur128 (the reference
    implementation, through the `pyebur128` wheel), and the true peak of what was fed.

    Its histogram mode keeps memory constant however long the program (0.01 LU from the exact
    figure); tests/test_mixing.py checks it against pyloudnorm."""

    def __init__(self, rate: int):
        import pyebur128

        self.rate = rate
        self.seconds = 0.0
        self.peak = 0.0
        self._state = pyebur128.R128State(1, rate, pyebur128.MeasurementMode.MODE_I
                                          | pyebur128.MeasurementMode.MODE_HISTOGRAM)

    def feed(self, samples: np.ndarray, peak: float | None = None) -> None:
        """Measure the next piece; `peak` is its true peak when the caller already knows it."""
        samples = np.ascontiguousarray(samples, dtype=np.float32)
        if samples.size:
            self._state.add_frames(samples, len(samples))
            self.seconds += len(samples) / self.rate
            self.peak = max(self.peak, true_peak(samples) if peak is None else peak)

    @property
    def integrated_lufs(self) -> float:
        import pyebur128

        return float(pyebur128.get_loudness_global(self._state))

    @property
    def true_peak_dbtp(self) -> float:
        return float(20 * np.log10(self.peak)) if self.peak > 0 else float("-inf")


# ITU-R BS.1770-4 Annex 2: the 48-tap interpolation filter of its true-peak meter, as 4 phases
_PHASE_0 = (0.0017089843750, 0.0109863281250, -0.0196533203125, 0.0332031250000, -0.0594482421875,
            0.1373291015625, 0.9721679687500, -0.1022949218750, 0.0476074218750, -0.0266113281250,
            0.0148925781250, -0.0083007812500)
_PHASE_1 = (-0.0291748046875, 0.0292968750000, -0.0517578125000, 0.0891113281250, -0.1665039062500,
            0.4650878906250, 0.7797851562500, -0.2003173828125, 0.1015625000000, -0.0582275390625,
            0.0330810546875, -0.0189208984375)
TRUE_PEAK_PHASES = np.array([_PHASE_0, _PHASE_1, _PHASE_1[::-1], _PHASE_0[::-1]], dtype=np.float32)
# no phase can make a value larger than this many times the largest sample under the filter
_PHASE_BOUND = float(np.abs(TRUE_PEAK_PHASES).sum(axis=1).max())
_TAPS = TRUE_PEAK_PHASES.shape[1]
_CORRELATE = np.ascontiguousarray(TRUE_PEAK_PHASES[:, ::-1].T)  # [tap, phase]: the weights of x[i - 6 + tap]
_GATHER = 65536  # points interpolated at once: bounds the temporary arrays to a few MB


def sample_peaks(samples: np.ndarray, ceiling: float = 1.0) -> np.ndarray:
    """For each sample, the largest magnitude among the four points of the signal oversampled 4×
    around it (BS.1770-4 Annex 2's true-peak method).

    Only points that could matter are interpolated: one whose neighbourhood under the filter has
    no sample above (the clip's largest sample, or `ceiling` if lower) / (the most the filter can
    amplify) can hold neither the true peak nor anything to limit, so it keeps its magnitude.
    In speech that leaves about one point in eight to compute."""
    x = np.asarray(samples, dtype=np.float32)
    peaks = np.abs(x)
    if len(x) < _TAPS:
        return peaks
    half = _TAPS // 2
    threshold = min(float(peaks.max()), ceiling) / _PHASE_BOUND
    # how many loud samples lie under the filter around each point: a running sum by cumsum
    loud = np.concatenate([[0], np.cumsum(np.pad(peaks >= threshold, (half, half)), dtype=np.int32)])
    near_loud = loud[2 * half: 2 * half + len(x)] > loud[: len(x)]  # x[i - half] .. x[i + half - 1]
    points = np.flatnonzero(near_loud)
    padded = np.pad(x, (half, half - 1))  # aligned as np.convolve(x, phase, 'same')
    for chunk in range(0, len(points), _GATHER):
        at = points[chunk: chunk + _GATHER]
        taps = [padded[at + k] for k in range(_TAPS)]  # the samples under the filter, tap by tap
        for phase in _CORRELATE.T:  # plain multiply-adds: a matrix product would wake BLAS threads
            value = taps[0] * phase[0]
            for tap, weight in zip(taps[1:], phase[1:]):
                value += tap * weight
            np.maximum(peaks[at], np.abs(value), out=value)
            peaks[at] = value
    return peaks


def true_peak(samples: np.ndarray) -> float:
    """Peak of the signal oversampled 4× (BS.1770-4 Annex 2), as a linear amplitude."""
    return float(sample_peaks(samples).max()) if np.size(samples) else 0.0


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
    ceiling = 10 ** (ceiling_dbtp / 20)
    peaks = sample_peaks(samples, ceiling)
    at = np.flatnonzero(peaks > ceiling)
    return limit_at(samples, at, peaks[at], ceiling)[0]


def limit_at(samples: np.ndarray, at: np.ndarray, values: np.ndarray, ceiling: float) -> tuple[np.ndarray, float]:
    """Limit `samples` whose oversampled magnitudes at points `at` are `values`; return the result
    and its peak at those points. The gain is the minimum of what each point needs over ±4 ms,
    smoothed over 4 ms, so it is at most what every point needs and never changes abruptly.
    It differs from 1 only near the points, so only the stretches around them are computed."""
    need = np.minimum(1.0, ceiling / np.maximum(values, 1e-12)).astype(np.float32) * np.float32(0.995)
    hold = need < 1.0
    at, need = at[hold], need[hold]
    if not len(at):
        return samples, float(values.max(initial=0.0))
    window = 96  # 4 ms at 24 kHz: attack and release
    reach = 2 * window  # beyond this from every point the gain is exactly 1
    starts, ends = np.maximum(at - reach, 0), np.minimum(at + reach + 1, len(samples))
    breaks = np.flatnonzero(starts[1:] > ends[:-1]) + 1  # `at` is sorted: stretches in order
    out = samples.astype(np.float32, copy=True)
    gain_at = np.ones(len(at), np.float32)
    for first, last in zip(np.concatenate([[0], breaks]), np.concatenate([breaks, [len(at)]])):
        lo, hi = starts[first], ends[last - 1]
        local = np.ones(hi - lo, np.float32)
        local[at[first:last] - lo] = need[first:last]
        gain = moving_average(running_min(local, 2 * window + 1), window + 1)
        out[lo:hi] *= gain
        gain_at[first:last] = gain[at[first:last] - lo]
    peak = max(float((values[hold] * gain_at).max()), float(values[~hold].max(initial=0.0)))
    return out, peak


def running_min(x: np.ndarray, size: int) -> np.ndarray:
    """The minimum of each centred window of `size` samples, in linear time (van Herk/Gil-Werman:
    the minimum of a window is that of a block suffix and the next block's prefix)."""
    half = size // 2
    padded = np.pad(x, (half, half + (-(len(x) + 2 * half)) % size), constant_values=np.inf).reshape(-1, size)
    prefix = np.minimum.accumulate(padded, axis=1).ravel()
    suffix = np.minimum.accumulate(padded[:, ::-1], axis=1)[:, ::-1].ravel()
    return np.minimum(suffix[: len(x)], prefix[size - 1: size - 1 + len(x)])


def moving_average(x: np.ndarray, size: int) -> np.ndarray:
    """The mean of each centred window of `size` samples, the ends extended with their edge values."""
    half = size // 2
    total = np.concatenate([[0.0], np.cumsum(np.pad(x.astype(np.float64), (half, size - 1 - half), mode="edge"))])
    return ((total[size:] - total[:-size]) / size).astype(np.float32)


def level(samples: np.ndarray, rate: int, target: float) -> np.ndarray:
    loudness = clip_loudness(samples, rate)
    if not np.isfinite(loudness):
        return samples
    return (samples * np.float32(10 ** ((target - loudness) / 20))).astype(np.float32)


def shape(clip: Clip, rate: int = PROGRAM_RATE) -> Shaped:
    """The per-clip work that needs no other clip, done where the clip is made (in a worker):
    resample, trim, measure loudness, and find the points the limiter might have to hold down
    at the loudest gain `master` is expected to give (the target plus the drift correction's limit)."""
    samples = trim(to_program_rate(clip, rate), rate)
    loudness = clip_loudness(samples, rate)
    threshold = 10 ** ((CEILING_DBTP - max(_loudest_gain_db(loudness), 0.0)) / 20)
    peaks = sample_peaks(samples, threshold)
    at = np.flatnonzero(peaks > threshold).astype(np.int32)
    return Shaped(samples, rate, loudness, float(peaks.max(initial=0.0)), at, peaks[at])


def _loudest_gain_db(loudness: float) -> float:
    return TARGET_PER_CHANNEL_LUFS + DRIFT_LIMIT_DB - loudness if np.isfinite(loudness) else 0.0


def master(clip: Shaped, gain_db: float) -> tuple[np.ndarray, float]:
    """A shaped clip at its gain, limited to the true-peak ceiling and faded at both ends;
    returns the samples and their true peak."""
    gain = 10 ** (gain_db / 20)
    ceiling = 10 ** (CEILING_DBTP / 20)
    sound = (clip.samples * np.float32(gain)).astype(np.float32)
    if gain * clip.true_peak <= ceiling:
        peak = gain * clip.true_peak
    else:
        if gain_db <= max(_loudest_gain_db(clip.loudness_lufs), 0.0) + 1e-6:
            at, values = clip.peak_at, clip.peak_values * gain
        else:  # louder than `shape` prepared for: find the points again
            peaks = sample_peaks(sound, ceiling)
            at = np.flatnonzero(peaks > ceiling)
            values = peaks[at]
        sound, peak = limit_at(sound, at, values, ceiling)
    return fade(sound, clip.sample_rate), peak  # fades only lower samples: the peak still holds


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
        if meter.seconds >= 10 and np.isfinite(meter.integrated_lufs):
            self.offset_db = float(np.clip(self.offset_db + 0.5 * (self.target - meter.integrated_lufs), -DRIFT_LIMIT_DB, DRIFT_LIMIT_DB))
        return self.offset_db


@dataclass(frozen=True)
class Mastered:
    """What the mix achieved: the segments with their times, and the measured loudness."""

    segments: tuple[Segment, ...]
    duration_s: float
    loudness_lufs: float
    true_peak_dbtp: float


def mix(items: tuple[Item, ...], clips: Iterable[Shaped | None], write: Callable[[np.ndarray], None],
        channels: int = 1, rate: int = PROGRAM_RATE) -> Mastered:
    """Join shaped clips into the program, writing as it goes; return the timeline and measurements."""
    # the program is mono, copied to every channel: BS.1770 sums channel powers, so a stereo copy
    # measures 3 dB louder than its mono source, and −16 LUFS stereo is −19 LUFS per channel
    channel_gain_db = 10 * np.log10(channels)
    target = TARGET_PER_CHANNEL_LUFS
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
            clip = shape(Clip(chime(item.chime, rate), rate), rate)
            aim = target - CHIME_BELOW_SPEECH_DB
        elif clip is None or not clip.samples.size:
            continue
        else:
            aim = target + drift.next(meter)
        gain_db = aim - clip.loudness_lufs if np.isfinite(clip.loudness_lufs) else 0.0
        sound, peak = master(clip, gain_db)
        emit(np.zeros(int(rate * item.pause_before_ms / 1000) if segments else 0, np.float32), 0.0)
        start = position
        emit(sound, peak)
        segments.append(Segment(len(segments), start / rate, position / rate, item.speaker, item.role, item.kind,
                                item.voice.id if item.voice else None, item.text, item.line, item.turn))
    emit(np.zeros(int(rate * 0.5), np.float32), 0.0)  # a moment of room at the end, as programs have
    return Mastered(tuple(segments), position / rate, meter.integrated_lufs + channel_gain_db, meter.true_peak_dbtp)
