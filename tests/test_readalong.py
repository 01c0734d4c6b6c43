"""The read-along page without a browser: its structure (landmarks, headings, a list of headed
turns, a name for every control), its colours (WCAG contrast, computed here from its CSS), that
it is self-contained, and that everything it shows is escaped."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

from broadcast import render
from broadcast.export.readalong import page, turn_views
from broadcast.models import Segment, Timeline

from .conftest import SEEDS

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list = field(default_factory=list)  # Node or str
    parent: "Node | None" = None

    def text(self) -> str:
        return " ".join("".join(c if isinstance(c, str) else " " + c.text() + " " for c in self.children).split())

    def elements(self) -> list["Node"]:
        return [c for c in self.children if isinstance(c, Node)]

    def iter(self):
        for child in self.elements():
            yield child
            yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs) -> list["Node"]:
        return [n for n in self.iter() if (tag is None or n.tag == tag)
                and all(n.attrs.get(k.rstrip("_")) == v for k, v in attrs.items())]

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())


class Tree(HTMLParser):
    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.root = self.current = Node("#document", {})
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs}, parent=self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        assert node is not None, f"stray </{tag}>"
        self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[Timeline, Path, str]:
    out = tmp_path_factory.mktemp("readalong")
    done = render(SEEDS / "cable-news.txt", out / "cable-news.wav", engine="silence", jobs=1, formats="wav,html")
    return done.timeline, done.audio, done.audio.with_suffix(".html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def tree(rendered) -> Node:
    return Tree(rendered[2]).root


def accessible_name(node: Node, root: Node) -> str:
    """Enough of the accessible-name computation for this page: aria-labelledby, aria-label, a
    label element, then the content."""
    if node.attrs.get("aria-labelledby"):
        parts = [root.find_all(id=i) for i in node.attrs["aria-labelledby"].split()]
        assert all(parts), f"aria-labelledby names a missing id: {node.attrs}"
        return " ".join(p[0].text() for p in parts)
    if node.attrs.get("aria-label"):
        return node.attrs["aria-label"]
    parent = node.parent
    while parent is not None:
        if parent.tag == "label":
            return parent.text()
        parent = parent.parent
    if node.attrs.get("id"):
        labels = root.find_all("label", for_=node.attrs["id"])
        if labels:
            return labels[0].text()
    return node.text() if node.tag not in ("input", "audio") else ""


def test_landmarks_and_headings(tree):
    for tag in ("header", "main", "nav"):
        assert len(tree.find_all(tag)) == 1, tag
    assert tree.find_all("html")[0].attrs.get("lang")
    assert tree.find_all("title")[0].text()
    h1 = tree.find_all("h1")
    assert len(h1) == 1 and h1[0].text().startswith("Storms Flatten Kentucky Town")
    assert {h.text() for h in tree.find_all("h2")} == {"Who speaks when", "Speakers", "Transcript"}


def test_every_control_has_a_name(tree):
    controls = [n for n in tree.iter()
                if n.tag in ("a", "audio", "button", "input", "select", "textarea")
                or n.attrs.get("role") in ("slider", "button", "checkbox")
                or n.attrs.get("tabindex") == "0"]
    assert len(controls) > 10
    for control in controls:
        assert accessible_name(control, tree).strip(), f"no accessible name: <{control.tag} {control.attrs}>"
    slider = tree.find_all(role="slider")
    assert len(slider) == 1 and slider[0].attrs["tabindex"] == "0"
    for attribute in ("aria-valuemin", "aria-valuemax", "aria-valuenow", "aria-valuetext"):
        assert slider[0].attrs.get(attribute), attribute


def test_transcript_is_a_list_of_headed_turns(rendered, tree):
    timeline, _, _ = rendered
    lists = [n for n in tree.find_all("ol") if "turns" in n.classes()]
    assert len(lists) == 1 and lists[0].parent.tag == "main"
    items = lists[0].elements()
    views = turn_views(timeline)
    assert all(item.tag == "li" for item in items) and len(items) == len(views)
    for item, view in zip(items, views):
        heading = item.elements()[0]
        assert heading.tag == "h3" and heading.text().startswith(view.speaker)
        assert item.attrs["tabindex"] == "0" and accessible_name(item, tree).startswith(view.speaker)
        assert " ".join(view.paragraphs) in item.text()
    # every speech segment's words are on the page, in program order
    text = lists[0].text()
    position = 0
    for seg in timeline.segments:
        if seg.kind == "speech":
            position = text.index(" ".join(seg.text.split()), position)


def test_embedded_timeline_matches_the_page(rendered, tree):
    timeline, audio, _ = rendered
    scripts = tree.find_all("script", type="application/json")
    data = json.loads(scripts[0].text())
    assert data["duration_s"] == round(timeline.duration_s, 3) and data["audio"] == audio.name
    assert len(data["turns"]) == len(tree.find_all("li", tabindex="0"))
    assert len(data["segments"]) == len(timeline.segments) == len([n for n in tree.iter() if "band" in n.classes()])
    assert all(a["from_s"] <= a["start_s"] < a["end_s"] for a in data["turns"])


def test_self_contained(rendered, tree):
    _, audio, text = rendered
    assert tree.find_all("audio")[0].attrs["src"] == audio.name
    for node in tree.iter():
        for attribute in ("src", "href", "action", "poster", "data"):
            value = node.attrs.get(attribute)
            if value is not None:
                assert not re.match(r"^([a-z][a-z0-9+.-]*:|//)", value, re.I), f"external reference {value!r}"
    assert not re.search(r"https?:|url\(|@import|<link|<iframe", text, re.I)
    assert all("src" not in script.attrs for script in tree.find_all("script"))


# --- colour contrast (WCAG 2.2, 1.4.3 text ≥ 4.5:1; 1.4.11 graphics ≥ 3:1) ---

def luminance(colour: str) -> float:
    value = colour.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    channels = [int(value[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_calculation_matches_wcag_examples():
    assert contrast("#000", "#fff") == pytest.approx(21.0)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


def test_colour_pairs_are_readable_in_light_and_dark(tree):
    css = tree.find_all("style")[0].text()
    schemes = [dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{3,6})", block))
               for block in re.findall(r":root\s*{([^}]*)}", css)]
    assert len(schemes) == 2, "a light and a dark palette"
    speakers = dict(re.findall(r"\.(s\w+)\s*{\s*--c:\s*(#[0-9a-fA-F]{6})", css))
    assert {"s0", "sn", "sx"} <= set(speakers)
    for scheme in schemes:
        for fg, bg in (("text", "bg"), ("muted", "bg"), ("text", "current-bg"), ("muted", "current-bg")):
            assert contrast(scheme[fg], scheme[bg]) >= 4.5, (fg, bg, scheme)
        assert contrast(scheme["focus"], scheme["bg"]) >= 3, "focus ring"
        assert contrast(scheme["focus"], scheme["current-bg"]) >= 3, "focus ring on the current turn"
        assert contrast(scheme["playhead"], scheme["track"]) >= 3, "playhead"
        for name, colour in speakers.items():
            assert contrast(colour, scheme["track"]) >= 3, f"band {name} {colour} against the strip"


def test_text_is_escaped_everywhere():
    nasty = "</script><script>alert(1)</script> & <b>"
    timeline = Timeline(nasty, "x.txt", "a b&c.mp3", 10.0, 24000, 1, -19.0, -1.6, ((nasty, "guest", "silence:a"),),
                        (Segment(0, 0.0, 1.0, "Narrator", "narrator", "announcement", "silence:n", nasty, None, None),
                         Segment(1, 1.5, 9.0, nasty, "guest", "speech", "silence:a", nasty, 3, 0)))
    text = page(timeline, Path("out/a b&c.mp3"))
    assert "<script>alert" not in text and "<b>" not in text
    assert text.count("</script>") == 2  # the data's and the code's own, nothing from the text
    tree = Tree(text).root
    assert tree.find_all("h1")[0].text() == nasty
    assert tree.find_all("audio")[0].attrs["src"] == "a%20b%26c.mp3"
    data = json.loads(tree.find_all("script", type="application/json")[0].text())
    assert data["turns"][0]["speaker"] == nasty and data["turns"][0]["from_s"] == 0.0
