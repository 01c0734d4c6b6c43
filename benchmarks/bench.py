"""Speed and memory of a render against the naive reference, as the transcript grows.

    python benchmarks/bench.py [--n 1 5 10 20 40] [--engine espeak] [--engine neural] [--skip-naive] [--repeat 3]

Renders the example transcript repeated N times with `broadcast render` (a fresh process, no
cache) and, in the same run, the naive reference (benchmarks/naive.py). For each N: wall time,
peak memory of the whole process tree (resident, summed over the processes alive at each moment,
sampled every 20 ms; and proportional, which counts pages shared between workers once), the
real-time factor, and the ratio to the naive reference. Also the irreducible parts alone:
the engine's synthesis of every clip, through the render's own workers (no mastering, no
encoding: benchmarks/engine_only.py), and MP3 encoding of the finished program's PCM (our
render, decoded, encoded in 10 s pieces as the workers do). With --edit, also the cost of
a re-render after editing one turn: a cold render with a fresh clip cache, one word changed in
one turn, and the render again (target: at most 10 % of the cold one); and the same edit saved
while `render --watch` runs (the engines loaded, the cache warm). The edit is measured on a
variant whose repetitions differ ("Part 2. ..."), since with its cache on a render makes a
repeated text once.
Prints a table and writes benchmarks/results/bench.json. Needs `pip install -e '.[bench]'`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EXAMPLE = ROOT.parent / "shared" / "seed" / "npr_raqqa.txt"


def repeated(n: int, folder: Path, unique: bool = False) -> Path:
    """The example N times over, as one transcript (its chrome once at the top, footer at the end).
    `unique`: every paragraph of repetition k starts "Part k." so no two clips are the same text
    (a render with its cache on makes a repeated text once, which would flatter a cold render)."""
    source = EXAMPLE if EXAMPLE.exists() else ROOT / "seeds" / "newscast.txt"
    text = source.read_text(encoding="utf-8")
    lines = text.splitlines()
    body_start = next(i for i, line in enumerate(lines) if len(line.split()) > 12)
    head, body = "\n".join(lines[:body_start]), "\n".join(lines[body_start:])

    def part(k: int) -> str:
        if not unique:
            return body
        marked = []
        for line in body.splitlines():
            label, colon, words = line.partition(": ")
            if not (colon and len(label) < 40 and label.upper() == label):
                label, words = "", line
            cue = re.match(r"\([^)]*\)\.?\s*", words)  # "(Through interpreter)" stays first
            lead = cue.group() if cue else ""
            if words[len(lead):].strip():
                words = f"{lead}Part {k}. {words[len(lead):]}"
            marked.append(f"{label}: {words}" if label else words)
        return "\n".join(marked)

    path = folder / f"example-x{n}{'-unique' if unique else ''}.txt"
    path.write_text(head + "\n" + "\n\n".join(part(k + 1) for k in range(n)) + "\n", encoding="utf-8")
    return path


def measure(command: list[str], env: dict | None = None) -> dict:
    """Run a command; wall time and peak memory of its whole process tree. Resident size is
    sampled every 20 ms (cheap: /proc/PID/statm); the proportional size every 0.5 s, because
    reading /proc/PID/smaps of four 600 MB processes every 20 ms took a fifth of a core from the
    render being measured."""
    import psutil

    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    root = psutil.Process(proc.pid)
    peak_rss = peak_pss = 0
    next_pss = 0.0
    while proc.poll() is None:
        full = time.perf_counter() >= next_pss
        rss = pss = 0
        try:
            for p in [root, *root.children(recursive=True)]:
                try:
                    if full:
                        info = p.memory_full_info()
                        pss += info.pss
                    else:
                        info = p.memory_info()
                    rss += info.rss
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    pass
        except psutil.NoSuchProcess:
            break
        if full:
            next_pss = time.perf_counter() + 0.5
            peak_pss = max(peak_pss, pss)
        peak_rss = max(peak_rss, rss)
        time.sleep(0.02)
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {stderr.decode()[-500:]}")
    return {"wall_s": round(wall, 2), "peak_rss_mb": round(peak_rss / 2**20, 1),
            "peak_pss_mb": round(peak_pss / 2**20, 1), "stdout": stdout.decode()}


def synthesis_alone(source: Path, engine: str, jobs: int | None) -> float:
    """Seconds for the engine to synthesize every clip of the program, with the render's workers
    and nothing else (benchmarks/engine_only.py)."""
    code = (
        "import sys, time\n"
        "from broadcast import pipeline, program, synthesis\n"
        "from engine_only import EngineOnly\n"
        f"plan = pipeline.plan({str(source)!r}, engine={engine!r})\n"
        "items = program.running_order(plan.script, plan.cast, plan.settings)\n"
        f"jobs = {jobs} or pipeline.default_jobs(items)\n"
        "t = time.perf_counter()\n"
        "for _ in synthesis.synthesize(items, EngineOnly(), jobs=jobs): pass\n"
        "print(time.perf_counter() - t)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return round(float(out.stdout.strip().splitlines()[-1]), 2)


def encoding_alone(mp3: Path) -> float:
    """Seconds to MP3-encode the rendered program again (its decoded PCM), in 10 s pieces."""
    import soundfile

    from broadcast.export.mp3 import Mp3Format

    samples, rate = soundfile.read(str(mp3), dtype="float32", always_2d=True)
    fmt = Mp3Format.make(rate, samples.shape[1], 64)
    start = time.perf_counter()
    for at in range(0, len(samples), rate * 10):
        fmt.encode(samples[at: at + rate * 10])
    return round(time.perf_counter() - start, 2)


def edit_cost(n: int, engine: str, folder: Path, jobs: int | None) -> dict:
    """A cold render with a fresh cache, then the same after editing one turn (every clip's text
    unique, see `repeated`)."""
    source = repeated(n, folder, unique=True)
    env = {**os.environ, "BROADCAST_CACHE_DIR": str(folder / f"edit-cache-{engine}-{source.stem}")}  # cold: fresh per N

    def render(transcript: Path) -> dict:
        return measure([sys.executable, "-m", "broadcast.cli", "render", str(transcript), "-o", str(folder / "edit.mp3"),
                        "--engine", engine, "--quiet", "--json", *(["--jobs", str(jobs)] if jobs else [])], env)

    cold = render(source)
    edited = folder / f"{source.stem}-edited.txt"
    edited.write_text(source.read_text(encoding="utf-8").replace(" the ", " this ", 1), encoding="utf-8")
    warm = render(edited)
    hits = json.loads(warm["stdout"])
    watched = watch_edit_cost(source, engine, folder, jobs)
    return {"cold_s": cold["wall_s"], "edited_s": warm["wall_s"], "edited_over_cold": round(warm["wall_s"] / cold["wall_s"], 3),
            "edited_misses": hits["cache_misses"], "edited_hits": hits["cache_hits"], **watched,
            "watched_over_cold": round(watched["watched_edit_s"] / cold["wall_s"], 3)}


def watch_edit_cost(source: Path, engine: str, folder: Path, jobs: int | None) -> dict:
    """`render --watch` on a copy of `source` with a fresh cache: the seconds from saving the
    same one-word edit to the new files being in place (the "rendered again" line)."""
    import queue
    import threading

    copy = folder / f"{source.stem}-watched.txt"
    copy.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    env = {**os.environ, "BROADCAST_CACHE_DIR": str(folder / f"watch-cache-{engine}-{source.stem}")}
    proc = subprocess.Popen([sys.executable, "-m", "broadcast.cli", "render", str(copy), "-o", str(folder / "watch.mp3"),
                             "--engine", engine, "--watch", *(["--jobs", str(jobs)] if jobs else [])],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr], daemon=True).start()

    def until(text: str) -> str:
        while text not in (line := lines.get(timeout=600)):
            pass
        return line

    try:
        until("watching")
        saved = time.perf_counter()
        copy.write_text(copy.read_text(encoding="utf-8").replace(" the ", " this ", 1), encoding="utf-8")
        line = until("rendered again")
        elapsed = time.perf_counter() - saved
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    new = int(re.search(r"\((\d+) new", line).group(1))
    return {"watched_edit_s": round(elapsed, 2), "watched_misses": new}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1, 5, 10, 20, 40])
    parser.add_argument("--engine", action="append", help="espeak, neural (default: both)")
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--jobs", type=int, default=None, help="passed to render (default: its own choice)")
    parser.add_argument("--edit", action="store_true", help="also measure a re-render after editing one turn")
    parser.add_argument("--repeat", type=int, default=1, help="run render and synthesis alone this many times; "
                        "report medians (this machine's speed wanders by ±20 %%)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "bench.json")
    args = parser.parse_args()
    engines = args.engine or ["espeak", "neural"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = {**os.environ, "BROADCAST_CACHE_DIR": str(folder / "cache")}
        for n in args.n:
            source = repeated(n, folder)
            naive = None
            if not args.skip_naive:
                naive = measure([sys.executable, str(HERE / "naive.py"), str(source), str(folder / "naive.mp3")])
            for engine in engines:
                runs, synthesis = [], []
                for _ in range(args.repeat):  # alternated, so a slow spell of the machine hits both
                    runs.append(measure([sys.executable, "-m", "broadcast.cli", "render", str(source), "-o",
                                         str(folder / f"{engine}.mp3"), "--engine", engine, "--no-cache", "--quiet",
                                         "--json", *(["--jobs", str(args.jobs)] if args.jobs else [])], env))
                    synthesis.append(synthesis_alone(source, engine, args.jobs))
                ours = {"wall_s": statistics.median(r["wall_s"] for r in runs),
                        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
                        "peak_pss_mb": max(r["peak_pss_mb"] for r in runs)}
                audio_s = json.loads(runs[0]["stdout"])["duration_s"]
                row = {"n": n, "engine": engine, "audio_min": round(audio_s / 60, 1), **ours,
                       "realtime_x": round(audio_s / ours["wall_s"], 1),
                       "synthesis_s": statistics.median(synthesis),
                       "encoding_s": encoding_alone(folder / f"{engine}.mp3")}
                if args.repeat > 1:
                    row.update(runs=args.repeat, wall_each_s=[r["wall_s"] for r in runs], synthesis_each_s=synthesis)
                row["wall_over_synthesis"] = round(ours["wall_s"] / row["synthesis_s"], 2)
                if naive is not None:
                    row.update(naive_wall_s=naive["wall_s"], naive_peak_rss_mb=naive["peak_rss_mb"],
                               speedup_vs_naive=round(naive["wall_s"] / ours["wall_s"], 1))
                if args.edit:
                    row.update(edit_cost(n, engine, folder, args.jobs))
                rows.append(row)
                print(json.dumps(row), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": f"{os.cpu_count()} cores", "rows": rows}, indent=1) + "\n")
    print(table(rows))


def table(rows: list[dict]) -> str:
    head = ("| engine | N | audio (min) | wall (s) | × real time | peak RSS tree (MB) | peak PSS tree (MB) | "
            "synthesis alone (s) | wall / synthesis | MP3 encoding alone (s) | naive wall (s) | naive peak (MB) | "
            "speed-up | edit one turn / cold | the same, watching |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        lines.append(f"| {r['engine']} | {r['n']} | {r['audio_min']} | {r['wall_s']} | {r['realtime_x']} | "
                     f"{r['peak_rss_mb']} | {r['peak_pss_mb']} | {r['synthesis_s']} | {r['wall_over_synthesis']} | "
                     f"{r['encoding_s']} | {r.get('naive_wall_s', '')} | {r.get('naive_peak_rss_mb', '')} | "
                     f"{r.get('speedup_vs_naive', '')} | {r.get('edited_over_cold', '')} | "
                     f"{r.get('watched_over_cold', '')} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
