"""`storybot corpus hide|unhide`: the hidden list and its audit record change together or not at all,
one process at a time; with the log locked, full or read-only nothing is hidden and a rerun works."""
from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.cli import main

REPO = Path(__file__).resolve().parents[1]
DOC = "rfi-2021-02-24"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def records(db: Path) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return conn.execute('SELECT action, doc_id, start, "end", reason FROM moderation ORDER BY id').fetchall()


def hidden_file(workdir: Path) -> bytes | None:
    path = workdir / "corpus" / "hidden.yaml"
    return path.read_bytes() if path.exists() else None


HOLDER = textwrap.dedent("""
    import sqlite3, sys
    db = sqlite3.connect(sys.argv[1], isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    print("locked", flush=True)
    sys.stdin.read()  # holds the write lock until told to let go
    db.rollback()
""")


def test_with_the_log_locked_nothing_is_hidden_and_a_rerun_works(workdir, capsys):
    db = workdir / "storybot.db"
    assert run(capsys, "corpus", "hide", DOC, "0", "20", "--reason", "first")[0] == 0
    before = hidden_file(workdir)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(db)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        code, out, err = run(capsys, "corpus", "hide", DOC, "30", "60", "--reason", "legal request")
    finally:
        holder.communicate("", timeout=30)

    assert (code, out) == (1, "")
    assert err.splitlines()[-1].startswith("storybot: nothing was hidden, because the audit log cannot record it:")
    assert "database is locked" in err and "Traceback" not in err
    assert hidden_file(workdir) == before and len(records(db)) == 1

    code, out, _ = run(capsys, "corpus", "hide", DOC, "30", "60", "--reason", "legal request")
    assert code == 0 and "is now hidden" in out
    assert records(db)[-1] == ("hide", DOC, 30, 60, "legal request")


def test_a_hidden_list_that_cannot_be_read_leaves_no_record(workdir, capsys):
    db = workdir / "storybot.db"
    assert run(capsys, "corpus", "hide", DOC, "0", "20", "--reason", "first")[0] == 0
    (workdir / "corpus" / "hidden.yaml").write_text("- [not, a, span\n", encoding="utf-8")
    code, _, err = run(capsys, "corpus", "hide", DOC, "30", "60", "--reason", "x")
    assert code == 1 and "hidden.yaml" in err
    assert records(db) == [("hide", DOC, 0, 20, "first")]


def test_hides_from_eight_processes_at_once_all_land_with_their_records(workdir):
    env = {**os.environ, "STORYBOT_MODEL": "none"}
    hides = [subprocess.Popen([sys.executable, "-m", "bot", "corpus", "hide", DOC, str(10 * n), str(10 * n + 5),
                               "--reason", f"reason {n}"], cwd=workdir, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for n in range(8)]
    results = [(p.wait(120), p.stderr.read()) for p in hides]
    assert all(code == 0 for code, _ in results), results
    text = hidden_file(workdir).decode()
    assert sorted(int(line.split()[-1]) for line in text.splitlines() if line.strip().startswith("start:")) == [
        10 * n for n in range(8)]
    assert sorted(r[4] for r in records(workdir / "storybot.db")) == [f"reason {n}" for n in range(8)]


# A log on a small file system of its own, to fill or to make read-only.


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True,
                          text=True)
    if made.returncode != 0:
        pytest.skip(f"needs to mount a small tmpfs (root with CAP_SYS_ADMIN): {made.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path) -> Path:
    filler = folder / "filler"
    with open(filler, "wb") as handle:
        with contextlib.suppress(OSError):
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
    return filler


def test_with_the_log_full_nothing_is_hidden_and_a_rerun_works(workdir, small_disk, capsys, monkeypatch):
    db = small_disk / "audit.db"
    monkeypatch.setenv("STORYBOT_DB", str(db))
    assert run(capsys, "corpus", "hide", DOC, "0", "20", "--reason", "first")[0] == 0
    before = hidden_file(workdir)
    # Another reader keeps the WAL open, so the hide's commit, not its opening, is what finds the disk full:
    # the record is refused after hidden.yaml was written, and hidden.yaml must be put back.
    reader = sqlite3.connect(db)
    reader.execute("SELECT count(*) FROM moderation").fetchone()
    filler = fill(small_disk)
    try:
        code, out, err = run(capsys, "corpus", "hide", DOC, "30", "60", "--reason", "legal request")
        assert (code, out) == (1, "")
        assert "nothing was hidden" in err and "full" in err and "Traceback" not in err
        assert hidden_file(workdir) == before
        assert not list((workdir / "corpus").glob(".hidden*"))
        code, _, err = run(capsys, "corpus", "unhide", DOC, "0", "20", "--reason", "cleared")
        assert code == 1 and "nothing was unhidden" in err and hidden_file(workdir) == before
    finally:
        reader.close()
        filler.unlink()
    assert records(db) == [("hide", DOC, 0, 20, "first")]

    code, out, _ = run(capsys, "corpus", "hide", DOC, "30", "60", "--reason", "legal request")
    assert code == 0 and "is now hidden" in out
    assert records(db)[-1] == ("hide", DOC, 30, 60, "legal request")


def test_with_the_log_read_only_nothing_is_hidden_and_a_rerun_works(workdir, small_disk, capsys, monkeypatch):
    db = small_disk / "audit.db"
    monkeypatch.setenv("STORYBOT_DB", str(db))
    assert run(capsys, "corpus", "hide", DOC, "0", "20", "--reason", "first")[0] == 0
    before = hidden_file(workdir)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        code, out, err = run(capsys, "corpus", "hide", DOC, "30", "60", "--reason", "legal request")
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    assert (code, out) == (1, "")
    assert "nothing was hidden" in err and "Traceback" not in err
    assert hidden_file(workdir) == before

    code, out, _ = run(capsys, "corpus", "hide", DOC, "30", "60", "--reason", "legal request")
    assert code == 0 and "is now hidden" in out
    assert [r[2] for r in records(db)] == [0, 30]
