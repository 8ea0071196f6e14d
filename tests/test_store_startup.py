"""`storybot run` refuses to start on a store it cannot write (a read-only SQLite file or folder),
with a message naming STORYBOT_DB, instead of answering without a record. A real process."""
from __future__ import annotations

import asyncio
import os
import shutil
import sys

import pytest

from bot.store import open_store
from fake_discord import FakeDiscord
from test_run import storybot_env

# As root every file is writable: the process runs without the capabilities that override
# file permissions, as an operator's service account would.
AS_AN_ORDINARY_USER = (["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--inh-caps", "-all",
                        "--"] if os.geteuid() == 0 and shutil.which("setpriv") else [])


async def a_migrated_store(path) -> None:
    store = await open_store(path)
    await store.close()


@pytest.mark.parametrize("read_only", ["file", "folder"])
def test_run_refuses_a_store_it_cannot_write_and_names_storybot_db(tmp_path, read_only):
    if os.geteuid() == 0 and not AS_AN_ORDINARY_USER:
        pytest.skip("as root without setpriv every file is writable")
    folder = tmp_path / "store"
    db = folder / "audit.db"
    asyncio.run(a_migrated_store(db))
    for leftover in folder.glob("audit.db-*"):
        leftover.unlink()
    (db if read_only == "file" else folder).chmod(0o444 if read_only == "file" else 0o555)

    async def scenario():
        async with FakeDiscord() as fake:
            env = {**storybot_env(tmp_path, fake), "STORYBOT_DB": str(db)}
            process = await asyncio.create_subprocess_exec(
                *AS_AN_ORDINARY_USER, sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            try:
                _, stderr = await asyncio.wait_for(process.communicate(), 90)
            except asyncio.TimeoutError:
                process.kill()
                await process.wait()
                return None, "still running after 90 s: it started on a store it cannot write"
            return process.returncode, stderr.decode()

    try:
        code, stderr = asyncio.run(scenario())
    finally:
        folder.chmod(0o755)
        db.chmod(0o644)
    assert code == 1, stderr
    assert "STORYBOT_DB" in stderr and str(db) in stderr and "Traceback" not in stderr
