"""Writes to the corpus: whole or not at all, one writer at a time, and nothing a crash leaves
behind blocks a later command (issue 13, cases 4 and 5; hide's audit record is the store's)."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from retrieval import atomic_files, corpus_files
from retrieval.articles import load_corpus
from retrieval.errors import MalformedArticle
from retrieval.hiding import HIDDEN_FILE, HiddenEntry, hide, load_hidden, unhide
from retrieval.corpus_check import check_corpus
from retrieval.ingest import add_article
from retrieval.raw_sources import read_source

from conftest import ROOT

LBC = "lbc-2021-02-25"


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*.tmp"))


# --- case 4: hidden.yaml is written whole, flushed to disk, and nothing is left behind ------


def test_a_hide_is_flushed_to_disk_before_it_replaces_the_list(workdir, monkeypatch):
    corpus = workdir / "corpus"
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(atomic_files.os, "fsync", lambda fd: synced.append(fd) or real_fsync(fd))
    assert hide(corpus, load_corpus(corpus), HiddenEntry(LBC, 0, 10, "legal request"))
    assert synced, "hidden.yaml was renamed into place without being flushed to disk"
    assert [e.span.start for e in load_hidden(corpus)] == [0]


@pytest.mark.parametrize("failing", ["write", "fsync", "rename"])
def test_a_full_disk_leaves_the_hidden_list_as_it_was_and_no_temporary_file(workdir, monkeypatch, failing):
    corpus = workdir / "corpus"
    hide(corpus, load_corpus(corpus), HiddenEntry(LBC, 0, 10, "earlier"))
    before = (corpus / HIDDEN_FILE).read_bytes()

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    if failing == "write":
        monkeypatch.setattr(atomic_files.os, "fdopen", lambda fd, mode, **options: os.close(fd) or full())
    else:
        monkeypatch.setattr(atomic_files.os, {"fsync": "fsync", "rename": "replace"}[failing], full)
    with pytest.raises(OSError, match="No space left"):
        hide(corpus, load_corpus(corpus), HiddenEntry(LBC, 20, 30, "legal request"))
    assert (corpus / HIDDEN_FILE).read_bytes() == before
    assert leftovers(corpus) == []


def test_a_hidden_list_is_never_written_in_a_form_it_cannot_be_read_back_in(workdir):
    corpus = workdir / "corpus"
    with pytest.raises(MalformedArticle, match="must be whole numbers"):
        hide(corpus, load_corpus(corpus), HiddenEntry(LBC, "0", 10, "typed by hand"))  # type: ignore[arg-type]
    assert not (corpus / HIDDEN_FILE).exists()


def test_hide_and_unhide_wait_for_the_corpus_lock(workdir):
    corpus = workdir / "corpus"
    with corpus_files.corpus_lock(corpus):
        with pytest.raises(corpus_files.CorpusBusy, match="another storybot command is writing"):
            with corpus_files.corpus_lock(corpus, timeout=0.1):
                pass
    assert hide(corpus, load_corpus(corpus), HiddenEntry(LBC, 0, 10, "after the lock"))
    assert unhide(corpus, LBC, 0, 10) is not None


# --- case 5: concurrent adds both land; an orphan never blocks -----------------------------


def story(n: int) -> str:
    return (f"Courier report number {n}\n\n"
            f"Amnesty International said on Monday that report {n} of its review was complete and would be published soon. "
            f"The organisation added that the panel for report {n} had met eleven times since February.\n\n"
            f"Critics said report {n} came too late to change the decision about the prisoner of conscience label.\n")


def test_concurrent_adds_of_the_same_outlet_and_date_all_land_with_distinct_ids(workdir):
    corpus = workdir / "corpus"
    files = []
    for n in range(3):
        path = workdir / f"report-{n}.txt"
        path.write_text(story(n) + f"Entirely different words for {n}: " + " ".join(f"w{n}x{i}" for i in range(60)) + ".\n",
                        encoding="utf-8")
        files.append(path)
    env = {**os.environ, "STORYBOT_CORPUS": str(corpus), "STORYBOT_MODEL": "none", "PYTHONPATH": str(ROOT)}
    processes = [
        subprocess.Popen([sys.executable, "-m", "bot", "corpus", "add", str(f), "--outlet", "Courier", "--published", "2021-03-01"],
                         env=env, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for f in files
    ]
    results = [p.communicate(timeout=120) + (p.returncode,) for p in processes]
    assert all(code == 0 for _, _, code in results), results
    ids = sorted(out.split()[1].rstrip(":") for out, _, _ in results)
    assert ids == ["courier-2021-03-01", "courier-2021-03-01-2", "courier-2021-03-01-3"]
    loaded = load_corpus(corpus)
    assert {a.id for a in loaded.articles} >= set(ids)
    assert check_corpus(corpus) == []
    owned = {Path(a.raw).name for a in loaded.articles}
    assert {p.name for p in (corpus / "raw").iterdir()} == owned  # no orphan raw file


def test_an_orphan_raw_file_left_by_a_crash_does_not_block_adding_the_article_again(workdir, tmp_path):
    corpus = workdir / "corpus"
    page = tmp_path / "report.txt"
    page.write_text(story(7), encoding="utf-8")
    data = page.read_bytes()
    # What a crash between the raw file's rename and the article's leaves behind.
    orphan = corpus / "raw" / f"005_{hashlib.sha256(data).hexdigest()[:16]}.txt"
    orphan.write_bytes(data)
    result = add_article(corpus, read_source(page), outlet="Courier", published="2021-03-02")
    assert result.article.id == "courier-2021-03-02"
    assert check_corpus(corpus) == []
    assert [p.name for p in (corpus / "raw").glob(f"*_{hashlib.sha256(data).hexdigest()[:16]}.*")] == [result.raw_path.name]


def test_the_same_file_owned_by_an_article_is_still_refused_naming_the_article(workdir, tmp_path):
    corpus = workdir / "corpus"
    page = tmp_path / "report.txt"
    page.write_text(story(8), encoding="utf-8")
    first = add_article(corpus, read_source(page), outlet="Courier", published="2021-03-03")
    with pytest.raises(Exception, match=f"already in the corpus as raw/.*article {first.article.id}"):
        add_article(corpus, read_source(page), outlet="Courier", published="2021-03-03")


def test_temporary_files_of_a_writer_killed_mid_write_are_cleared_by_the_next_writer(workdir):
    corpus = workdir / "corpus"
    for stale in (corpus / ".hidden.yaml.k2j3.tmp", corpus / "raw" / ".005_abc.txt.x8.tmp"):
        stale.write_bytes(b"half a file")
    assert hide(corpus, load_corpus(corpus), HiddenEntry(LBC, 0, 10, "legal request"))
    assert leftovers(corpus) == []


def test_a_writer_killed_while_holding_the_lock_does_not_leave_the_corpus_locked(workdir):
    corpus = workdir / "corpus"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; sys.path.insert(0, sys.argv[2]);"
         "from retrieval.corpus_files import corpus_lock\n"
         "with corpus_lock(sys.argv[1]):\n print('held', flush=True); time.sleep(60)", str(corpus), str(ROOT)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        holder.kill()
        holder.wait(timeout=10)
        started = time.monotonic()
        assert hide(corpus, load_corpus(corpus), HiddenEntry(LBC, 0, 10, "after a crash"))
        assert time.monotonic() - started < 5
    finally:
        holder.kill()
