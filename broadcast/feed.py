"""OUT/feed.xml: an RSS 2.0 podcast feed of what a batch rendered, so listeners can subscribe.

feedgen writes it, with its `podcast` extension for the iTunes tags. The Podcasting 2.0
elements feedgen lacks, `<podcast:transcript>` (the episode's WebVTT) and `<podcast:chapters>`
(its JSON chapters, https://podcastindex.org/namespace/1.0), come from a small feedgen extension
below, so lxml still builds every element: no string templates.

Stable by construction: an item's GUID is a hash of its output path, its date the transcript
file's modification time, and the feed's lastBuildDate the newest of those. Rerunning an
unchanged batch writes the same bytes, and podcast apps see no new episodes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

from . import __version__

FEED = "feed.xml"
NAMESPACE = "https://podcastindex.org/namespace/1.0"
TRANSCRIPT_TYPE = "text/vtt"
CHAPTERS_TYPE = "application/json+chapters"


@dataclass(frozen=True)
class Episode:
    stem: str  # POSIX path of its outputs relative to OUT, without suffix ("nested/show")
    audio: Path
    title: str
    duration_s: float
    published: float  # POSIX time: the transcript file's modification time
    speakers: tuple[str, ...]


def _extension_classes():
    """feedgen's extension base classes, imported only when a feed is written."""
    from feedgen.ext.base import BaseEntryExtension, BaseExtension

    class Podcasting20(BaseExtension):
        def extend_ns(self) -> dict[str, str]:
            return {"podcast": NAMESPACE}

    class Podcasting20Entry(BaseEntryExtension):
        def __init__(self) -> None:
            self.links: list[tuple[str, dict[str, str]]] = []

        def transcript(self, url: str, type: str, rel: str | None = None) -> None:
            self.links.append(("transcript", {"url": url, "type": type, **({"rel": rel} if rel else {})}))

        def chapters(self, url: str, type: str = CHAPTERS_TYPE) -> None:
            self.links.append(("chapters", {"url": url, "type": type}))

        def extend_rss(self, item):
            from lxml import etree

            for tag, attributes in self.links:
                etree.SubElement(item, f"{{{NAMESPACE}}}{tag}", attributes)
            return item

    return Podcasting20, Podcasting20Entry


def guid(stem: str) -> str:
    """The same output path gives the same GUID on every run (not a permalink: URLs may move)."""
    return "broadcast-" + hashlib.sha256(stem.encode("utf-8")).hexdigest()[:32]


def write_feed(out: Path, base_url: str, episodes: Sequence[Episode]) -> Path:
    """Write OUT/feed.xml for `episodes`, whose files are served under `base_url` as under OUT.
    The feed is titled after the output folder; edit the channel by hand if it needs more."""
    from feedgen.feed import FeedGenerator

    from .export import atomic

    base = base_url if base_url.endswith("/") else base_url + "/"

    def url(relative: str) -> str:
        return base + quote(relative, safe="/")

    title = Path(out).resolve().name or "broadcast"
    fg = FeedGenerator()
    fg.load_extension("podcast")
    fg.register_extension("podcastindex", *_extension_classes(), atom=False)
    fg.title(title)
    fg.link(href=url(FEED), rel="self")
    fg.link(href=base, rel="alternate")  # last: feedgen makes the last link the channel's <link>
    fg.description(f"{title}: {len(episodes)} programs rendered from transcripts by broadcast")
    fg.language("en")
    fg.generator("broadcast", __version__)
    fg.podcast.itunes_explicit("no")
    fg.podcast.itunes_category("News")
    newest = max((e.published for e in episodes), default=0.0)
    fg.lastBuildDate(datetime.fromtimestamp(newest, timezone.utc))

    for episode in sorted(episodes, key=lambda e: (-e.published, e.stem)):
        audio = episode.audio
        fe = fg.add_entry(order="append")
        fe.title(episode.title)
        fe.guid(guid(episode.stem), permalink=False)
        fe.pubDate(datetime.fromtimestamp(episode.published, timezone.utc))
        fe.enclosure(url(f"{episode.stem}{audio.suffix}"), str(audio.stat().st_size), "audio/mpeg")
        if episode.speakers:
            fe.description("With " + ", ".join(episode.speakers) + ".")
        fe.podcast.itunes_duration(max(1, round(episode.duration_s)))
        if audio.with_name(f"{audio.stem}.vtt").exists():
            fe.podcastindex.transcript(url(f"{episode.stem}.vtt"), TRANSCRIPT_TYPE, rel="captions")
        if audio.with_name(f"{audio.stem}.chapters.json").exists():
            fe.podcastindex.chapters(url(f"{episode.stem}.chapters.json"))

    path = Path(out) / FEED
    with atomic(path) as (handle, _):
        handle.write(fg.rss_str(pretty=True))
    return path
