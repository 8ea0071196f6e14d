"""The real discord.py client, running StoryBot, against the loopback fake of Discord with two servers."""
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

from bot.audit_store import AuditStore, Scope
from bot.store import UnknownAuditId, open_store
from bot.discord.bot import BotConfig
from bot.discord.run import ERROR_MESSAGE, StoryBot, use_endpoints
from bot.live import Reloader
from bot.service import AnswerService
from bot.settings import from_env
from conftest import CORPUS, write_corpus
from fake_discord import BASIC_PERMISSIONS, EPHEMERAL, GUILD_ID, MANAGE_MESSAGES, FakeDiscord, text_input_ids

GUILD_A, GUILD_B = GUILD_ID, 2100000000000000021
MODERATOR = BASIC_PERMISSIONS | MANAGE_MESSAGES
OWNER = 4100000000000000041
NO_PINGS = {"parse": []}
EVERYTHING = Scope.operator()


@dataclass
class Env:
    fake: FakeDiscord
    bot: StoryBot
    store: AuditStore
    service: AnswerService
    reloader: Reloader
    corpus: Path  # the bot's own copy of the corpus


async def start_bot(fake: FakeDiscord, service: AnswerService, store: AuditStore, reloader: Reloader, *,
                    guild_ids: tuple[int, ...] = (GUILD_A, GUILD_B), **options) -> tuple[StoryBot, asyncio.Task]:
    bot = StoryBot(service=service, store=store, reloader=reloader,
                   config=BotConfig(guild_ids=guild_ids, cooldown_seconds=0, owner_ids=(OWNER,), **options))
    task = asyncio.create_task(bot.start(fake.token))
    ready = asyncio.create_task(bot.wait_until_ready())
    await asyncio.wait({task, ready}, timeout=20, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        ready.cancel()
        task.result()  # the start failed: say why
    assert bot.is_ready(), "the bot did not become ready in 20 s"
    return bot, task


async def stop_bot(bot: StoryBot, task: asyncio.Task) -> None:
    await bot.close()
    await asyncio.wait_for(task, 5)


@pytest_asyncio.fixture
async def env(hybrid_index, encoder, tmp_path):
    saved = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
    shutil.copytree(CORPUS, tmp_path / "corpus", ignore=shutil.ignore_patterns(".cache"))
    settings = from_env({"STORYBOT_CACHE": str(tmp_path / "cache")}, tmp_path)  # a cold embedding cache
    async with FakeDiscord(heartbeat_interval_ms=500, guild_ids=(GUILD_A, GUILD_B), ack_deadline=3.0) as fake:
        use_endpoints(fake.api_base, fake.gateway_url)
        store = await open_store(tmp_path / "audit.db")
        service = AnswerService(hybrid_index)
        reloader = Reloader(settings, service, encoder)
        bot, task = await start_bot(fake, service, store, reloader)
        try:
            yield Env(fake, bot, store, service, reloader, settings.corpus)
        finally:
            await stop_bot(bot, task)
            await service.close()
            await store.close()
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved


async def ask(fake: FakeDiscord, question: str, **who):
    sent = await fake.slash("ask", {"question": question}, **who)
    ack = await fake.wait_for_response(sent.id, "callback", timeout=10)
    final = await fake.wait_for_response(sent.id, "final", timeout=20)
    return sent, ack, final


async def audit(fake: FakeDiscord, view: str, options: dict | None = None, *, guild_id: int = GUILD_A,
                permissions: int = MODERATOR, **who) -> str:
    """What a moderator of `guild_id` sees: the text of the private reply."""
    sent = await fake.slash(view, options or {}, guild_id=guild_id, permissions=permissions, **who)
    ack = await fake.wait_for_response(sent.id, "callback", timeout=10)
    assert ack.latency < 3.0 and ack.json["type"] in (4, 5)
    final = await fake.wait_for_response(sent.id, "final", timeout=30)
    body = final.json.get("data", final.json)
    assert fake.messages[sent.original]["flags"] & EPHEMERAL  # what the moderator sees, nobody else does
    return body.get("content") or body["embeds"][0]["description"]


async def latest(store: AuditStore, scope: Scope = EVERYTHING):
    [entry] = await store.recent(scope, 1)
    return entry


def every_request_is_inert(fake: FakeDiscord) -> bool:
    sent = [r for r in fake.requests if r.kind in ("callback", "followup", "edit_original", "channel_message") and r.json]
    bodies = [r.json.get("data", r.json) for r in sent]
    return bool(bodies) and all(b.get("allowed_mentions") == NO_PINGS for b in bodies if "content" in b or "embeds" in b)


# ---- asking --------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_commands_are_synced_to_both_guilds_and_moderator_commands_are_guild_only(env):
    fake = env.fake
    assert fake.identify_payloads[0]["token"] == fake.token
    for guild in (GUILD_A, GUILD_B):
        commands = {c["name"]: c for c in fake.command_bodies[guild]}
        assert set(commands) == {"ask", "sources", "help", "timeline", "reload", "audit", "settings", "mydata", "forget-me",
                                 "Find sources"}
        [question] = commands["ask"]["options"]
        assert (question["name"], question["required"], question["max_length"]) == ("question", True, 1000)
        for moderators in ("audit", "reload"):
            assert int(commands[moderators]["default_member_permissions"]) == MANAGE_MESSAGES
            assert commands[moderators]["contexts"] == [0] and commands[moderators]["integration_types"] == [0]
        assert {o["name"] for o in commands["audit"]["options"]} == {"recent", "show", "reported", "stats", "verify", "hide", "unhide",
                                                                                 "label", "labels", "unlabel"}
    assert fake.command_bodies[None] == []  # guild ids given: nothing global, not even left from before


@pytest.mark.asyncio
async def test_ask_is_acknowledged_then_answered_with_verbatim_cited_quotes(env, corpus):
    sent, ack, final = await ask(env.fake, "Why was Mandela's prisoner of conscience status withdrawn?")
    assert ack.json["type"] == 5 and ack.latency < 3.0  # deferred ("thinking") at once
    [embed] = final.json["embeds"]
    entry = await latest(env.store)
    assert entry.quotes and entry.user_id == "4000000000000000004" and entry.guild_id == str(GUILD_A)
    for quote in entry.quotes:
        assert is_verbatim(corpus, quote.doc_id, quote.start, quote.end, quote.text)
        assert escape_markdown(" ".join(quote.text.split())) in embed["description"]
    sources = embed["fields"][0]
    assert sources["name"] == "Sources" and "RFI" in sources["value"] and "2021-02-24" in sources["value"]
    # The answer's status, as recorded (the fitted scorer may hedge on this tiny corpus).
    assert entry.status in ("answered", "uncertain") and entry.status in embed["footer"]["text"]
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
async def test_an_uncovered_question_gets_one_plain_sentence_and_its_status(env):
    _, _, final = await ask(env.fake, "who won mike tyson vs jake paul")
    [embed] = final.json["embeds"]
    assert embed["description"] == NO_ANSWER and "fields" not in embed
    assert "not covered" in embed["footer"]["text"]


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
async def test_timeline_shows_the_arc_by_date_with_first_sentences(env):
    sent = await env.fake.slash("timeline")
    reply = await env.fake.wait_for_response(sent.id)
    text = reply.json["data"]["embeds"][0]["description"]
    assert text.index("2021-02-24") < text.index("2021-05-07")
    assert "re-designated jailed Kremlin critic" in text and "no longer considers" in text


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
    assert await env.store.recent(EVERYTHING) == []


@pytest.mark.asyncio
async def test_an_error_after_the_public_defer_is_private_and_the_thinking_message_is_removed(env, caplog, monkeypatch):
    async def broken(question, exclude=frozenset(), lessons=None):
        raise RuntimeError("index exploded")

    monkeypatch.setattr(env.service, "ask", broken)
    with caplog.at_level(logging.ERROR):
        sent = await env.fake.slash("ask", {"question": "mandela"})
        ack = await env.fake.wait_for_response(sent.id, "callback")
        followup = await env.fake.wait_for_response(sent.id, "followup")
    assert ack.json["type"] == 5 and not (ack.json.get("data") or {}).get("flags", 0) & EPHEMERAL  # the public "thinking"
    kinds = [r.kind for r in env.fake.interaction_log(sent.id)]
    assert kinds.index("delete_original") < kinds.index("followup")
    assert sent.original not in env.fake.messages  # the public placeholder is gone
    [shown] = [m for m in env.fake.messages.values() if m["content"] == ERROR_MESSAGE]
    assert followup.json["flags"] & EPHEMERAL and shown["flags"] & EPHEMERAL
    assert "index exploded" in caplog.text and "Traceback" in caplog.text


@pytest.mark.asyncio
async def test_an_answer_is_sent_even_when_the_audit_store_fails(env, caplog, monkeypatch):
    from bot.store import AuditWriteFailed

    async def locked(*args, **kwargs):
        raise AuditWriteFailed("audit.db", RuntimeError("database is locked"), 3)

    monkeypatch.setattr(env.store, "record_answer", locked)
    with caplog.at_level(logging.CRITICAL):
        _, _, final = await ask(env.fake, "who is julie verhaar")
    assert "Verhaar" in final.json["embeds"][0]["description"] and not final.json.get("components")
    assert "AUDIT RECORD LOST" in caplog.text


@pytest.mark.asyncio
async def test_after_a_gateway_reconnect_the_bot_still_answers(env):
    await ask(env.fake, "mandela")
    await env.fake.request_reconnect()
    _, _, final = await ask(env.fake, "who is leonid volkov")
    assert "Volkov" in final.json["embeds"][0]["description"]
    assert len(env.fake.resume_payloads) == 1 and len(env.fake.identify_payloads) == 1


@pytest.mark.asyncio
async def test_a_hundred_simultaneous_asks_from_two_servers_are_all_acknowledged_and_answered(env):
    questions = ["why was the status revoked?", "who is julie verhaar", "mandela", "when was it restored", "leonid volkov"]
    sent = await asyncio.gather(*(env.fake.slash("ask", {"question": questions[n % 5]}, user_id=10_000 + n,
                                                 guild_id=(GUILD_A, GUILD_B)[n % 2]) for n in range(100)))
    acks = await asyncio.gather(*(env.fake.wait_for_response(s.id, "callback", timeout=20) for s in sent))
    finals = await asyncio.gather(*(env.fake.wait_for_response(s.id, "final", timeout=60) for s in sent))
    assert all(a.json["type"] == 5 for a in acks)
    assert max(a.latency for a in acks) < 3.0  # Discord drops an interaction not acknowledged in 3 s
    assert all(f.json["embeds"] for f in finals)
    assert len(await env.store.recent(Scope.guild(GUILD_A), 100)) == len(await env.store.recent(Scope.guild(GUILD_B), 100)) == 50
    assert env.service.batches < 100  # simultaneous questions share forward passes


# ---- each server's data is its own -----------------------------------------------------------


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
async def test_moderators_see_recent_show_stats_and_verify_privately(env):
    await ask(env.fake, "who is julie verhaar")
    await ask(env.fake, "who won mike tyson vs jake paul")
    first = (await env.store.recent(EVERYTHING, 2))[-1].id
    recent = await audit(env.fake, "audit recent", {"limit": 5})
    shown = await audit(env.fake, "audit show", {"id": first})
    stats = await audit(env.fake, "audit stats")
    verified = await audit(env.fake, "audit verify", {"id": first})
    assert "verhaar" in recent and "tyson" in recent
    assert "lbc-2021-02-25[" in shown and "score" in shown
    assert "questions: 2" in stats and "abstained: 1 (50%)" in stats
    assert "1/1 quotes still verbatim" in verified


@pytest.mark.asyncio
@pytest.mark.parametrize("home, other", [(GUILD_A, GUILD_B), (GUILD_B, GUILD_A)])
async def test_a_moderator_sees_and_changes_nothing_of_another_server(env, home, other):
    await ask(env.fake, "who is julie verhaar", guild_id=other, user_id=501, username="other-member")
    theirs = await latest(env.store)
    pressed = await env.fake.press_button(f"storybot:report:{theirs.id}", guild_id=other, user_id=502)
    form = (await env.fake.wait_for_response(pressed.id)).json["data"]
    [field] = text_input_ids(form)
    submitted = await env.fake.submit_modal(form["custom_id"], {field: "secret reason of the other server"}, guild_id=other, user_id=502)
    await env.fake.wait_for_response(submitted.id, "final")
    await ask(env.fake, "when was the status restored", guild_id=home, user_id=601)
    ours = await latest(env.store)

    seen = " ".join([
        await audit(env.fake, "audit recent", guild_id=home),
        await audit(env.fake, "audit reported", guild_id=home),
        await audit(env.fake, "audit stats", guild_id=home),
    ])
    assert "restored" in seen and "questions: 1" in seen
    for secret in ("verhaar", "other-member", "502", "secret reason", str(other), str(env.fake.channel_of(other))):
        assert secret not in seen.lower()
    for view, options in [("audit show", {"id": theirs.id}), ("audit verify", {"id": theirs.id}),
                          ("audit hide", {"id": theirs.id, "quote_number": 1, "reason": "not ours"}),
                          ("audit unhide", {"id": theirs.id, "quote_number": 1, "reason": "not ours"})]:
        text = await audit(env.fake, view, options, guild_id=home)
        assert text == f"There is no answer #{theirs.id} in this server's log."
    assert await env.store.moderation(EVERYTHING) == []  # nothing was changed
    assert await env.store.hidden_spans(str(other)) == await env.store.hidden_spans(str(home)) == frozenset()
    assert "verhaar" in await audit(env.fake, "audit show", {"id": theirs.id}, guild_id=other)  # its own moderators still see it
    with pytest.raises(UnknownAuditId):
        await env.store.get(Scope.guild(other), ours.id)


@pytest.mark.asyncio
async def test_a_dm_question_is_answered_and_in_no_servers_audit(env):
    _, _, final = await ask(env.fake, "who is julie verhaar", dm=True, user_id=700)
    assert "Verhaar" in final.json["embeds"][0]["description"]
    entry = await latest(env.store)
    assert entry.guild_id is None and entry.user_id == "700"  # the operator's command line sees it
    for guild in (GUILD_A, GUILD_B):
        assert "verhaar" not in (await audit(env.fake, "audit recent", guild_id=guild)).lower()
        assert "no answer" in (await audit(env.fake, "audit show", {"id": entry.id}, guild_id=guild)).lower()
        assert await env.store.recent(Scope.guild(guild)) == []


@pytest.mark.asyncio
async def test_a_passage_hidden_in_one_server_is_still_quoted_in_the_other(env):
    question = "who is julie verhaar"
    await ask(env.fake, question, guild_id=GUILD_A)
    before_a = await latest(env.store)
    await ask(env.fake, question, guild_id=GUILD_B)
    in_b = await latest(env.store)
    quote = in_b.quotes[0]
    text = await audit(env.fake, "audit hide", {"id": in_b.id, "quote_number": 1, "reason": "misattributed"},
                       guild_id=GUILD_B, username="mod-b")
    assert "is now hidden" in text

    def spans(entry):
        return [(q.doc_id, q.start, q.end) for q in entry.quotes]

    for _ in range(2):  # also once the answer cache would have had it
        await ask(env.fake, question, guild_id=GUILD_B)
        again_b = await latest(env.store)
        assert all(not (q.doc_id == quote.doc_id and q.start < quote.end and quote.start < q.end) for q in again_b.quotes)
        await ask(env.fake, question, guild_id=GUILD_A)
        assert spans(await latest(env.store)) == spans(before_a)  # A's answer unchanged
    [record] = await env.store.moderation(Scope.guild(GUILD_B))
    assert (record.action, record.doc_id, record.start, record.end, record.reason, record.user_name) == (
        "hide", quote.doc_id, quote.start, quote.end, "misattributed", "mod-b")
    assert await env.store.moderation(Scope.guild(GUILD_A)) == []
    assert "already hidden" in await audit(env.fake, "audit hide", {"id": in_b.id, "quote_number": 1, "reason": "again"}, guild_id=GUILD_B)

    text = await audit(env.fake, "audit unhide", {"id": in_b.id, "quote_number": 1, "reason": "checked again"}, guild_id=GUILD_B)
    assert "may be quoted again" in text
    await ask(env.fake, question, guild_id=GUILD_B)
    assert spans(await latest(env.store)) == spans(in_b)


@pytest.mark.asyncio
async def test_reload_is_for_operators_only_and_says_what_changed(env, tiny_articles):
    for who in ({"permissions": BASIC_PERMISSIONS}, {"permissions": MODERATOR}):  # a server's moderator is no operator
        sent = await env.fake.slash("reload", **who)
        refused = await env.fake.wait_for_response(sent.id)
        assert "Only the bot's operators" in refused.json["data"]["content"] and refused.json["data"]["flags"] & EPHEMERAL
    write_corpus(env.corpus, tiny_articles[0])
    sent = await env.fake.slash("reload", user_id=OWNER, permissions=BASIC_PERMISSIONS)
    ack = await env.fake.wait_for_response(sent.id)
    assert ack.json["type"] == 5 and ack.json["data"]["flags"] & EPHEMERAL
    reply = await env.fake.wait_for_response(sent.id, "final", timeout=60)
    assert f"added {tiny_articles[0].id}" in reply.json["content"]
    _, _, final = await ask(env.fake, "what did the court say about the U.S.-style colony?")
    assert "The Gazette" in final.json["embeds"][0]["fields"][0]["value"]


# ---- feedback ------------------------------------------------------------------------------


async def answer_message(env: Env, guild_id: int = GUILD_A) -> tuple[int, dict]:
    await ask(env.fake, "who is julie verhaar", guild_id=guild_id)
    entry = await latest(env.store)
    [message] = [m for m in env.fake.messages.values() if f"storybot:helpful:{entry.id}" in str(m.get("components"))]
    return entry.id, message


@pytest.mark.asyncio
async def test_five_helpful_presses_by_one_member_count_once_and_the_last_press_stands(env):
    audit_id, message = await answer_message(env)
    presses = [await env.fake.press_button(f"storybot:helpful:{audit_id}", message=message, user_id=77, username="reader")
               for _ in range(5)]
    for pressed in presses:
        ack = await env.fake.wait_for_response(pressed.id)
        assert ack.json["type"] == 5 and ack.json["data"]["flags"] & EPHEMERAL and ack.latency < 3.0
        await env.fake.wait_for_response(pressed.id, "final")
    assert "+1 -0" in await audit(env.fake, "audit recent")
    pressed = await env.fake.press_button(f"storybot:not_helpful:{audit_id}", message=message, user_id=77)
    await env.fake.wait_for_response(pressed.id, "final")
    pressed = await env.fake.press_button(f"storybot:helpful:{audit_id}", message=message, user_id=78)
    await env.fake.wait_for_response(pressed.id, "final")
    assert "+1 -1" in await audit(env.fake, "audit recent")


@pytest.mark.asyncio
async def test_two_simultaneous_reports_of_one_answer_are_both_recorded(env):
    audit_id, message = await answer_message(env)
    pressed = await asyncio.gather(*(env.fake.press_button(f"storybot:report:{audit_id}", message=message, user_id=user)
                                     for user in (81, 82)))
    forms = [(await env.fake.wait_for_response(p.id)).json for p in pressed]
    assert all(f["type"] == 9 for f in forms)
    assert forms[0]["data"]["custom_id"] != forms[1]["data"]["custom_id"]  # one form per press
    submitted = await asyncio.gather(*(
        env.fake.submit_modal(form["data"]["custom_id"], {text_input_ids(form["data"])[0]: f"wrong, says {user}"}, user_id=user)
        for form, user in zip(forms, (81, 82))))
    for sent in submitted:
        ack = await env.fake.wait_for_response(sent.id)
        assert ack.json["type"] == 5 and ack.latency < 3.0
        assert "Reported" in (await env.fake.wait_for_response(sent.id, "final")).json["content"]
    reports = [f for f in (await env.store.get(Scope.guild(GUILD_A), audit_id)).feedback if f.kind == "report"]
    assert sorted((f.user_id, f.reason) for f in reports) == [("81", "wrong, says 81"), ("82", "wrong, says 82")]
    reported = await audit(env.fake, "audit reported")
    assert "wrong, says 81" in reported and "wrong, says 82" in reported


@pytest.mark.asyncio
async def test_buttons_keep_working_after_a_restart(env):
    audit_id, _ = await answer_message(env)
    await env.bot.close()  # the fixture's bot is gone; a new process would start like this
    bot, task = await start_bot(env.fake, env.service, env.store, env.reloader)
    try:
        pressed = await env.fake.press_button(f"storybot:not_helpful:{audit_id}")
        await env.fake.wait_for_response(pressed.id, "final")
        assert [f.kind for f in (await env.store.get(EVERYTHING, audit_id)).feedback] == ["not_helpful"]
    finally:
        await stop_bot(bot, task)


# ---- in time -------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_every_interaction_is_acknowledged_within_3_s_while_a_cold_cache_reload_runs(env, tiny_articles):
    audit_id, message = await answer_message(env)
    write_corpus(env.corpus, tiny_articles[0])  # a new article, and an empty embedding cache: every passage re-embedded
    reload = await env.fake.slash("reload", user_id=OWNER)
    await env.fake.wait_until(env.reloader._lock.locked, 10, "the reload to start")
    fake = env.fake
    sent = [
        await fake.slash("ask", {"question": "who is leonid volkov"}, user_id=901),
        await fake.slash("ask", {"question": "who is leonid volkov"}, guild_id=GUILD_B, user_id=902),
        await fake.slash("sources"), await fake.slash("timeline"), await fake.slash("help"),
        *[await fake.slash(f"audit {view}", {}, permissions=MODERATOR) for view in ("recent", "reported", "stats")],
        await fake.slash("audit show", {"id": audit_id}, permissions=MODERATOR),
        await fake.slash("audit verify", {"id": audit_id}, permissions=MODERATOR),
        await fake.slash("audit hide", {"id": audit_id, "quote_number": 1, "reason": "test"}, permissions=MODERATOR),
        await fake.press_button(f"storybot:helpful:{audit_id}", message=message, user_id=903),
        await fake.slash("reload", user_id=OWNER),  # waits for the first reload, acknowledged at once
    ]
    report = await fake.press_button(f"storybot:report:{audit_id}", message=message, user_id=904)
    form = (await fake.wait_for_response(report.id, timeout=10)).json["data"]
    submitted = await fake.submit_modal(form["custom_id"], {text_input_ids(form)[0]: "while reloading"}, user_id=904)
    sent += [report, submitted]
    acks = [await fake.wait_for_response(s.id, timeout=10) for s in sent]
    assert env.reloader._lock.locked()  # all of them came while the reload was still running
    assert max(a.latency for a in acks) < 3.0, [(a.path, a.latency) for a in acks]
    assert all(a.status < 300 for a in acks)
    assert "added" in (await fake.wait_for_response(reload.id, "final", timeout=120)).json["content"]
    for s in [*sent[:2], *sent[5:12], submitted]:
        await fake.wait_for_response(s.id, "final", timeout=60)


@pytest.mark.asyncio
async def test_a_member_past_the_report_limit_is_told_and_nothing_more_is_stored(env):
    from bot.store import REPORTS_PER_MEMBER_PER_DAY

    audit_id, message = await answer_message(env)
    replies = []
    for n in range(REPORTS_PER_MEMBER_PER_DAY + 1):
        pressed = await env.fake.press_button(f"storybot:report:{audit_id}", message=message, user_id=83)
        form = (await env.fake.wait_for_response(pressed.id)).json["data"]
        submitted = await env.fake.submit_modal(form["custom_id"], {text_input_ids(form)[0]: f"report {n}"}, user_id=83)
        replies.append((await env.fake.wait_for_response(submitted.id, "final")).json["content"])
    assert all("Reported" in r for r in replies[:-1])
    assert replies[-1].startswith(f"Not recorded: you have already sent {REPORTS_PER_MEMBER_PER_DAY} reports")
    reports = [f for f in (await env.store.get(EVERYTHING, audit_id)).feedback if f.kind == "report"]
    assert len(reports) == REPORTS_PER_MEMBER_PER_DAY
