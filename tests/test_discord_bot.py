"""The real discord.py client, running StoryBot, against the loopback fake of Discord."""
from __future__ import annotations

import asyncio
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from discord.gateway import DiscordWebSocket
from discord.http import Route
from discord.utils import escape_markdown

from retrieval.answer import NO_ANSWER
from retrieval.evaluation import is_verbatim

from bot.audit import AuditLog
from bot.audit_store import Scope
from bot.live import Reloader
from bot.settings import from_env
from bot.discord_bot import ERROR_MESSAGE, StoryBot, use_endpoints
from bot.service import AnswerService
from conftest import CORPUS, write_corpus
from fake_discord import BASIC_PERMISSIONS, EPHEMERAL, GUILD_ID, MANAGE_MESSAGES, FakeDiscord

MODERATOR = BASIC_PERMISSIONS | MANAGE_MESSAGES
OPERATOR = Scope.operator()
NO_PINGS = {"parse": []}


@dataclass
class Env:
    fake: FakeDiscord
    bot: StoryBot
    audit: AuditLog
    service: AnswerService
    reloader: Reloader
    corpus: Path  # the bot's own copy of the corpus


async def start_bot(fake: FakeDiscord, service: AnswerService, audit: AuditLog, reloader: Reloader) -> tuple[StoryBot, asyncio.Task]:
    bot = StoryBot(service=service, audit=audit, reloader=reloader, guild_ids=(GUILD_ID,), cooldown_seconds=0)
    task = asyncio.create_task(bot.start(fake.token))
    await fake.wait_until(lambda: fake.command_bodies.get(GUILD_ID), 10, "command sync")
    ready = fake.ready_count + fake.resumed_count
    await fake.wait_until(lambda: fake.ready_count + fake.resumed_count > ready or bot.is_ready(), 10, "READY")
    return bot, task


async def stop_bot(bot: StoryBot, task: asyncio.Task) -> None:
    await bot.close()
    await asyncio.wait_for(task, 5)


@pytest_asyncio.fixture
async def env(hybrid_index, encoder, tmp_path):
    saved = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
    shutil.copytree(CORPUS, tmp_path / "corpus", ignore=shutil.ignore_patterns(".cache"))
    settings = from_env({"STORYBOT_CACHE": str(tmp_path / "cache")}, tmp_path)
    async with FakeDiscord(heartbeat_interval_ms=500) as fake:
        use_endpoints(fake.api_base, fake.gateway_url)
        audit = await AuditLog.open(tmp_path / "audit.db")
        service = AnswerService(hybrid_index)
        reloader = Reloader(settings, service, encoder)
        bot, task = await start_bot(fake, service, audit, reloader)
        try:
            yield Env(fake, bot, audit, service, reloader, settings.corpus)
        finally:
            await stop_bot(bot, task)
            await service.close()
            await audit.close()
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved


async def ask(fake: FakeDiscord, question: str, **who):
    sent = await fake.slash("ask", {"question": question}, **who)
    ack = await fake.wait_for_response(sent.id, "callback", timeout=10)
    final = await fake.wait_for_response(sent.id, "final", timeout=10)
    return sent, ack, final


def every_request_is_inert(fake: FakeDiscord) -> bool:
    sent = [r for r in fake.requests if r.kind in ("callback", "followup", "edit_original", "channel_message") and r.json]
    bodies = [r.json.get("data", r.json) for r in sent]
    return bool(bodies) and all(b.get("allowed_mentions") == NO_PINGS for b in bodies if "content" in b or "embeds" in b)


@pytest.mark.asyncio
async def test_login_identify_and_commands_synced_to_the_guild(env):
    fake = env.fake
    assert fake.identify_payloads[0]["token"] == fake.token
    commands = {c["name"]: c for c in fake.command_bodies[GUILD_ID]}
    assert set(commands) == {"ask", "sources", "help", "timeline", "reload", "audit"}
    assert int(commands["reload"]["default_member_permissions"]) == MANAGE_MESSAGES
    [question] = commands["ask"]["options"]
    assert (question["name"], question["required"], question["max_length"]) == ("question", True, 1000)
    assert int(commands["audit"]["default_member_permissions"]) == MANAGE_MESSAGES
    assert {o["name"] for o in commands["audit"]["options"]} == {"recent", "show", "reported", "stats", "verify", "hide", "unhide"}
    assert None not in fake.command_bodies  # guild ids given: no global sync


