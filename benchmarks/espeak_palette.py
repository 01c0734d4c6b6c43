"""Choose the automatic eSpeak palette by measurement.

Candidates: the plain American English voice (`gmw/en-us`) and every variant in the eSpeak data's
`voices/!v` folder applied to it (`gmw/en-us+NAME`), all at 165 wpm. Each speaks the test text of
palette.py (two paragraphs of the seed transcript) and is measured once, with listening.py:

- its GE2E speaker embedding (Resemblyzer) and real-time factor, for every candidate;
- its word error rate (pocketsphinx 5, about 15 s of CPU each).

The palette is chosen greedily: candidates in order of lowest WER (ties by name), each added if
its cosine to every voice already chosen is at most `--bound` (0.75). The sizes the same greedy
gives at 0.70 and 0.80 are reported too. Greedy by WER needs the whole WER order (the first pick
is the best of all), so every candidate is transcribed; audio and measurements are cached in
/tmp/espeak-palette (keyed by the text, the espeakng-loader version and MEASURE_VERSION), so a
rerun only redoes the selection.

    python benchmarks/espeak_palette.py            # writes benchmarks/espeak_palette.json

eSpeak is not thread-safe: the work runs in a pool of processes (2 by default), each with its
own engine.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from itertools import combinations
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
if str(ROOT) not in sys.path:
    sys.path.insert(1, str(ROOT))

import listening  # noqa: E402

import numpy as np

from palette import DEFAULT_SEED, TEXT_DESCRIPTION, test_text

MEASURE_VERSION = 1  # bump when listening.py's measures change: invalidates the cache
CACHE = Path(os.environ.get("BROADCAST_ESPEAK_PALETTE_CACHE", "/tmp/espeak-palette"))
BASE = "gmw/en-us"
PLAIN = "(plain)"  # the candidate with no variant
RATE_WPM = 165


def variants() -> list[str]:
    """Every variant file name (case kept), plus PLAIN first."""
    import espeakng_loader

    folder = Path(espeakng_loader.get_data_path(), "voices", "!v")
    return [PLAIN] + sorted(p.name for p in folder.iterdir() if p.is_file())


def base_of(variant: str) -> str:
    return BASE if variant == PLAIN else f"{BASE}+{variant}"


def _stem(variant: str) -> str:
    # case-sensitive file system; keep the name recognisable, make it unique with a short hash
    safe = re.sub(r"[^A-Za-z0-9]+", "_", variant).strip("_") or "plain"
    return f"{safe}-{hashlib.sha1(variant.encode()).hexdigest()[:6]}"


# --------------------------------------------------------------------------------------------
# Measuring (in worker processes; results cached as <stem>.json + <stem>.wav)

_engine = None


def _load_engine():
    global _engine
    if _engine is None:
        from broadcast import engines

        _engine = engines.get("espeak")
    return _engine


def render_and_embed(variant: str, text: str, folder: Path) -> dict:
    from broadcast.models import Voice

    base = base_of(variant)
    voice = Voice(f"espeak:{base}", "espeak", base, rate_wpm=RATE_WPM)
    return listening.measure_voice(_load_engine(), voice, text, folder, _stem(variant), {"variant": variant})


def add_wer(variant: str, text: str, folder: Path) -> dict:
    return listening.measure_wer(folder, _stem(variant), text)


# --------------------------------------------------------------------------------------------


def greedy(order: list[int], cos: np.ndarray, bound: float) -> list[int]:
    chosen: list[int] = []
    for i in order:
        if all(cos[i, j] <= bound for j in chosen):
            chosen.append(i)
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Choose the automatic eSpeak palette by measurement.")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--bound", type=float, default=0.75, help="max cosine between any two chosen voices")
    parser.add_argument("--also", type=float, nargs="*", default=[0.70, 0.80], help="bounds to report sizes for")
    parser.add_argument("--seed", type=Path, default=DEFAULT_SEED, help="the seed transcript")
    parser.add_argument("-o", "--output", type=Path, default=HERE / "espeak_palette.json")
    args = parser.parse_args(argv)
    if not args.seed.exists():
        parser.error(f"seed transcript not found: {args.seed}")
    from importlib.metadata import version

    text = test_text(args.seed)
    loader = version("espeakng-loader")
    key = hashlib.sha256(f"{text}|{loader}|{RATE_WPM}|{MEASURE_VERSION}".encode()).hexdigest()[:12]
    folder = CACHE / key
    folder.mkdir(parents=True, exist_ok=True)
    names = variants()

    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs, initializer=listening.init_worker) as pool:
        print(f"rendering and embedding {len(names)} candidates ...", file=sys.stderr, flush=True)
        cands = list(pool.map(render_and_embed, names, [text] * len(names), [folder] * len(names)))
        embedded_s = time.perf_counter() - started
        todo = [c["variant"] for c in cands if "wer" not in c]
        print(f"transcribing {len(todo)} candidates ...", file=sys.stderr, flush=True)
        done = {r["variant"]: r for r in pool.map(add_wer, todo, [text] * len(todo), [folder] * len(todo))}
        for c in cands:
            if c["variant"] in done:
                c.update(wer=done[c["variant"]]["wer"], hypothesis=done[c["variant"]]["hypothesis"])
    total_s = time.perf_counter() - started

    emb = np.array([c["embedding"] for c in cands], dtype=np.float64)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    cos = emb @ emb.T
    order = sorted(range(len(cands)), key=lambda i: (cands[i]["wer"], cands[i]["variant"]))
    chosen = greedy(order, cos, args.bound)
    others = {b: [cands[i]["variant"] for i in greedy(order, cos, b)] for b in args.also}
    sub = cos[np.ix_(chosen, chosen)]
    vnames = [cands[i]["variant"] for i in chosen]
    max_cos = float(max((sub[a, b] for a, b in combinations(range(len(chosen)), 2)), default=0.0))

    report = {
        "bound": args.bound,
        "base": BASE,
        "rate_wpm": RATE_WPM,
        "plain": f"{PLAIN} is {BASE} with no variant",
        "text": TEXT_DESCRIPTION,
        "recognizer": "pocketsphinx 5, bundled en-us model, default config (benchmarks/listening.py)",
        "embedding": "Resemblyzer GE2E (benchmarks/listening.py)",
        "espeakng_loader": loader,
        "selection": "greedy: lowest WER first, add if cosine to every chosen voice <= bound",
        "chosen": [{"variant": cands[i]["variant"], "wer": cands[i]["wer"]} for i in chosen],
        "max_cosine": round(max_cos, 3),
        "cosine_matrix": {"order": vnames, "rows": [[round(float(x), 3) for x in row] for row in sub]},
        "sizes_at_other_bounds": {f"{b:.2f}": {"count": len(v), "variants": v} for b, v in others.items()},
        "measured": [{"variant": cands[i]["variant"], "wer": cands[i]["wer"], "rtf": cands[i]["rtf"]}
                     for i in order],
    }
    tmp = args.output.with_name(args.output.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(args.output)

    print(f"{len(cands)} candidates rendered and embedded in {embedded_s:.0f} s, {len(todo)} transcribed this run; "
          f"{total_s:.0f} s in all ({args.jobs} processes). Every pair <= {args.bound}: {len(chosen)} voices, "
          f"max pairwise cosine {max_cos:.2f}. "
          + "; ".join(f"<= {b:.2f}: {len(v)}" for b, v in others.items()) + ".\n")
    print("| # | variant | WER | closest (cosine) |\n|---|---|---|---|")
    for k, i in enumerate(chosen):
        row = sub[k].copy()
        row[k] = -1
        j = int(np.argmax(row)) if len(chosen) > 1 else k
        closest = f"{vnames[j]} ({row[j]:.2f})" if len(chosen) > 1 else "—"
        print(f"| {k + 1} | {cands[i]['variant']} | {cands[i]['wer']:.3f} | {closest} |")
    print(f"\nwrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
