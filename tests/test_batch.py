"""Batches of transcripts: the local pool and a Dask cluster give the same files, a bad transcript
fails alone, an interrupted batch resumes, a worker killed mid-batch costs nothing, and every
speaker keeps one voice across the batch. All with the silence engine, so it takes seconds."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from broadcast.batch import MANIFEST, REPORT, Reporter, find, run, stem_for
from broadcast.cli import app

from .conftest import SEEDS

runner = CliRunner()

STORY = """{title}

{first}

{second}

{guest_label}: {quote}

ROE: Jane Roe, News, {town}.
"""
HOST = "DANIEL PRICE, HOST: Good evening. Tonight, {topic}. Jane Roe has the story."
REPORTER = "JANE ROE, BYLINE: In {town}, people have talked about little else this week."
TOPICS = [("a bridge reopens", "Springfield", "SAM LEE", "We waited a long time for this day."),
          ("the river is rising", "Alder Falls", "ANA RUIZ, RESIDENT", "We moved the furniture upstairs."),
          ("a new library", "Carver Hollow", "OMAR HADDAD", "Every box had a note in it."),
          ("the harvest is late", "Millbrook", "LUIS ORTEGA, FARMER", "The soil was simply too wet."),
          ("a school reopens", "Greenville", "SAM LEE", "The children ran in before the bell."),
          ("the mayor resigns", "Riverside", "NORA BLAKE", "It was time for someone new."),
          ("a storm passes", "Fairview", "TOM WELLS", "Six minutes of warning is not enough.")]
#: relative paths of the small transcripts, in folders, beside three copies of the seeds
LAYOUT = ["evening-1.txt", "nested/evening 2.txt", "nested/evening-3.txt", "nested/deeper/evening-4.txt",
          "nested/deeper/evening-5.txt", "other/evening-6.txt", "other/evening-7.txt"]


def story(n: int) -> str:
    topic, town, guest, quote = TOPICS[n % len(TOPICS)]
    host, reporter = HOST.format(topic=topic), REPORTER.format(town=town)
    first, second = (reporter, host) if n % 3 == 1 else (host, reporter)  # who speaks first varies
    return STORY.format(title=f"{topic} in {town}, part {n}".title(), first=first, second=second, guest_label=guest,
                        quote=quote, town=town)


def make_corpus(root: Path) -> Path:
    """Ten transcripts: the three seeds (one with an edit) and seven short stories in folders."""
    root.mkdir(parents=True, exist_ok=True)
    for seed in sorted(SEEDS.glob("*.txt")):
        shutil.copy(seed, root / seed.name)
    podcast = root / "podcast.txt"
    podcast.write_text(podcast.read_text(encoding="utf-8") + "\nDana: That's our show. Thanks for listening.\n",
                       encoding="utf-8")
    for n, name in enumerate(LAYOUT, 1):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(story(n), encoding="utf-8")
    return root


def outputs(out: Path) -> dict[str, bytes]:
    """Every file a batch wrote under `out`, but its report (which has timings in it)."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != REPORT}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return make_corpus(tmp_path_factory.mktemp("corpus") / "shows")