@pytest.mark.asyncio
async def test_ask_is_acknowledged_then_answered_with_verbatim_cited_quotes(env, corpus):
    sent, ack, final = await ask(env.fake, "Why was Mandela's prisoner of conscience status withdrawn?")
    assert ack.json["type"] == 5 and ack.latency < 3.0  # deferred ("thinking") at once
    [embed] = final.json["embeds"]
    [entry] = await env.audit.recent(OPERATOR, 1)
    assert entry.quotes and entry.user_id == "4000000000000000004" and entry.guild_id == str(GUILD_ID)
    for quote in entry.quotes:
        assert is_verbatim(corpus, quote.doc_id, quote.start, quote.end, quote.text)
        assert escape_markdown(" ".join(quote.text.split())) in embed["description"]
    sources = embed["fields"][0]
    assert sources["name"] == "Sources" and "RFI" in sources["value"] and "2021-02-24" in sources["value"]
    custom_ids = [c["custom_id"] for row in final.json["components"] for c in row["components"]]
    assert custom_ids == [f"storybot:{kind}:{entry.id}" for kind in ("helpful", "not_helpful", "report")]
    assert every_request_is_inert(env.fake)


@pytest.mark.asyncio
async def test_mentions_in_a_question_never_ping(env):
    _, _, final = await ask(env.fake, "@everyone <@&123> <@456> what did Leonid Volkov say?")
    assert final.json["allowed_mentions"] == NO_PINGS
    title = final.json["embeds"][0]["title"]
    assert "@everyone" not in title and "Volkov" in title  # escaped so it does not even look like a ping


@pytest.mark.asyncio
async def test_an_uncovered_question_gets_one_plain_sentence(env):
    _, _, final = await ask(env.fake, "who won mike tyson vs jake paul")
    [embed] = final.json["embeds"]
    assert embed["description"] == NO_ANSWER and "fields" not in embed


@pytest.mark.asyncio
async def test_sources_lists_the_articles_by_date_and_help_explains(env):
    sent = await env.fake.slash("sources")
    reply = await env.fake.wait_for_response(sent.id)
    text = reply.json["data"]["embeds"][0]["description"]
    assert text.index("2021-02") < text.index("2021-02-24") < text.index("2021-05-07")
    assert "**OPINION**" in text and "The Spectator" in text
    sent = await env.fake.slash("help")
    reply = await env.fake.wait_for_response(sent.id)
    assert reply.json["data"]["flags"] & EPHEMERAL and "never writes text of its own" in reply.json["data"]["embeds"][0]["description"]


@pytest.mark.asyncio
@pytest.mark.parametrize("view", ["audit recent", "audit stats", "audit reported", "audit show", "audit verify"])
async def test_audit_is_refused_to_members_without_manage_messages(env, view):
    await ask(env.fake, "who is julie verhaar")
    options = {"id": 1} if view.endswith(("show", "verify")) else {}
    sent = await env.fake.slash(view, options, permissions=BASIC_PERMISSIONS)
    reply = await env.fake.wait_for_response(sent.id)
    data = reply.json["data"]
    assert data["flags"] & EPHEMERAL and "Only moderators" in data["content"]
    assert "verhaar" not in str(data).lower()


@pytest.mark.asyncio
async def test_moderators_see_recent_show_stats_and_verify_ephemerally(env):
    await ask(env.fake, "who is julie verhaar")
    await ask(env.fake, "who won mike tyson vs jake paul")
    replies = {}
    for view, options in [("audit recent", {"limit": 5}), ("audit show", {"id": 1}), ("audit stats", {}), ("audit verify", {"id": 1})]:
        sent = await env.fake.slash(view, options, permissions=MODERATOR)
        reply = await env.fake.wait_for_response(sent.id)
        assert reply.json["data"]["flags"] & EPHEMERAL
        replies[view] = reply.json["data"]["embeds"][0]["description"]
    assert "#2" in replies["audit recent"] and "#1" in replies["audit recent"]
    assert "lbc-2021-02-25[" in replies["audit show"] and "score" in replies["audit show"]
    assert "questions: 2" in replies["audit stats"] and "abstained: 1 (50%)" in replies["audit stats"]
    assert "1/1 quotes still verbatim" in replies["audit verify"]


