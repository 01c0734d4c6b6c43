"""Synthesis: order kept with uneven clips, parallel equals serial, the cache hits, misses and
heals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from broadcast.errors import EngineError
from broadcast.export.audio import PcmFormat
from broadcast.export.mp3 import Mp3Format
from broadcast.models import Item, Voice
from broadcast.pipeline import Finisher
from broadcast.synthesis import ClipCache, _ahead, clean, clip_key, synthesize

FINISH = Finisher(PcmFormat(24000, 1))


def items_of(texts: list[str], voice_ids=("a", "b")) -> tuple[Item, ...]:
    out = []
    for n, text in enumerate(texts):
        vid = voice_ids[n % len(voice_ids)]
        out.append(Item("speech", vid, "guest", text, text, Voice(f"silence:{vid}", "silence", vid), 300, turn=n))
    return tuple(out)


UNEVEN = ["one", "two words " * 40, "three", "a b c d e f g h", "x " * 200, "last"]


def test_order_is_kept_with_uneven_clip_lengths():
    items = items_of(UNEVEN)
    pieces = list(synthesize(items, FINISH, jobs=2))
    words = [len(t.split()) for t in UNEVEN]
    lengths = [p.length for p in pieces]
    assert sorted(range(len(words)), key=words.__getitem__) == sorted(range(len(lengths)), key=lengths.__getitem__)
    assert lengths == [p.length for p in synthesize(items, FINISH, jobs=1)]


def test_parallel_and_serial_give_identical_audio():
    items = items_of(UNEVEN)
    finish = Finisher(Mp3Format.make(24000, 1, 64))  # encoded in the workers, too
    serial = [p.data for p in synthesize(items, finish, jobs=1)]
    parallel = [p.data for p in synthesize(items, finish, jobs=2)]
    assert serial == parallel


def test_parallel_neural_equals_serial_neural():
    texts = ["The first sentence.", "A second, longer sentence follows it here.", "Third."]
    items = tuple(Item("speech", "A", "guest", t, t, Voice("neural:heart~deep", "neural", "heart", 0.5, 0.8), 0)
                  for t in texts)
    serial = [p.data for p in synthesize(items, FINISH, jobs=1)]
    parallel = [p.data for p in synthesize(items, FINISH, jobs=2)]
    assert serial == parallel and all(serial)


def test_chimes_are_pieces_and_items_without_speech_yield_none():
    items = items_of(["hello"]) + (Item("cue", "Narrator", "cue", "(MUSIC)", "", None, 300, "music"),
                                   Item("cue", "Narrator", "cue", "(LAUGHTER)", "", None, 300))
    hello, music, laughter = synthesize(items, FINISH, jobs=1)
    assert hello.length and music.length and laughter is None


def test_the_cache_hits_on_a_rerender_and_misses_only_the_edited_item(tmp_path):
    cache = ClipCache(tmp_path)
    texts = ["alpha beta", "gamma delta epsilon", "zeta"]
    first = list(synthesize(items_of(texts), FINISH, cache=cache))
    assert (cache.hits, cache.misses) == (0, 3)
    again = list(synthesize(items_of(texts), FINISH, cache=cache))
    assert (cache.hits, cache.misses) == (3, 3)
    assert all(a.data == b.data and np.array_equal(a.blocks, b.blocks) for a, b in zip(first, again))
    edited = list(synthesize(items_of(["alpha beta", "gamma delta EDITED", "zeta"]), FINISH, cache=cache))
    assert (cache.hits, cache.misses) == (5, 4)
    assert edited[0].data == first[0].data and edited[2].data == first[2].data


def test_a_corrupt_cache_entry_is_remade_never_played(tmp_path):
    cache = ClipCache(tmp_path)
    items = items_of(["some words to keep"])
    good = next(synthesize(items, FINISH, cache=cache)).data
    (entry,) = list(tmp_path.rglob("*.piece"))
    data = bytearray(entry.read_bytes())
    data[-100] ^= 0xFF  # one flipped byte in the audio
    entry.write_bytes(bytes(data))
    assert next(synthesize(items, FINISH, cache=cache)).data == good
    assert cache.misses == 2 and cache.hits == 0
    entry.write_bytes(b"BPIECE1")  # torn
    assert next(synthesize(items, FINISH, cache=cache)).data == good


def test_the_key_covers_everything_that_changes_the_audio():
    base = Voice("silence:a", "silence", "a")
    finish = FINISH.key
    keys = {
        clip_key(base, "text", finish), clip_key(base, "text!", finish),
        clip_key(base, "text", Finisher(PcmFormat(22050, 1)).key),
        clip_key(base, "text", Finisher(PcmFormat(24000, 2)).key),
        clip_key(base, "text", Finisher(Mp3Format.make(24000, 1, 64)).key),
        clip_key(base, "text", Finisher(Mp3Format.make(24000, 1, 96)).key),
        clip_key(Voice("silence:b", "silence", "b"), "text", finish),
        clip_key(Voice("silence:a", "silence", "a", pitch=0.9), "text", finish),
        clip_key(Voice("silence:a", "silence", "a", formant=0.9), "text", finish),
        clip_key(Voice("silence:a", "silence", "a", tilt=3.0), "text", finish),
        clip_key(Voice("silence:a", "silence", "a", rate_wpm=150), "text", finish),
        clip_key(Voice("silence:a", "silence", "a", volume=0.5), "text", finish),
    }
    assert len(keys) == 12


def test_a_cached_piece_comes_back_whole(tmp_path):
    cache = ClipCache(tmp_path)
    (made,) = synthesize(items_of(["several words of speech"]), FINISH, cache=cache)
    (back,) = synthesize(items_of(["several words of speech"]), FINISH, cache=cache)
    assert cache.hits == 1
    for field in ("data", "samples", "onset", "length", "true_peak"):
        assert getattr(back, field) == getattr(made, field), field
    assert np.array_equal(back.blocks, made.blocks)


def test_an_interrupt_while_a_piece_is_stored_leaves_no_temporary_file(tmp_path, monkeypatch):
    """SIGTERM becomes an exception wherever the main thread is, also inside `put`."""
    import os

    cache = ClipCache(tmp_path)
    (piece,) = synthesize(items_of(["several words of speech"]), FINISH)

    def interrupted(*_args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        cache.put("0" * 64, piece)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_clean_strips_control_characters():
    assert clean("a\x00b\x07c\u200b d\n\te") == "a b c d e"


def test_the_cache_keeps_to_its_limit_dropping_the_least_recently_used(tmp_path):
    import os

    texts = [f"entry number {n} with a few words" for n in range(6)]
    cache = ClipCache(tmp_path, limit_bytes=10**9)
    list(synthesize(items_of(texts, ("a",)), FINISH, cache=cache))
    entries = {text: path for text in texts
               for path in tmp_path.rglob(f"{clip_key(items_of([text], ('a',))[0].voice, text, FINISH.key)}.piece")}
    for age, text in enumerate(texts):  # entry 0 the oldest
        os.utime(entries[text], (1_000_000 + age, 1_000_000 + age))
    size = max(p.stat().st_size for p in entries.values())
    cache = ClipCache(tmp_path, limit_bytes=int(size * 4.2))
    list(synthesize(items_of([texts[0]], ("a",)), FINISH, cache=cache))  # a hit: entry 0 is now the newest
    assert cache.prune() > 0
    kept = {text for text, path in entries.items() if path.exists()}
    assert texts[0] in kept and texts[5] in kept and texts[1] not in kept
    assert sum(p.stat().st_size for p in tmp_path.rglob("*.piece")) <= size * 4.2 * 0.9
    assert ClipCache(tmp_path, limit_bytes=10**9).prune() == 0, "nothing to do under the limit"


def test_a_program_read_from_standard_input_can_ask_for_workers(tmp_path):
    import subprocess
    import sys

    program = ("from broadcast.synthesis import synthesize\n"
               "from tests.test_synthesis import FINISH, items_of\n"
               "pieces = list(synthesize(items_of(['one two', 'three four five']), FINISH, jobs=2))\n"
               "print(len(pieces), all(p.length for p in pieces))\n")
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-"], input=program, capture_output=True, text=True, cwd=root, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2", "True"]


def test_in_process_synthesis_runs_ahead_on_one_thread_in_order():
    """The in-process path makes clips on its own thread while the caller mixes: same clips, same
    order, every one made on one thread that is not the caller's (eSpeak must stay on one)."""
    import threading

    made_on = []
    source = (made_on.append(threading.get_ident()) or n for n in range(50))
    assert list(_ahead(source, 3)) == list(range(50))
    assert len(set(made_on)) == 1 and made_on[0] != threading.get_ident()