@pytest.fixture(scope="module")
def module_cache(tmp_path_factory):
    """One clip cache for the module's batches and the cluster's workers (which inherit it)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BROADCAST_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(scope="module")
def local_batch(corpus, module_cache, tmp_path_factory):
    out = tmp_path_factory.mktemp("local") / "out"
    return out, run([corpus], out, engine="silence", jobs=2)


@pytest.fixture(scope="module")
def cluster(module_cache):
    distributed = pytest.importorskip("distributed")
    import logging

    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
                                  silence_logs=logging.CRITICAL) as local:
        yield local


# ----------------------------------------------------------------------------- finding inputs

def test_find_walks_folders_and_globs_keeping_structure(tmp_path):
    root = make_corpus(tmp_path / "shows")
    (root / ".hidden").mkdir()
    (root / ".hidden" / "secret.txt").write_text("HOST: Not this one.\n")
    (root / "notes.md").write_text("not a transcript")
    names = [s.name for s in find([root])]
    assert sorted(names) == sorted(["cable-news.txt", "newscast.txt", "podcast.txt", *LAYOUT])
    # a glob is relative to its fixed part; a file named twice is found once
    found = find([str(root / "nested" / "**" / "*.txt"), root / "nested" / "evening-3.txt"])
    assert [s.name for s in found] == ["deeper/evening-4.txt", "deeper/evening-5.txt", "evening 2.txt",
                                       "evening-3.txt"]
    assert [s.name for s in find([root / "podcast.txt"])] == ["podcast.txt"]
    assert stem_for("nested/evening 2.txt") == "nested/evening-2"


@pytest.mark.parametrize("arg, message", [("missing.txt", "no such file"), ("*.nothing", "matches no files"),
                                          ("empty-folder", "no *.txt transcripts")])
def test_inputs_that_name_nothing_stop_the_batch(tmp_path, monkeypatch, arg, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty-folder").mkdir()
    result = runner.invoke(app, ["batch", arg, "-o", "out", "--engine", "silence"])
    assert result.exit_code == 3 and message in result.stderr
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------------- local pool

def test_local_batch_renders_every_transcript_under_its_folder(local_batch, corpus):
    out, result = local_batch
    assert (result.count("rendered"), result.count("skipped"), result.count("failed")) == (10, 0, 0)
    assert result.exit_code == 0
    for source in find([corpus]):
        stem = out / source.stem
        for suffix in (".mp3", ".timeline.json", ".vtt", ".srt", ".chapters.json", ".html"):
            assert stem.with_name(stem.name + suffix).is_file()
        timeline = json.loads(stem.with_name(stem.name + ".timeline.json").read_text())
        assert timeline["source"] == source.name  # never the worker's temporary path
    assert (out / "nested" / "evening-2.mp3").is_file() and (out / "nested" / "deeper" / "evening-5.mp3").is_file()
    report = json.loads((out / REPORT).read_text())
    assert (report["rendered"], report["failed"], report["exit_code"]) == (10, 0, 0)
    assert len({row["worker"] for row in report["transcripts"]}) == 2  # two processes shared the work


def test_a_speaker_keeps_one_voice_across_the_batch(local_batch):
    out, result = local_batch
    voices: dict[str, set[str]] = {}
    for timeline in out.rglob("*.timeline.json"):
        for speaker in json.loads(timeline.read_text())["speakers"]:
            voices.setdefault(speaker["name"], set()).add(speaker["voice"])
    assert {"Daniel Price", "Jane Roe", "Sam Lee"} <= set(voices)  # in several programs, in varying order
    assert all(len(v) == 1 for v in voices.values()), voices
    assert result.recast == ()


def test_a_speaker_moved_by_a_collision_is_reported(tmp_path):
    """Casting starts from a hash of the name, but two speakers of one program never share a
    voice: with the silence engine's four voices Priya Raman takes another voice beside Daniel
    Price and Jane Roe than alone with the podcast's hosts. The batch says so."""
    root = tmp_path / "shows"
    root.mkdir()
    shutil.copy(SEEDS / "podcast.txt", root / "podcast.txt")
    (root / "story.txt").write_text(story(3).replace("LUIS ORTEGA, FARMER", "PRIYA RAMAN"), encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["batch", str(root), "-o", str(out), "--engine", "silence", "--jobs", "1"])
    assert result.exit_code == 0, result.stderr
    assert "'Priya Raman' has 2 voices across the batch" in result.stderr
    assert list(json.loads((out / REPORT).read_text())["recast"]) == ["Priya Raman"]