@pytest.mark.asyncio
async def test_feedback_buttons_and_the_report_modal_are_recorded(env):
    _, _, final = await ask(env.fake, "who is julie verhaar")
    [entry] = await env.audit.recent(OPERATOR, 1)
    [message] = [m for m in env.fake.messages.values() if f"storybot:helpful:{entry.id}" in str(m.get("components"))]

    pressed = await env.fake.press_button(f"storybot:helpful:{entry.id}", message=message, user_id=77, username="reader")
    reply = await env.fake.wait_for_response(pressed.id)
    assert reply.json["data"]["flags"] & EPHEMERAL

    pressed = await env.fake.press_button(f"storybot:report:{entry.id}", message=message, user_id=78)
    modal = await env.fake.wait_for_response(pressed.id)
    assert modal.json["type"] == 9 and modal.json["data"]["custom_id"] == f"storybot:report-modal:{entry.id}"
    [text_input] = [c["custom_id"] for row in modal.json["data"]["components"] for c in row["components"]]
    submitted = await env.fake.submit_modal(modal.json["data"]["custom_id"], {text_input: "the quote is out of context"}, user_id=78)
    reply = await env.fake.wait_for_response(submitted.id)
    assert "Reported" in reply.json["data"]["content"]

    feedback = (await env.audit.get(OPERATOR, entry.id)).feedback
    assert [(f.kind, f.user_id, f.reason) for f in feedback] == [
        ("helpful", "77", None),
        ("report", "78", "the quote is out of context"),
    ]
    [reported] = await env.audit.reported(OPERATOR)
    assert reported.id == entry.id


@pytest.mark.asyncio
async def test_buttons_keep_working_after_a_restart(env):
    await ask(env.fake, "who is julie verhaar")
    [entry] = await env.audit.recent(OPERATOR, 1)
    await env.bot.close()  # the fixture's bot is gone; a new process would start like this
    bot, task = await start_bot(env.fake, env.service, env.audit, env.reloader)
    try:
        pressed = await env.fake.press_button(f"storybot:not_helpful:{entry.id}")
        await env.fake.wait_for_response(pressed.id)
        assert [f.kind for f in (await env.audit.get(OPERATOR, entry.id)).feedback] == ["not_helpful"]
    finally:
        await stop_bot(bot, task)


@pytest.mark.asyncio
async def test_after_a_gateway_reconnect_the_bot_still_answers(env):
    await ask(env.fake, "mandela")
    await env.fake.request_reconnect()
    _, _, final = await ask(env.fake, "who is leonid volkov")
    assert "Volkov" in final.json["embeds"][0]["description"]
    assert len(env.fake.resume_payloads) == 1 and len(env.fake.identify_payloads) == 1


@pytest.mark.asyncio
async def test_a_hundred_simultaneous_asks_are_all_acknowledged_and_answered(env):
    questions = ["why was the status revoked?", "who is julie verhaar", "mandela", "when was it restored", "leonid volkov"]
    sent = await asyncio.gather(*(env.fake.slash("ask", {"question": questions[n % 5]}, user_id=10_000 + n) for n in range(100)))
    acks = await asyncio.gather(*(env.fake.wait_for_response(s.id, "callback", timeout=20) for s in sent))
    finals = await asyncio.gather(*(env.fake.wait_for_response(s.id, "final", timeout=30) for s in sent))
    assert all(a.json["type"] == 5 for a in acks)
    assert max(a.latency for a in acks) < 3.0  # Discord drops an interaction not acknowledged in 3 s
    assert all(f.json["embeds"] for f in finals)
    assert len(await env.audit.recent(OPERATOR, 100)) == 100
    assert env.service.batches < 100  # simultaneous questions share forward passes


@pytest.mark.asyncio
async def test_a_second_question_within_the_cooldown_gets_a_friendly_ephemeral_note(env):
    env.bot.cooldown.seconds = 60
    await ask(env.fake, "mandela", user_id=5)
    sent = await env.fake.slash("ask", {"question": "volkov"}, user_id=5)
    reply = await env.fake.wait_for_response(sent.id)
    assert reply.json["data"]["flags"] & EPHEMERAL and "ask again in" in reply.json["data"]["content"]
    _, _, other = await ask(env.fake, "volkov", user_id=6)  # others are not held up
    assert other.json["embeds"]


@pytest.mark.asyncio
async def test_an_over_long_question_is_refused_ephemerally(env):
    sent = await env.fake.slash("ask", {"question": "why " * 300})
    reply = await env.fake.wait_for_response(sent.id)
    assert reply.json["data"]["flags"] & EPHEMERAL and "limit is 1,000" in reply.json["data"]["content"]
    assert await env.audit.recent(OPERATOR) == []


