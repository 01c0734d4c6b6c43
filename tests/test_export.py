"""Export: chapters, tags, formats and atomic writes."""

from __future__ import annotations

import json
import os

import pytest

from broadcast import render
from broadcast.errors import OutputError
from broadcast.export import atomic, chapter_marks, slug, write_text
from broadcast.models import Segment, Timeline


def timeline_of(rows) -> Timeline:
    segments = tuple(Segment(n, a, b, who, "guest", kind, None, "t", None, None) for n, (a, b, who, kind) in enumerate(rows))
    return Timeline("T", "s.txt", "s.mp3", 20.0, 24000, 1, -19.0, -2.0, (), segments)


def test_chapters_are_named_for_people_and_tile_the_program():
    t = timeline_of([(0.0, 2.0, "Narrator", "announcement"), (2.5, 5.0, "Host", "speech"),
                     (5.5, 6.0, "Narrator", "announcement"), (6.5, 9.0, "Jane Roe", "speech"),
                     (9.3, 11.0, "Jane Roe", "speech"), (11.3, 12.0, "Narrator", "cue"), (12.5, 19.0, "Host", "speech")])
    assert chapter_marks(t) == [(0.0, 5.5, "Host"), (5.5, 11.3, "Jane Roe"), (11.3, 20.0, "Host")]


def test_slug_keeps_names_inside_the_folder():
    assert slug("../../etc/passwd") == "etc-passwd"
    assert slug("Émission spéciale: l'été!") == "emission-speciale-l-ete"
    assert slug("///") == "program"
    assert "/" not in slug("a/b\\c") and len(slug("x" * 500)) <= 80


def test_atomic_write_leaves_the_old_file_on_failure(tmp_path):
    path = tmp_path / "keep.txt"
    path.write_text("good")
    with pytest.raises(RuntimeError):
        with atomic(path, "w") as (handle, _):
            handle.write("half")
            raise RuntimeError("interrupted")
    assert path.read_text() == "good"
    assert os.listdir(tmp_path) == ["keep.txt"]
    write_text(path, "new")
    assert path.read_text() == "new"


def test_a_directory_in_the_way_is_an_output_error(tmp_path):
    (tmp_path / "x.txt").mkdir()
    with pytest.raises(OutputError, match="is a directory"):
        write_text(tmp_path / "x.txt", "text")


def test_m4b_has_the_timeline_chapters(short_transcript, tmp_path):
    from mutagen.mp4 import MP4

    result = render(short_transcript, tmp_path / "book.m4b", engine="silence", jobs=1, formats="m4b")
    audio = MP4(result.audio)
    assert audio.info.length == pytest.approx(result.timeline.duration_s, abs=0.1)
    starts = [round(c.start, 2) for c in audio.chapters]
    assert starts == [round(a, 2) for a, _b, _s in chapter_marks(result.timeline)]
    assert [c.title for c in audio.chapters] == [s for _a, _b, s in chapter_marks(result.timeline)]
    assert audio.tags["\xa9nam"] == ["A Short Test Story"]


def test_mp3_tags(short_transcript, tmp_path):
    from mutagen.id3 import ID3

    result = render(short_transcript, tmp_path / "show.mp3", engine="silence", jobs=1)
    tags = ID3(result.audio)
    assert tags.version[:2] == (2, 3)
    assert tags["TIT2"].text == ["A Short Test Story"]
    assert "short.txt" in tags.getall("COMM")[0].text[0]
    toc = tags.getall("CTOC")[0]
    assert len(toc.child_element_ids) == len(chapter_marks(result.timeline)) == len(tags.getall("CHAP"))
    timeline = json.loads(result.sidecars[0].read_text())
    assert timeline["version"] == 1 and timeline["audio"] == "show.mp3"
