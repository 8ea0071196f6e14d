"""`storybot run` as an admin starts it: a real process against the loopback fake of Discord."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys

import pytest

from conftest import CORPUS
from fake_discord import BASIC_PERMISSIONS, EPHEMERAL, GUILD_ID, MANAGE_MESSAGES, FakeDiscord


def storybot_env(tmp_path, fake: FakeDiscord | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "STORYBOT_"))}
    env.update(STORYBOT_CORPUS=str(CORPUS), STORYBOT_CACHE=str(tmp_path / "cache"), STORYBOT_DB=str(tmp_path / "audit.db"))
    if fake is not None:
        env.update(
            DISCORD_TOKEN=fake.token,
            DISCORD_GUILD_IDS=str(GUILD_ID),
            DISCORD_API_BASE_URL=fake.api_base,
            DISCORD_GATEWAY_URL=fake.gateway_url,
        )
    return env


@pytest.mark.asyncio
async def test_run_answers_audits_and_stops_cleanly_on_sigterm(tmp_path):
    async with FakeDiscord() as fake:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=storybot_env(tmp_path, fake), cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        try:
            await fake.wait_until(lambda: fake.command_bodies.get(GUILD_ID), 120, "command sync")
            await fake.wait_ready(timeout=30)
            sent = await fake.slash("ask", {"question": "why did Mandela lose the status?"})
            final = await fake.wait_for_response(sent.id, "final", timeout=30)
            assert "Mandela" in final.json["embeds"][0]["description"]
            sent = await fake.slash("audit recent", {}, permissions=BASIC_PERMISSIONS | MANAGE_MESSAGES)
            ack = await fake.wait_for_response(sent.id, timeout=30)  # deferred privately, then answered
            recent = await fake.wait_for_response(sent.id, "final", timeout=30)
            assert ack.json["data"]["flags"] & EPHEMERAL and "#1" in recent.json["embeds"][0]["description"]
        finally:
            process.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(process.wait(), 30)
            stderr = (await process.stderr.read()).decode()
    assert code == 0, stderr
    assert "Traceback" not in stderr

    exported = subprocess.run(
        [sys.executable, "-m", "bot", "audit", "export", "--format", "jsonl"],
        env=storybot_env(tmp_path), cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )
    [row] = [json.loads(line) for line in exported.stdout.splitlines()]
    assert row["question"] == "why did Mandela lose the status?" and row["guild_id"] == str(GUILD_ID)
    assert row["quotes"] and all(q["text"] for q in row["quotes"])


def test_run_with_a_refused_token_exits_non_zero_with_a_message(tmp_path):
    async def scenario():
        async with FakeDiscord(token="the-right-token") as fake:
            env = storybot_env(tmp_path, fake)
            env["DISCORD_TOKEN"] = "a-wrong-token"
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )
            _, stderr = await asyncio.wait_for(process.communicate(), 120)
            return process.returncode, stderr.decode()

    code, stderr = asyncio.run(scenario())
    assert code == 1 and "DISCORD_TOKEN" in stderr and "Traceback" not in stderr
