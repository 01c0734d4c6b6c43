"""Choose the neural voice palette by measurement.

The neural engine makes voices from hibari's one voice, "heart", by scaling F0 (`pitch`) and
warping the spectral envelope along frequency (`formant`). This script renders the same test
text (two paragraphs of the seed transcript, about 44 s of speech) with every candidate
transform on a grid, measures each candidate once:

- its word error rate (pocketsphinx 5, `listening.wer`),
- its GE2E speaker embedding (Resemblyzer, `listening.embed`),
- its real-time factor (seconds of audio per second of synthesis, one core),

and then picks the largest set of voices, plain heart included, in which every pair scores at
most `--margin` cosine (0.75 by default; the contract in palette.json is `threshold`, 0.80) and
every voice has WER at most `--max-wer` (0.15). Among the largest sets it prefers the one with the
lowest maximum pairwise cosine, then the lowest mean WER.

    python benchmarks/palette.py            # full grid (about 120 candidates, ~12 min on 2 cores)
    python benchmarks/palette.py --quick    # a smaller grid (~30 candidates)

Writes benchmarks/palette.json and prints markdown tables. Candidate audio and measurements are
cached in /tmp/broadcast-palette (keyed by the text, hibari's version and this script's
measurement version), so a second run only re-does the selection.

Needs the benchmark dependencies (see benchmarks/README.md) and the seed transcript at
../shared/seed/npr_raqqa.txt (or --seed PATH).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from itertools import combinations
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
if str(ROOT) not in sys.path:
    sys.path.insert(1, str(ROOT))

import numpy as np  # noqa: E402

MEASURE_VERSION = 2  # bump when listening.py's measures change: invalidates the cache
DEFAULT_SEED = ROOT.parent / "shared" / "seed" / "npr_raqqa.txt"
CACHE = Path(os.environ.get("BROADCAST_PALETTE_CACHE", "/tmp/broadcast-palette"))
TEXT_DESCRIPTION = (
    "npr_raqqa.txt: the 'RUTH SHERLOCK, BYLINE:' paragraph and the first paragraph of the "
    "following 'SHERLOCK:' turn, labels removed (121 words, about 44 s at 165 wpm)"
)
#: heart's median F0, measured with librosa.pyin on the test text: 187 Hz. A transform whose
#: F0 (pitch x 187 Hz) is under 165 Hz, the usual boundary of men's and women's speaking
#: ranges, is called "male".
HEART_F0_HZ = 187.0
MALE_BELOW_HZ = 165.0

FULL_PITCHES = [0.45, 0.5, 0.55, 0.6, 0.67, 0.75, 0.85, 1.0, 1.1, 1.2, 1.3, 1.4]
FULL_FORMANTS = [0.75, 0.8, 0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.15, 1.2]
QUICK_PITCHES = [0.5, 0.6, 0.75, 1.0, 1.2, 1.4]
QUICK_FORMANTS = [0.8, 0.9, 1.0, 1.1, 1.2]

#: Evocative names, each anchored at a point of the (pitch, formant) plane; every chosen voice
#: takes the free name whose anchor is nearest (in log units). The first four are the names
#: broadcast already uses (engines/neural.py), at the transforms they were first measured at.
NAMES: dict[str, tuple[float, float]] = {
    "deep": (0.5, 0.80),
    "low": (0.55, 1.0),
    "warm": (0.8, 0.95),
    "dark": (1.0, 0.85),
    "baritone": (0.6, 0.9),
    "gravel": (0.45, 0.75),
    "tenor": (0.7, 1.05),
    "reedy": (0.6, 1.15),
    "husky": (0.8, 0.8),
    "mellow": (1.2, 0.9),
    "alto": (0.9, 1.05),
    "bright": (1.25, 1.08),
    "crisp": (1.1, 1.15),
    "light": (1.4, 1.2),
    "clear": (1.4, 1.0),
    "velvet": (1.25, 0.8),
}


def test_text(seed: Path) -> str:
    """The two test paragraphs, taken by their labels so the line numbers may move."""
    lines = [line.strip() for line in seed.read_text(encoding="utf-8").splitlines()]
    first = next(i for i, line in enumerate(lines) if line.startswith("RUTH SHERLOCK, BYLINE:"))
    second = next(i for i in range(first + 1, len(lines)) if lines[i].startswith("SHERLOCK:"))
    return "\n\n".join(lines[i].split(":", 1)[1].strip() for i in (first, second))


def gender(pitch: float) -> str:
    return "male" if pitch * HEART_F0_HZ < MALE_BELOW_HZ else "female"


# --------------------------------------------------------------------------------------------
# Measuring one candidate (in a worker process)

_engine = None


def _init_worker() -> None:
    global _engine
    import warnings

    warnings.filterwarnings("ignore")
    try:
        import torch

        torch.set_num_threads(1)  # one core per worker; the pool supplies the parallelism
    except ImportError:
        pass
    from broadcast.engines.neural import NeuralEngine

    _engine = NeuralEngine()


def measure(pitch: float, formant: float, text: str, folder: Path) -> dict:
    """Synthesize, transcribe and embed one candidate; cached as JSON + WAV in `folder`."""
    import soundfile

    import listening
    from broadcast.models import Voice

    stem = f"p{round(pitch * 1000):04d}_w{round(formant * 1000):04d}"  # no dots: p0500_w0800
    done = folder / f"{stem}.json"
    if done.exists():
        return json.loads(done.read_text())
    voice = Voice(id="neural:heart~candidate", engine="neural", base="heart", pitch=pitch, formant=formant, rate_wpm=165)
    started = time.perf_counter()
    clip = _engine.synthesize(text, voice)
    synth_s = time.perf_counter() - started
    duration = len(clip.samples) / clip.sample_rate
    soundfile.write(str(folder / f"{stem}.wav"), clip.samples, clip.sample_rate, subtype="FLOAT")
    hypothesis = listening.transcribe(clip.samples, clip.sample_rate)
    result = {
        "pitch": pitch,
        "formant": formant,
        "wer": round(listening.wer(text, hypothesis), 4),
        "rtf": round(duration / synth_s, 1),
        "duration_s": round(duration, 2),
        "hypothesis": hypothesis,
        "embedding": [round(float(v), 6) for v in listening.embed(clip.samples, clip.sample_rate)],
    }
    tmp = folder / f"{stem}.tmp"
    tmp.write_text(json.dumps(result))
    tmp.replace(done)
    return result


def measure_all(grid: list[tuple[float, float]], text: str, jobs: int) -> list[dict]:
    import hibari

    key = hashlib.sha256(f"{text}|{hibari.__version__}|{MEASURE_VERSION}".encode()).hexdigest()[:12]
    folder = CACHE / key
    folder.mkdir(parents=True, exist_ok=True)
    results = []
    with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker) as pool:
        futures = {pool.submit(measure, p, w, text, folder): (p, w) for p, w in grid}
        for n, future in enumerate(as_completed(futures), 1):
            r = future.result()
            results.append(r)
            print(f"[{n:3d}/{len(grid)}] p{r['pitch']:.2f} w{r['formant']:.2f}  WER {r['wer']:.3f}  "
                  f"{r['rtf']:.0f}x real time", file=sys.stderr, flush=True)
    results.sort(key=lambda r: (r["pitch"], r["formant"]))
    return results


# --------------------------------------------------------------------------------------------
# Choosing the palette


def _largest_sets(compatible: np.ndarray, must: int, limit: int = 20000) -> list[list[int]]:
    """All (up to `limit`) largest sets of mutually compatible candidates that contain `must`:
    a maximum-clique search with a greedy-colouring bound (Tomita & Seki's MCQ, simplified)."""
    n = len(compatible)
    best: list[list[int]] = []
    best_size = 0

    def colour_bound(cands: list[int]) -> list[tuple[int, int]]:
        # Greedy colouring; a clique can hold at most one vertex per colour class.
        classes: list[list[int]] = []
        for v in cands:
            for cls in classes:
                if not any(compatible[v, u] for u in cls):
                    cls.append(v)
                    break
            else:
                classes.append([v])
        return [(v, k + 1) for k, cls in enumerate(classes) for v in cls]

    def expand(clique: list[int], cands: list[int]) -> None:
        nonlocal best_size, best
        if len(best) >= limit and len(clique) + len(cands) <= best_size:
            return
        order = colour_bound(cands)
        while order:
            v, bound = order.pop()
            if len(clique) + bound < best_size:
                return
            new_clique = clique + [v]
            rest = [u for u, _ in order if compatible[v, u]]
            if rest:
                expand(new_clique, rest)
            elif len(new_clique) > best_size:
                best_size, best = len(new_clique), [sorted(new_clique)]
            elif len(new_clique) == best_size and len(best) < limit:
                best.append(sorted(new_clique))

    others = [u for u in range(n) if u != must and compatible[must, u]]
    if not others:
        return [[must]]
    expand([must], others)
    return best


def choose(candidates: list[dict], margin: float, max_wer: float) -> tuple[list[dict], np.ndarray]:
    """The largest palette within `margin` that contains heart; ties: lowest max cosine, then
    lowest mean WER."""
    heart = next(i for i, c in enumerate(candidates) if c["pitch"] == 1.0 and c["formant"] == 1.0)
    keep = [i for i, c in enumerate(candidates) if c["wer"] <= max_wer or i == heart]
    pool = [candidates[i] for i in keep]
    emb = np.array([c["embedding"] for c in pool], dtype=np.float64)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    cos = emb @ emb.T
    compatible = cos <= margin
    np.fill_diagonal(compatible, False)
    must = keep.index(heart)
    sets = _largest_sets(compatible, must)

    def score(s: list[int]) -> tuple[float, float]:
        worst = max((cos[a, b] for a, b in combinations(s, 2)), default=0.0)
        return (round(worst, 3), float(np.mean([pool[i]["wer"] for i in s])))

    chosen = min(sets, key=score)
    return [pool[i] for i in chosen], cos[np.ix_(chosen, chosen)]


def name_voices(voices: list[dict]) -> list[str]:
    """Heart keeps its name; the others take the nearest free anchor in NAMES, most typical first."""
    def dist(v: dict, anchor: tuple[float, float]) -> float:
        return float(np.hypot(np.log(v["pitch"] / anchor[0]), 1.5 * np.log(v["formant"] / anchor[1])))

    names = ["heart" if (v["pitch"], v["formant"]) == (1.0, 1.0) else "" for v in voices]
    free = dict(NAMES)
    pairs = sorted((dist(v, a), i, n) for i, v in enumerate(voices) if not names[i] for n, a in NAMES.items())
    for _, i, n in pairs:
        if not names[i] and n in free:
            names[i] = n
            del free[n]
    for i, v in enumerate(voices):  # more voices than names: a systematic one
        names[i] = names[i] or f"p{v['pitch']:g}w{v['formant']:g}".replace(".", "")
    return names


# --------------------------------------------------------------------------------------------


def markdown(palette: list[dict], cos: np.ndarray) -> str:
    out = ["| voice | gender | pitch | formant | WER | real time | closest (cosine) |",
           "|---|---|---|---|---|---|---|"]
    for i, v in enumerate(palette):
        row = cos[i].copy()
        row[i] = -1
        j = int(np.argmax(row))
        out.append(f"| {v['name']} | {v['gender']} | {v['pitch']:g} | {v['formant']:g} | {v['wer']:.3f} | "
                   f"{v['rtf']:.0f}× | {palette[j]['name']} ({row[j]:.2f}) |")
    out += ["", "| cosine | " + " | ".join(v["name"] for v in palette) + " |",
            "|---" * (len(palette) + 1) + "|"]
    for i, v in enumerate(palette):
        cells = ["—" if i == j else f"{cos[i, j]:.2f}" for j in range(len(palette))]
        out.append(f"| **{v['name']}** | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Choose the neural voice palette by measurement.")
    parser.add_argument("--quick", action="store_true", help="a smaller grid (about 30 candidates)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--threshold", type=float, default=0.80, help="the contract: every pair at most this")
    parser.add_argument("--margin", type=float, default=0.75, help="choose with this stricter bound (if it still "
                        "gives --min-voices voices; otherwise --threshold)")
    parser.add_argument("--min-voices", type=int, default=8)
    parser.add_argument("--max-wer", type=float, default=0.15)
    parser.add_argument("--seed", type=Path, default=DEFAULT_SEED, help="the seed transcript")
    parser.add_argument("-o", "--output", type=Path, default=HERE / "palette.json")
    args = parser.parse_args(argv)

    if not args.seed.exists():
        parser.error(f"seed transcript not found: {args.seed}")
    text = test_text(args.seed)
    pitches, formants = (QUICK_PITCHES, QUICK_FORMANTS) if args.quick else (FULL_PITCHES, FULL_FORMANTS)
    grid = [(p, w) for p in pitches for w in formants]
    started = time.perf_counter()
    candidates = measure_all(grid, text, args.jobs)
    measured_s = time.perf_counter() - started

    palette, cos = choose(candidates, args.margin, args.max_wer)
    bound = args.margin
    if len(palette) < args.min_voices and args.margin < args.threshold:
        palette, cos = choose(candidates, args.threshold, args.max_wer)
        bound = args.threshold
    order = sorted(range(len(palette)), key=lambda i: (palette[i]["pitch"], palette[i]["formant"]))
    palette = [palette[i] for i in order]
    cos = cos[np.ix_(order, order)]
    for v, name in zip(palette, name_voices(palette)):
        v["name"] = name
        v["gender"] = gender(v["pitch"])

    pairs = {f"{a['name']}|{b['name']}": round(float(cos[i, j]), 3)
             for (i, a), (j, b) in combinations(enumerate(palette), 2)}
    usable = [c for c in candidates if c["wer"] <= args.max_wer]
    report = {
        "threshold": args.threshold,
        "chosen_with": bound,
        "max_wer": args.max_wer,
        "text": TEXT_DESCRIPTION,
        "recognizer": "pocketsphinx 5, bundled en-us model, default config (benchmarks/listening.py)",
        "embedding": "Resemblyzer GE2E (benchmarks/listening.py)",
        "grid": {"pitch": pitches, "formant": formants, "candidates": len(grid), "wer_ok": len(usable)},
        "voices": [{k: v[k] for k in ("name", "pitch", "formant", "gender", "wer", "rtf")} for v in palette],
        "max_cosine": max(pairs.values(), default=0.0),
        "cosine": pairs,
        "candidates": [{k: c[k] for k in ("pitch", "formant", "wer", "rtf")} for c in candidates],
    }
    tmp = args.output.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(args.output)

    print(f"{len(grid)} candidates measured in {measured_s:.0f} s ({args.jobs} processes); "
          f"{len(usable)} with WER ≤ {args.max_wer}. Chosen with every pair ≤ {bound}: "
          f"{len(palette)} voices, max pairwise cosine {report['max_cosine']:.2f}.\n")
    print(markdown(palette, cos))
    print(f"\nwrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
