"""Two shard processes (`storybot run` with DISCORD_SHARD_COUNT=2 and ids 0 and 1) sharing one
PostgreSQL store, against the loopback fake: each answers in its own server, every question is
in `storybot audit export`, and a shard killed with SIGKILL loses no record it committed."""
from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys

import pytest

from conftest import CORPUS
from fake_discord import GUILD_ID, FakeDiscord
from store_backends import postgres_server, postgres_url  # noqa: F401 - fixtures

ON_SHARD_1 = GUILD_ID  # (guild_id >> 22) % 2 == 1
ON_SHARD_0 = GUILD_ID + (1 << 22)
QUESTIONS = ["why was the status revoked?", "who is julie verhaar", "mandela", "when was it restored", "leonid volkov"]


def shard_env(tmp_path, fake: FakeDiscord, db: str, shard: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "STORYBOT_"))}
    env.update(
        STORYBOT_CORPUS=str(CORPUS), STORYBOT_CACHE=str(tmp_path / f"cache-{shard}"), STORYBOT_DB=db,
        STORYBOT_MODEL="none", STORYBOT_COOLDOWN_SECONDS="0", DISCORD_TOKEN=fake.token,
        DISCORD_GUILD_IDS=f"{ON_SHARD_0},{ON_SHARD_1}", DISCORD_API_BASE_URL=fake.api_base,
        DISCORD_GATEWAY_URL=fake.gateway_url, DISCORD_SHARD_COUNT="2", DISCORD_SHARD_IDS=str(shard),
    )
    return env


async def start_shard(tmp_path, fake: FakeDiscord, db: str, shard: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=shard_env(tmp_path, fake, db, shard), cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


def audit_id(final) -> int | None:
    """The audit id in the answer's buttons: the member saw it only after the record was committed."""
    match = re.search(r"storybot:helpful:(\d+)", json.dumps(final.json.get("components") or []))
    return int(match.group(1)) if match else None


async def answered(fake: FakeDiscord, sent, timeout: float = 60):
    return await fake.wait_for_response(sent.id, "final", timeout=timeout)


@pytest.mark.asyncio
async def test_two_shards_share_one_postgresql_store_and_a_killed_shard_loses_no_committed_record(tmp_path, postgres_url):
    async with FakeDiscord(guild_ids=(ON_SHARD_0, ON_SHARD_1)) as fake:
        shards = [await start_shard(tmp_path, fake, postgres_url, n) for n in (0, 1)]
        try:
            ready = lambda: sorted(s.shard for s in fake.sessions.values() if s.ready) == [(0, 2), (1, 2)]  # noqa: E731
            await fake.wait_until(ready, 180, "both shards' sessions")
            await fake.wait_until(lambda: fake.command_bodies.get(ON_SHARD_1), 60, "command sync")

            committed: dict[int, tuple[str, int]] = {}  # audit id -> (question, guild)
            for n, question in enumerate(QUESTIONS):
                for guild in (ON_SHARD_0, ON_SHARD_1):
                    sent = await fake.slash("ask", {"question": question}, guild_id=guild, user_id=7000 + n)
                    final = await answered(fake, sent)
                    assert final.json["embeds"] and audit_id(final) is not None
                    committed[audit_id(final)] = (question, guild)
            for session in fake.sessions.values():  # each shard got its own server's questions only
                guilds = {f["d"]["guild_id"] for f in session.log if f["t"] == "INTERACTION_CREATE"}
                assert guilds == {str(ON_SHARD_0 if session.shard == (0, 2) else ON_SHARD_1)}

            # A burst to shard 1, killed while it answers: whatever a member was shown is kept.
            burst = [await fake.slash("ask", {"question": f"{QUESTIONS[n % 5]} ({n})"}, guild_id=ON_SHARD_1, user_id=8000 + n)
                     for n in range(30)]
            await fake.wait_until(lambda: sum(1 for s in burst if any(
                r.kind in ("followup", "edit_original") for r in fake.interaction_log(s.id))) >= 3, 60, "the first answers")
            shards[1].send_signal(signal.SIGKILL)
            assert await asyncio.wait_for(shards[1].wait(), 30) == -signal.SIGKILL
            for sent in burst:
                final = next((r for r in fake.interaction_log(sent.id) if r.kind == "followup" and r.status < 300), None)
                if final is not None and audit_id(final) is not None:
                    committed[audit_id(final)] = (sent.payload["data"]["options"][0]["value"], ON_SHARD_1)
            assert len(committed) > 10  # (measured: the kill came after 3 of the 30 were answered)

            # Shard 0 answers on, into the same store.
            sent = await fake.slash("ask", {"question": "who is leonid volkov"}, guild_id=ON_SHARD_0, user_id=9000)
            final = await answered(fake, sent)
            committed[audit_id(final)] = ("who is leonid volkov", ON_SHARD_0)
        finally:
            for process in shards:
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
            codes = [await asyncio.wait_for(p.wait(), 60) for p in shards]
            stderr = (await shards[0].stderr.read()).decode()
    assert codes[0] == 0, stderr
    assert "Traceback" not in stderr

    env = shard_env(tmp_path, fake, postgres_url, 0)
    exporter = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "audit", "export", "--format", "jsonl", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(exporter.communicate(), 120)
    assert exporter.returncode == 0, err.decode()
    rows = {row["id"]: row for row in map(json.loads, out.decode().splitlines())}
    for audit, (question, guild) in committed.items():
        assert rows[audit]["question"] == question and rows[audit]["guild_id"] == str(guild)
    assert {row["guild_id"] for row in rows.values()} == {str(ON_SHARD_0), str(ON_SHARD_1)}
