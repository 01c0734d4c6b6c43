"""Turn-level precision and recall of the transcript parser over the fixture corpus.

A parsed turn is right when its speaker, role, kind, `interpreted` flag and the start of its text
all match an expected turn (tests/fixtures/transcripts/NAME.json). Parsed and expected turns are
aligned in order (longest common subsequence), so one missed or extra turn costs one turn, not
every turn after it. Precision = right / parsed, recall = right / expected.

    python benchmarks/parser_corpus.py            # totals and one line per fixture
    python benchmarks/parser_corpus.py -v         # also every turn that does not match

Not a test: the tests (tests/test_parser_corpus.py) demand every fixture exactly; this script
measures how far from that a parser change moves us.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from broadcast.errors import TranscriptError
from broadcast.transcript import parse

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "transcripts"


def _same(got, want: dict) -> bool:
    """Whether a parsed turn is the expected one (speaker, role, kind, interpreted, start)."""
    return (got.speaker == want["speaker"] and got.role == want["role"] and got.kind == want["kind"]
            and got.interpreted == want["interpreted"] and got.text.startswith(want["starts"]))


def _matches(got: list, want: list[dict]) -> int:
    """Length of the longest common subsequence under `_same` (inputs are a few dozen turns)."""
    rows = [[0] * (len(want) + 1) for _ in range(len(got) + 1)]
    for i in range(len(got) - 1, -1, -1):
        for j in range(len(want) - 1, -1, -1):
            rows[i][j] = (rows[i + 1][j + 1] + 1 if _same(got[i], want[j])
                          else max(rows[i + 1][j], rows[i][j + 1]))
    return rows[0][0]


def _show(got: list, want: list[dict]) -> None:
    """Print both turn lists side by side, marking expected turns that were not found."""
    for k in range(max(len(got), len(want))):
        g = got[k] if k < len(got) else None
        w = want[k] if k < len(want) else None
        mark = "  " if g is not None and w is not None and _same(g, w) else "!!"
        gs = (f"{g.speaker}/{g.role}/{g.kind}/{'i' if g.interpreted else '-'} L{g.line} {g.text[:40]!r}"
              if g else "-")
        ws = (f"{w['speaker']}/{w['role']}/{w['kind']}/{'i' if w['interpreted'] else '-'} L{w['line']} "
              f"{w['starts'][:40]!r}" if w else "-")
        print(f"   {mark} got  {gs}\n      want {ws}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-v", "--verbose", action="store_true", help="show the turns of imperfect fixtures")
    args = ap.parse_args()
    total_got = total_want = total_right = 0
    for expected_path in sorted(CORPUS.glob("*.json")):
        want = json.loads(expected_path.read_text(encoding="utf-8"))["turns"]
        try:
            got = list(parse(expected_path.with_suffix(".txt")).turns)
        except TranscriptError as exc:
            print(f"{expected_path.stem:28s} error: {exc}")
            got = []
        right = _matches(got, want)
        total_got, total_want, total_right = total_got + len(got), total_want + len(want), total_right + right
        flag = "" if right == len(got) == len(want) else "  <-"
        print(f"{expected_path.stem:28s} {right:3d} right of {len(got):3d} parsed, {len(want):3d} expected{flag}")
        if args.verbose and flag:
            _show(got, want)
    precision = total_right / total_got if total_got else 0.0
    recall = total_right / total_want if total_want else 0.0
    print(f"\nturns: {total_right} right, {total_got} parsed, {total_want} expected")
    print(f"precision {precision:.1%}  recall {recall:.1%}")


if __name__ == "__main__":
    main()