@pytest.mark.asyncio
async def test_an_error_is_a_short_ephemeral_message_and_a_logged_traceback(env, caplog, monkeypatch):
    async def broken(question):
        raise RuntimeError("index exploded")

    monkeypatch.setattr(env.service, "ask", broken)
    with caplog.at_level(logging.ERROR):
        sent = await env.fake.slash("ask", {"question": "mandela"})
        await env.fake.wait_for_response(sent.id, "callback")
        followup = await env.fake.wait_for_response(sent.id, "followup")
    assert followup.json["content"] == ERROR_MESSAGE and followup.json["flags"] & EPHEMERAL
    assert "index exploded" in caplog.text and "Traceback" in caplog.text


@pytest.mark.asyncio
async def test_an_answer_is_sent_even_when_the_audit_log_fails(env, caplog, monkeypatch):
    from bot.audit import AuditWriteFailed

    async def locked(*args, **kwargs):
        raise AuditWriteFailed(env.audit.path, RuntimeError("database is locked"), 3)

    monkeypatch.setattr(env.audit, "record_answer", locked)
    with caplog.at_level(logging.CRITICAL):
        _, _, final = await ask(env.fake, "who is julie verhaar")
    assert "Verhaar" in final.json["embeds"][0]["description"] and not final.json.get("components")
    assert "AUDIT RECORD LOST" in caplog.text


@pytest.mark.asyncio
async def test_timeline_shows_the_arc_by_date_with_first_sentences(env, corpus):
    sent = await env.fake.slash("timeline")
    reply = await env.fake.wait_for_response(sent.id)
    text = reply.json["data"]["embeds"][0]["description"]
    assert text.index("2021-02-24") < text.index("2021-05-07")
    assert "re-designated jailed Kremlin critic" in text and "no longer considers" in text


@pytest.mark.asyncio
async def test_reload_picks_up_a_new_article_and_says_what_changed(env, tiny_articles):
    write_corpus(env.corpus, tiny_articles[0])
    sent = await env.fake.slash("reload", permissions=MODERATOR)
    reply = await env.fake.wait_for_response(sent.id, "final", timeout=30)
    assert f"added {tiny_articles[0].id}" in reply.json["content"] and reply.json["flags"] & EPHEMERAL
    _, _, final = await ask(env.fake, "what did the court say about the U.S.-style colony?")
    assert "The Gazette" in final.json["embeds"][0]["fields"][0]["value"]
    sent = await env.fake.slash("reload", permissions=BASIC_PERMISSIONS)
    refused = await env.fake.wait_for_response(sent.id)
    assert "Only moderators" in refused.json["data"]["content"]


@pytest.mark.asyncio
async def test_a_hidden_passage_is_never_quoted_again_until_unhidden(env):
    _, _, first = await ask(env.fake, "who is julie verhaar")
    [entry] = await env.audit.recent(OPERATOR, 1)
    quote = entry.quotes[0]
    sent = await env.fake.slash("audit hide", {"id": entry.id, "quote_number": 1, "reason": "misattributed"}, permissions=MODERATOR, username="mod")
    reply = await env.fake.wait_for_response(sent.id, timeout=30)
    assert "is now hidden" in str(reply.json)
    for _ in range(2):  # also once the answer cache would have had it
        _, _, again = await ask(env.fake, "who is julie verhaar")
        [latest] = await env.audit.recent(OPERATOR, 1)
        assert all(not (q.doc_id == quote.doc_id and q.start < quote.end and quote.start < q.end) for q in latest.quotes)
    [record] = await env.audit.moderation(OPERATOR)
    assert (record.action, record.doc_id, record.start, record.end, record.reason, record.user_name) == (
        "hide", quote.doc_id, quote.start, quote.end, "misattributed", "mod")

    sent = await env.fake.slash("audit unhide", {"id": entry.id, "quote_number": 1, "reason": "checked again"}, permissions=MODERATOR)
    reply = await env.fake.wait_for_response(sent.id, timeout=30)
    assert "may be quoted again" in str(reply.json)
    _, _, restored = await ask(env.fake, "who is julie verhaar")
    [latest] = await env.audit.recent(OPERATOR, 1)
    assert (latest.quotes[0].doc_id, latest.quotes[0].start) == (quote.doc_id, quote.start)