def test_an_engine_error_on_the_synthesis_thread_reaches_the_caller():
    def failing():
        yield 1
        raise EngineError("the engine broke")

    got = []
    with pytest.raises(EngineError, match="the engine broke"):
        for value in _ahead(failing(), 2):
            got.append(value)
    assert got == [1]


def test_a_caller_that_stops_early_stops_the_synthesis_thread():
    import threading
    import time

    made = []

    def endless():
        while True:
            made.append(1)
            yield len(made)

    stream = _ahead(endless(), 2)
    assert next(stream) == 1
    stream.close()
    deadline = time.monotonic() + 5
    while any(t.name == "broadcast-synthesis" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(t.name == "broadcast-synthesis" for t in threading.enumerate())
    assert len(made) <= 1 + 2 + 1  # the one taken, a full queue, the one it was offering


def test_a_cache_of_an_earlier_format_beside_ours_is_removed(tmp_path):
    """Clips of the format before pieces (clips-v1) are never read again: the first prune frees them."""
    old = tmp_path / "clips-v1" / "ab"
    old.mkdir(parents=True)
    (old / "ab12.clip").write_bytes(b"x" * 1000)
    cache = ClipCache(tmp_path / "pieces-v1")
    list(synthesize(items_of(["kept"]), FINISH, cache=cache))
    cache.prune()
    assert not (tmp_path / "clips-v1").exists() and list((tmp_path / "pieces-v1").rglob("*.piece"))


def test_an_in_process_engine_that_hangs_is_an_engine_error_not_a_hang():
    import time

    def hung():
        yield 1
        time.sleep(30)  # an engine that never answers
        yield 2

    stream = _ahead(hung(), 2, timeout_s=0.5)
    assert next(stream) == 1
    started = time.monotonic()
    with pytest.raises(EngineError, match="gave nothing for"):
        next(stream)
    assert time.monotonic() - started < 5


def test_a_render_after_an_engine_hung_in_this_process_is_an_error_not_a_wait(monkeypatch):
    """The in-process engine lock, still held by a hung engine's thread (here: by this test),
    makes the next in-process render an engine error after the clip timeout."""
    import time

    from broadcast import synthesis

    monkeypatch.setattr(synthesis, "CLIP_TIMEOUT_S", 1.0)
    assert synthesis._ENGINE_THREAD.acquire(timeout=5)
    try:
        started = time.monotonic()
        with pytest.raises(EngineError, match="still busy with an earlier render"):
            list(synthesize(items_of(["hello", "again"]), FINISH, jobs=1))
        assert time.monotonic() - started < 5
    finally:
        synthesis._ENGINE_THREAD.release()
    assert [p.length > 0 for p in synthesize(items_of(["hello"]), FINISH, jobs=1)] == [True], "released: works again"