def test_cli_batch_prints_paths_and_json(corpus, tmp_path):
    out = tmp_path / "out"
    args = ["batch", str(corpus / "nested"), "-o", str(out), "--engine", "silence", "--jobs", "1"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines == [str(out / "deeper" / "evening-4.mp3"), str(out / "deeper" / "evening-5.mp3"),
                     str(out / "evening-2.mp3"), str(out / "evening-3.mp3"), str(out / REPORT)]
    assert "4 rendered" in result.stderr
    again = runner.invoke(app, args + ["--json"])
    data = json.loads(again.stdout)
    assert (data["rendered"], data["skipped"]) == (0, 4)


# -------------------------------------------------------------------------------- dask cluster

def test_dask_cluster_gives_the_same_files_as_the_local_pool(local_batch, corpus, cluster, tmp_path):
    local_out, _ = local_batch
    out = tmp_path / "out"
    result = run([corpus], out, engine="silence", scheduler=cluster.scheduler_address)
    assert (result.count("rendered"), result.exit_code) == (10, 0)
    assert outputs(out) == outputs(local_out)  # byte for byte, MP3s included
    report = json.loads((out / REPORT).read_text())
    assert report["scheduler"] == cluster.scheduler_address


def test_a_worker_killed_mid_batch_is_replaced_and_the_batch_completes(corpus, cluster, tmp_path):
    from distributed import Client
    from distributed.diagnostics.plugin import WorkerPlugin

    marker = tmp_path / "killed"

    class KillOnce(WorkerPlugin):
        """Kills its worker process the first time a task for `needle` starts, like an OOM kill."""

        def __init__(self, marker: str, needle: str):
            self.marker, self.needle = marker, needle

        def transition(self, key, start, finish, **kwargs):
            import os
            import signal

            if finish == "executing" and self.needle in str(key) and not os.path.exists(self.marker):
                with open(self.marker, "w") as f:
                    f.write(str(os.getpid()))
                os.kill(os.getpid(), signal.SIGKILL)

    with Client(cluster.scheduler_address) as client:
        client.register_plugin(KillOnce(str(marker), "deeper/evening-4"), name="kill-once")
        try:
            result = run([corpus / "nested"], tmp_path / "out", engine="silence", scheduler=cluster.scheduler_address)
        finally:
            client.unregister_worker_plugin("kill-once")
    assert marker.exists(), "the worker was never killed"
    assert (result.count("rendered"), result.exit_code) == (4, 0)
    victim = next(e for e in result.entries if e.source.name == "deeper/evening-4.txt")
    assert victim.status == "rendered" and victim.worker.split(":")[1] != marker.read_text()
    assert (tmp_path / "out" / "deeper" / "evening-4.mp3").stat().st_size > 0


def test_an_unreachable_scheduler_is_a_usage_error(corpus, tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    from broadcast import batch

    monkeypatch.setattr(batch._DaskCluster, "connect_timeout", "1s")
    result = runner.invoke(app, ["batch", str(corpus / "other"), "-o", str(tmp_path / "out"), "--engine", "silence",
                                 "--scheduler", "tcp://127.0.0.1:9"])
    assert result.exit_code == 2 and "cannot reach the Dask scheduler" in result.stderr


# ---------------------------------------------------------------------------- failures, resume

def test_a_bad_transcript_fails_alone(tmp_path):
    root = tmp_path / "shows"
    root.mkdir()
    for n in range(3):
        (root / f"good-{n}.txt").write_text(story(n), encoding="utf-8")
    (root / "blank.txt").write_text("\n\n   \n", encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["batch", str(root), "-o", str(out), "--engine", "silence", "--jobs", "1"])
    assert result.exit_code == 3
    assert "failed: blank.txt:" in result.stderr and "(exit code 3)" in result.stderr
    assert sorted(p.name for p in out.glob("*.mp3")) == ["good-0.mp3", "good-1.mp3", "good-2.mp3"]
    assert str(out / "blank.mp3") not in result.stdout
    report = json.loads((out / REPORT).read_text())
    failed = [row for row in report["transcripts"] if row["status"] == "failed"]
    assert [(row["name"], row["exit_code"]) for row in failed] == [("blank.txt", 3)]
    assert (report["rendered"], report["failed"], report["exit_code"]) == (3, 1, 3)


def test_two_inputs_with_the_same_outputs_do_not_overwrite_each_other(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "show.txt").write_text(story(len(folder)), encoding="utf-8")
    result = run([tmp_path / "a" / "show.txt", tmp_path / "b" / "show.txt"], tmp_path / "out", engine="silence",
                 jobs=1)
    assert [e.status for e in result.entries] == ["rendered", "failed"]
    assert result.exit_code == 6 and "would replace those of" in result.failed[0].error


class Interrupt(Reporter):
    """Ctrl-C after `after` transcripts are done."""

    def __init__(self, after: int):
        self.after, self.done = after, 0

    def advance(self, steps: int = 1) -> None:
        self.done += steps
        if self.done >= self.after:
            raise KeyboardInterrupt


def test_an_interrupted_batch_resumes_where_it_stopped(tmp_path):
    root = tmp_path / "shows"
    for n, name in enumerate(LAYOUT[:5], 1):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(story(n), encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run([root], out, engine="silence", jobs=1, reporter=Interrupt(after=2))
    assert not (out / REPORT).exists() and len(json.loads((out / MANIFEST).read_text())["outputs"]) == 2

    resumed = run([root], out, engine="silence", jobs=1)
    assert (resumed.count("skipped"), resumed.count("rendered")) == (2, 3)
    first = outputs(out)

    # two outputs lost: only those two transcripts are rendered again, to the same bytes
    (out / "evening-1.mp3").unlink()
    (out / "nested" / "evening-3.vtt").unlink()
    again = run([root], out, engine="silence", jobs=1)
    rendered = [e.source.name for e in again.entries if e.status == "rendered"]
    assert rendered == ["evening-1.txt", "nested/evening-3.txt"] and again.count("skipped") == 3
    assert outputs(out) == first

    # one input changed: only it is rendered again
    (root / "nested" / "evening 2.txt").write_text(story(9), encoding="utf-8")
    changed = run([root], out, engine="silence", jobs=1)
    assert [e.source.name for e in changed.entries if e.status == "rendered"] == ["nested/evening 2.txt"]

    # voices.yaml is part of every key
    voices = tmp_path / "voices.yaml"
    voices.write_text("defaults: {rate: 180}\n", encoding="utf-8")
    assert run([root], out, voices=voices, engine="silence", jobs=1).count("rendered") == 5


def test_a_bad_voices_file_stops_the_batch_before_it_starts(tmp_path):
    (tmp_path / "show.txt").write_text(story(1), encoding="utf-8")
    voices = tmp_path / "voices.yaml"
    voices.write_text("speakers: [oops\n", encoding="utf-8")
    result = runner.invoke(app, ["batch", str(tmp_path / "show.txt"), "-o", str(tmp_path / "out"),
                                 "--voices", str(voices), "--engine", "silence"])
    assert result.exit_code == 4 and str(voices) in result.stderr
    assert not (tmp_path / "out").exists()


def test_jobs_and_scheduler_together_are_a_usage_error(tmp_path):
    (tmp_path / "show.txt").write_text(story(1), encoding="utf-8")
    result = runner.invoke(app, ["batch", str(tmp_path / "show.txt"), "--jobs", "2", "--scheduler", "tcp://x:8786"])
    assert result.exit_code == 2 and "--jobs" in result.stderr


def test_a_transcript_that_kills_its_worker_process_fails_alone(tmp_path, monkeypatch):
    """The local pool: a process killed mid-render (here by the test engine's CRASH word) is
    replaced and its transcripts run again; one that kills every process it gets fails with
    exit code 5 after the retries, and the rest of the batch is rendered."""
    from broadcast import engines

    from .test_engines import install_plugin

    site = tmp_path / "site"
    install_plugin(site)
    monkeypatch.syspath_prepend(str(site))  # pool workers get the parent's sys.path
    engines._entry_points.cache_clear()
    root = tmp_path / "shows"
    root.mkdir()
    for n in range(3):
        (root / f"show-{n}.txt").write_text(f"ANN LEE, HOST: Good evening, show {n}.\n\nBO KIM: "
                                            f"{'Words then CRASH here.' if n == 1 else 'Thank you.'}\n")
    voices = tmp_path / "v.yaml"
    voices.write_text('engine: faulty\nroles:\n  narrator: {voice: "beeper:low"}\n')
    system_tmp = Path(tempfile.gettempdir())
    before = set(system_tmp.glob("broadcast-*"))
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    try:
        result = run([root], tmp_path / "out", voices=voices, jobs=2)
    finally:
        engines._entry_points.cache_clear()
        engines.get.cache_clear()
    left = list(scratch.glob("broadcast-*")) + sorted(set(system_tmp.glob("broadcast-*")) - before)
    assert not left, "the killed renders' temporary folders are removed too"
    assert [e.status for e in result.entries] == ["rendered", "failed", "rendered"]
    assert result.exit_code == 5 and "worker process rendering it died" in result.failed[0].error
