"""Shared fixtures: an isolated clip cache, the example transcript, and seeds."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
EXAMPLE = ROOT.parent / "shared" / "seed" / "npr_raqqa.txt"


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own clip cache: no test sees another's clips or the user's."""
    monkeypatch.setenv("BROADCAST_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def example() -> Path:
    if not EXAMPLE.exists():
        pytest.skip(f"the example transcript is not here ({EXAMPLE})")
    return EXAMPLE


@pytest.fixture
def short_transcript(tmp_path) -> Path:
    path = tmp_path / "short.txt"
    path.write_text(
        "Play Live Radio\n\nA Short Test Story\n\n"
        "Good morning. This is a short story about a bridge in a small town.\n\n"
        "JANE ROE, BYLINE: The bridge opened on Tuesday after two years of work.\n\n"
        "SAM LEE: (Speaking Spanish).\n\n"
        "LEE: (Through interpreter) We waited a long time for this day.\n\n"
        "ROE: Jane Roe, News, Springfield. Copyright Test Radio.\n",
        encoding="utf-8",
    )
    return path
