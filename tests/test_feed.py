"""The podcast feed of a batch, read back with a real feed reader (feedparser): every enclosure,
transcript and chapters link resolves to a file of the right size and type, and the feed is the
same bytes when nothing changed."""

from __future__ import annotations

import calendar
import json
import os
from pathlib import Path
from urllib.parse import unquote

import pytest

from broadcast.batch import run
from broadcast.feed import CHAPTERS_TYPE, NAMESPACE, TRANSCRIPT_TYPE, guid

from .test_batch import story

feedparser = pytest.importorskip("feedparser")

BASE = "https://example.org/shows"  # no trailing slash: the feed adds it
WHEN = 1_767_225_600 + 3600  # 2026-01-01 01:00 UTC, given to every transcript as its mtime


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    root = tmp_path_factory.mktemp("feed") / "shows"
    files = {"one.txt": story(1), "two.txt": story(2), "Season 1/Episode Three.txt": story(3),
             "untitled.txt": "ANN LEE, HOST: Good evening.\n\nBO KIM: Thank you for having me.\n",
             "blank.txt": "\n"}
    for n, (name, text) in enumerate(files.items()):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        os.utime(path, (WHEN + n * 60, WHEN + n * 60))
    out = root.parent / "site"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BROADCAST_CACHE_DIR", str(root.parent / "cache"))
        result = run([root], out, engine="silence", jobs=1, feed=BASE)
    return root, out, result


def local(out: Path, url: str) -> Path:
    assert url.startswith(BASE + "/")
    return out / unquote(url[len(BASE) + 1:])


def test_the_feed_is_rss_with_one_item_per_rendered_transcript(published):
    root, out, result = published
    assert result.feed == out / "feed.xml" and result.exit_code == 3  # blank.txt failed; the feed is still made
    feed = feedparser.parse(str(result.feed))
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "rss20"
    assert feed.feed.link == BASE + "/"
    assert NAMESPACE in feed.namespaces.values()
    assert len(feed.entries) == 4  # the failed transcript has none
    titles = {e.title for e in feed.entries}
    assert "The River Is Rising In Alder Falls, Part 1" in titles and "untitled" in titles  # no title: the stem


def test_every_link_resolves_to_its_file(published):
    root, out, result = published
    for entry in feedparser.parse(str(result.feed)).entries:
        (enclosure,) = entry.enclosures
        audio = local(out, enclosure.href)
        assert audio.is_file() and int(enclosure.length) == audio.stat().st_size
        assert enclosure.type == "audio/mpeg"
        transcript = local(out, entry.podcast_transcript["url"])
        assert entry.podcast_transcript["type"] == TRANSCRIPT_TYPE
        assert transcript.read_text(encoding="utf-8").startswith("WEBVTT")
        chapters = local(out, entry.podcast_chapters["url"])
        assert entry.podcast_chapters["type"] == CHAPTERS_TYPE
        assert json.loads(chapters.read_text(encoding="utf-8"))["chapters"]
        timeline = json.loads(audio.with_name(audio.stem + ".timeline.json").read_text(encoding="utf-8"))
        assert int(entry.itunes_duration) == max(1, round(timeline["duration_s"]))
    # a folder with a space is quoted in the URL and still found
    assert (out / "Season 1" / "episode-three.mp3").is_file()


def test_guids_and_dates_are_stable(published):
    root, out, result = published
    entries = feedparser.parse(str(result.feed)).entries
    by_title = {e.title: e for e in entries}
    one = by_title["The River Is Rising In Alder Falls, Part 1"]
    assert one.id == guid("one") and one.guidislink is False
    assert len({e.id for e in entries}) == len(entries)
    assert calendar.timegm(one.published_parsed) == WHEN  # the transcript's modification time
    assert [e.title for e in entries][0] == "untitled"  # newest first
    before = result.feed.read_bytes()
    again = run([root], out, engine="silence", jobs=1, feed=BASE)
    assert again.count("skipped") == 4 and again.feed.read_bytes() == before
