"""What a Discord community expects, through the real discord.py client and the loopback fake:
"Find sources" on a message, per-server settings, reports in the mod-log channel, members' own
data, lists that page."""
from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from discord.gateway import DiscordWebSocket
from discord.http import Route
from discord.utils import escape_markdown

from retrieval.articles import Article, load_corpus
from retrieval.embeddings import dictionary_words
from retrieval.evaluation import is_verbatim
from retrieval.index import build_index

from bot.audit_store import Scope
from bot.discord.bot import BotConfig
from bot.discord.run import StoryBot, use_endpoints
from bot.discord.find_sources import NO_TEXT, question_from
from bot.live import Reloader
from bot.service import AnswerService
from bot.settings import from_env
from bot.store import open_store
from conftest import CORPUS, write_corpus
from fake_discord import BASIC_PERMISSIONS, CHANNEL_ID, EPHEMERAL, GUILD_ID, MANAGE_MESSAGES, FakeDiscord, text_input_ids

GUILD_A, GUILD_B = GUILD_ID, 2100000000000000021
MANAGE_GUILD = 1 << 5
ADMIN = BASIC_PERMISSIONS | MANAGE_GUILD | MANAGE_MESSAGES
MODERATOR = BASIC_PERMISSIONS | MANAGE_MESSAGES
PUBLIC, MODLOG, LOCKED = 3000000000000000031, 3000000000000000032, 3000000000000000033
EVERYTHING = Scope.operator()
CLAIM = "Amnesty stripped Navalny of his prisoner of conscience status over things he said years ago."


@dataclass
class Community:
    fake: FakeDiscord
    service: AnswerService
    reloader: Reloader
    db: Path
    bot: StoryBot | None = None
    task: asyncio.Task | None = None
    store: object = None

    async def start(self) -> None:
        """A fresh process: the store opened again from its file, a new client."""
        self.store = await open_store(self.db)
        self.bot = StoryBot(service=self.service, store=self.store, reloader=self.reloader,
                            config=BotConfig(guild_ids=(GUILD_A, GUILD_B), cooldown_seconds=0))
        self.task = asyncio.create_task(self.bot.start(self.fake.token))
        ready = asyncio.create_task(self.bot.wait_until_ready())
        await asyncio.wait({self.task, ready}, timeout=20, return_when=asyncio.FIRST_COMPLETED)
        if self.task.done():
            ready.cancel()
            self.task.result()
        assert self.bot.is_ready()

    async def stop(self) -> None:
        await self.bot.close()
        await asyncio.wait_for(self.task, 5)
        await self.store.close()


@contextlib.asynccontextmanager
async def community(index, tmp_path, encoder=None):
    saved = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
    shutil.copytree(CORPUS, tmp_path / "corpus", ignore=shutil.ignore_patterns(".cache"))
    settings = from_env({"STORYBOT_CACHE": str(tmp_path / "cache")}, tmp_path)
    async with FakeDiscord(heartbeat_interval_ms=500, guild_ids=(GUILD_A, GUILD_B), ack_deadline=3.0) as fake:
        fake.add_text_channel(GUILD_A, PUBLIC, "ask-here")
        fake.add_text_channel(GUILD_A, MODLOG, "mod-log")
        fake.add_text_channel(GUILD_A, LOCKED, "announcements", bot_can_post=False)
        use_endpoints(fake.api_base, fake.gateway_url)
        service = AnswerService(index)
        world = Community(fake, service, Reloader(settings, service, encoder), tmp_path / "audit.db")
        await world.start()
        try:
            yield world
        finally:
            await world.stop()
            await service.close()
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved


@pytest_asyncio.fixture
async def world(hybrid_index, encoder, tmp_path):
    async with community(hybrid_index, tmp_path, encoder) as opened:
        yield opened


async def final_of(fake: FakeDiscord, sent, timeout: float = 20):
    ack = await fake.wait_for_response(sent.id, "callback", timeout=10)
    assert ack.latency < 3.0, ack
    final = await fake.wait_for_response(sent.id, "final", timeout=timeout)
    return ack, final, fake.messages.get(sent.original or "", {})


async def settings_cmd(fake: FakeDiscord, view: str, options: list | None = None, *, channels: tuple = (),
                       permissions: int = ADMIN, guild_id: int = GUILD_A) -> str:
    sent = await fake.slash(f"settings {view}", options or [], permissions=permissions, guild_id=guild_id,
                            data_extra=fake.resolved_channels(*channels) if channels else None)
    _, final, shown = await final_of(fake, sent)
    assert shown.get("flags", 0) & EPHEMERAL
    body = final.json.get("data", final.json)
    return body.get("content") or body["embeds"][0]["description"]


def channel_option(name: str, channel_id: int) -> dict:
    return {"name": name, "type": 7, "value": str(channel_id)}


async def latest(store, scope: Scope = EVERYTHING):
    [entry] = await store.recent(scope, 1)
    return entry


# ---- "Find sources" --------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_find_sources_answers_a_posted_claim_privately_with_a_verbatim_cited_quote(world, corpus):
    fake = world.fake
    [command] = [c for c in fake.command_bodies[GUILD_A] if c["name"] == "Find sources"]
    assert command["type"] == 3  # a message command: Apps > Find sources on any message
    claim = fake.member_message(CLAIM, author_id=555, author_name="claimant")
    sent = await fake.message_command("Find sources", claim, user_id=777, username="curious")
    ack, final, shown = await final_of(fake, sent)
    assert ack.json["type"] == 5 and shown["flags"] & EPHEMERAL  # only the asker sees it by default
    [embed] = final.json["embeds"]
    entry = await latest(world.store)
    assert (entry.source, entry.message_id, entry.message_author_id, entry.user_id, entry.question) == (
        "message", claim["id"], "555", "777", CLAIM)
    assert entry.quotes and entry.status in ("answered", "uncertain")
    for quote in entry.quotes:
        assert is_verbatim(corpus, quote.doc_id, quote.start, quote.end, quote.text)
        assert escape_markdown(" ".join(quote.text.split())) in embed["description"]
    article = corpus.article(entry.quotes[0].doc_id)
    assert article.outlet in embed["fields"][0]["value"] and embed["fields"][0]["name"] == "Sources"
    assert entry.status.replace("_", " ") in embed["footer"]["text"]  # status shown, as /ask does


@pytest.mark.asyncio
async def test_find_sources_on_a_message_without_text_says_so_and_records_nothing(world):
    fake = world.fake
    picture = fake.member_message("", attachments=({"id": "1", "filename": "claim.png", "size": 10,
                                                    "url": "https://cdn.example/claim.png", "proxy_url": "https://cdn.example/claim.png"},))
    sent = await fake.message_command("Find sources", picture)
    reply = await fake.wait_for_response(sent.id)
    assert reply.latency < 3.0 and reply.json["data"]["flags"] & EPHEMERAL and reply.json["data"]["content"] == NO_TEXT
    assert await world.store.recent(EVERYTHING) == []


def test_a_long_message_is_cut_to_the_question_limit_at_a_sentence_end():
    sentence = "Amnesty withdrew the status in February after reviewing his comments. "
    text = sentence * 30  # ~2,100 characters
    question = question_from(text, limit=1000)
    assert len(question) <= 1000 and question.endswith("comments.") and len(question) > 900
    assert question_from("<@123> said Amnesty called him <:angry:42> a racist!") == "said Amnesty called him angry a racist!"
    assert question_from("x" * 1200, limit=1000) == "x" * 1000  # one endless word: cut at the limit
    assert question_from("   ") == ""


# ---- per-server settings -----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_settings_are_for_manage_server_validated_kept_across_a_restart_and_obeyed(world):
    fake = world.fake
    refused = await fake.slash("settings show", [], permissions=MODERATOR)
    reply = (await fake.wait_for_response(refused.id)).json["data"]
    assert reply["flags"] & EPHEMERAL and "Manage Server" in reply["content"]

    assert "lacks Send Messages in #announcements" in await settings_cmd(
        fake, "modlog", [channel_option("channel", LOCKED)], channels=(LOCKED,))
    assert "public in <#%d>" % PUBLIC in await settings_cmd(fake, "public-add", [channel_option("channel", PUBLIC)],
                                                             channels=(PUBLIC,))
    assert "Reports will be posted in <#%d>" % MODLOG in await settings_cmd(
        fake, "modlog", [channel_option("channel", MODLOG)], channels=(MODLOG,))
    await settings_cmd(fake, "cooldown", [{"name": "seconds", "type": 10, "value": 0.5}])
    await settings_cmd(fake, "find-sources", [{"name": "public", "type": 5, "value": True}])
    assert (await world.store.guild_settings(str(GUILD_B))).public_channels == frozenset()  # B's own are untouched

    await world.stop()
    await world.start()  # a restart: a new client, the store opened again from its file

    shown = await settings_cmd(fake, "show")
    assert f"<#{PUBLIC}>" in shown and f"<#{MODLOG}>" in shown and "0.5 s" in shown and "answers:** public" in shown
    in_general = await fake.slash("ask", {"question": "who is julie verhaar"}, channel_id=CHANNEL_ID, user_id=801)
    _, final, message = await final_of(fake, in_general)
    assert message["flags"] & EPHEMERAL and "Verhaar" in final.json["embeds"][0]["description"]
    in_public = await fake.slash("ask", {"question": "who is julie verhaar"}, channel_id=PUBLIC, user_id=802)
    _, _, message = await final_of(fake, in_public)
    assert not message["flags"] & EPHEMERAL
    claim = fake.member_message(CLAIM, channel_id=PUBLIC)
    _, _, message = await final_of(fake, await fake.message_command("Find sources", claim, channel_id=PUBLIC, user_id=803))
    assert not message["flags"] & EPHEMERAL  # the server made "Find sources" answers public
    in_b = await fake.slash("ask", {"question": "who is julie verhaar"}, guild_id=GUILD_B, user_id=804)
    _, _, message = await final_of(fake, in_b)
    assert not message["flags"] & EPHEMERAL  # B chose nothing: public everywhere

    again = await fake.slash("ask", {"question": "who is leonid volkov"}, channel_id=PUBLIC, user_id=802)
    reply = (await fake.wait_for_response(again.id)).json["data"]
    assert "ask again in" in reply["content"]  # the server's cooldown, 0.5 s, is obeyed
    await asyncio.sleep(0.6)
    _, final, _ = await final_of(fake, await fake.slash("ask", {"question": "who is leonid volkov"}, channel_id=PUBLIC,
                                                        user_id=802))
    assert final.json["embeds"]


# ---- reports reach moderators ------------------------------------------------------------------


async def report(fake: FakeDiscord, store, question: str, reason: str, *, guild_id: int = GUILD_A, user_id: int = 901):
    _, final, message = await final_of(fake, await fake.slash("ask", {"question": question}, guild_id=guild_id,
                                                              user_id=user_id))
    entry = await latest(store)
    pressed = await fake.press_button(f"storybot:report:{entry.id}", message=message, guild_id=guild_id, user_id=user_id)
    form = (await fake.wait_for_response(pressed.id)).json["data"]
    submitted = await fake.submit_modal(form["custom_id"], {text_input_ids(form)[0]: reason}, guild_id=guild_id,
                                        user_id=user_id)
    await fake.wait_for_response(submitted.id, "final")
    return entry, submitted


@pytest.mark.asyncio
async def test_a_report_reaches_the_mod_log_within_3_s_and_its_hide_button_hides_in_that_server_only(world):
    fake, store = world.fake, world.store
    await settings_cmd(fake, "modlog", [channel_option("channel", MODLOG)], channels=(MODLOG,))
    question = "who is julie verhaar"
    await final_of(fake, await fake.slash("ask", {"question": question}, guild_id=GUILD_B, user_id=950))
    before_b = await latest(store)

    entry, submitted = await report(fake, store, question, "this quote is out of context")
    posted = await fake.wait_until(lambda: next((r for r in fake.channel_messages if r.path == f"/channels/{MODLOG}/messages"), None),
                                   3.0, "the report in the mod-log channel")
    assert posted.time - fake.interactions[submitted.id].sent_at < 3.0
    [embed] = posted.json["embeds"]
    text = json.dumps(embed, ensure_ascii=False)
    assert question in embed["description"] and "this quote is out of context" in text
    assert escape_markdown(" ".join(entry.quotes[0].text.split()))[:80] in text
    ids = [c["custom_id"] for row in posted.json["components"] for c in row["components"]]
    hide_first = next(i for i in ids if i.startswith("storybot:modlog:hide:") and i.endswith(":1"))
    assert any(i.startswith("storybot:modlog:dismiss:") for i in ids)
    [message] = [m for m in fake.messages.values() if m["channel_id"] == str(MODLOG)]

    member = await fake.press_button(hide_first, message=message, channel_id=MODLOG, permissions=BASIC_PERMISSIONS)
    assert "Only moderators" in (await fake.wait_for_response(member.id)).json["data"]["content"]
    assert await store.hidden_spans(str(GUILD_A)) == frozenset()

    pressed = await fake.press_button(hide_first, message=message, channel_id=MODLOG, permissions=MODERATOR,
                                      user_id=990, username="mod-a")
    ack = await fake.wait_for_response(pressed.id)
    assert ack.latency < 3.0 and ack.json["type"] == 6
    done = await fake.wait_for_response(pressed.id, "followup")
    assert "hidden in this server" in done.json["content"] and done.json["flags"] & EPHEMERAL
    assert "Outcome" in json.dumps(message["embeds"]) and message["components"] == []  # the mod-log message says so
    quote = entry.quotes[0]
    [action] = await store.report_actions(Scope.guild(GUILD_A), entry.id)
    assert (action.action, action.quote_rank, action.user_id) == ("hide", 1, "990") and action.moderation_id
    [record] = await store.moderation(Scope.guild(GUILD_A))
    assert (record.action, record.doc_id, record.start, record.end, record.user_name) == (
        "hide", quote.doc_id, quote.start, quote.end, "mod-a")

    await final_of(fake, await fake.slash("ask", {"question": question}, guild_id=GUILD_A, user_id=902))
    again_a = await latest(store)
    assert all(not (q.doc_id == quote.doc_id and q.start < quote.end and quote.start < q.end) for q in again_a.quotes)
    await final_of(fake, await fake.slash("ask", {"question": question}, guild_id=GUILD_B, user_id=951))
    again_b = await latest(store)
    assert [(q.doc_id, q.start) for q in again_b.quotes] == [(q.doc_id, q.start) for q in before_b.quotes]
    assert await store.report_actions(Scope.guild(GUILD_B)) == []


@pytest.mark.asyncio
async def test_a_report_in_a_server_without_a_mod_log_posts_nothing_and_dismiss_is_recorded(world):
    fake, store = world.fake, world.store
    await report(fake, store, "who is leonid volkov", "hm", guild_id=GUILD_B, user_id=960)
    await asyncio.sleep(0.3)
    assert fake.channel_messages == []  # B has no mod-log channel: the report waits in /audit reported
    await settings_cmd(fake, "modlog", [channel_option("channel", MODLOG)], channels=(MODLOG,))
    entry, _ = await report(fake, store, "who is leonid volkov", "wrong person", user_id=961)
    posted = await fake.wait_until(lambda: fake.channel_messages, 3.0, "the report")
    dismiss = next(c["custom_id"] for row in posted[0].json["components"] for c in row["components"]
                   if c["custom_id"].startswith("storybot:modlog:dismiss:"))
    [message] = [m for m in fake.messages.values() if m["channel_id"] == str(MODLOG)]
    pressed = await fake.press_button(dismiss, message=message, channel_id=MODLOG, permissions=MODERATOR, user_id=991)
    assert "Dismissed" in (await fake.wait_for_response(pressed.id, "followup")).json["content"]
    [action] = await store.report_actions(Scope.guild(GUILD_A), entry.id)
    assert (action.action, action.user_id, action.moderation_id) == ("dismiss", "991", None)
    assert action.report_id is not None and await store.hidden_spans(str(GUILD_A)) == frozenset()


# ---- members' data ------------------------------------------------------------------------------


def export_questions(db: Path) -> list[str]:
    """What `storybot audit export` prints, run as the operator would."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "bot", "audit", "export"], capture_output=True, text=True,
                          env={"STORYBOT_DB": str(db), "PATH": "/usr/bin:/bin"}, cwd=db.parent, timeout=120)
    assert done.returncode == 0, done.stderr
    return [json.loads(line)["question"] for line in done.stdout.splitlines()]


@pytest.mark.asyncio
async def test_mydata_shows_and_forget_me_removes_a_members_questions_from_the_export(world):
    fake, store = world.fake, world.store
    mine = ["who is julie verhaar", "why was the status withdrawn"]
    for question in mine:
        await final_of(fake, await fake.slash("ask", {"question": question}, user_id=333, username="leaver"))
    await final_of(fake, await fake.slash("ask", {"question": "who is leonid volkov"}, user_id=444))
    await final_of(fake, await fake.slash("ask", {"question": "when was it restored"}, guild_id=GUILD_B, user_id=333))
    claim = fake.member_message(CLAIM, author_id=333)
    await final_of(fake, await fake.message_command("Find sources", claim, user_id=444))

    _, final, shown = await final_of(fake, await fake.slash("mydata", user_id=333))
    text = final.json["embeds"][0]["description"]
    assert shown["flags"] & EPHEMERAL and "2 question(s) you asked" in text and "of your messages" in text
    assert "julie verhaar" in text and "when was it restored" not in text  # B's question is B's

    sent = await fake.slash("forget-me", user_id=333)
    prompt = (await fake.wait_for_response(sent.id)).json["data"]
    assert prompt["flags"] & EPHEMERAL
    [button] = [c["custom_id"] for row in prompt["components"] for c in row["components"]]
    message = fake.messages[sent.original]
    other = await fake.press_button(button, message=message, user_id=444)
    assert "Only the member" in (await fake.wait_for_response(other.id)).json["data"]["content"]
    pressed = await fake.press_button(button, message=message, user_id=333)
    assert (await fake.wait_for_response(pressed.id)).latency < 3.0
    edited = await fake.wait_for_response(pressed.id, "edit_original")
    assert "3 question(s)" in edited.json["content"]  # two asked, one made of their message

    exported = await asyncio.to_thread(export_questions, world.db)
    assert not any(q in exported for q in (*mine, CLAIM))
    assert "who is leonid volkov" in exported and "when was it restored" in exported  # others', and B's
    _, final, _ = await final_of(fake, await fake.slash("mydata", user_id=333))
    assert "keeps nothing about you in this server" in final.json["embeds"][0]["description"]


# ---- lists that page -----------------------------------------------------------------------------


def sixty_articles() -> list[Article]:
    return [Article(id=f"paper{n:02d}-2021-{1 + n % 12:02d}-{1 + n % 28:02d}", title=f"Story number {n:02d}",
                    outlet=f"Paper {n:02d}", published=f"2021-{1 + n % 12:02d}-{1 + n % 28:02d}",
                    body=f"Report {n:02d} says Amnesty reviewed the status of Navalny again. A second sentence follows.")
            for n in range(60)]


@pytest.mark.asyncio
@pytest.mark.parametrize("listing", ["timeline", "sources"])
async def test_a_list_of_60_articles_pages_through_all_60(tmp_path, listing):
    folder = write_corpus(tmp_path / "sixty", *sixty_articles())
    index = build_index(load_corpus(folder), encoder=None, dictionary=dictionary_words())
    async with community(index, tmp_path / "bot") as world:
        fake = world.fake
        sent = await fake.slash(listing)
        reply = (await fake.wait_for_response(sent.id)).json["data"]
        message, seen, pages = fake.messages[sent.original], [], 0
        while True:
            [embed] = message["embeds"]
            assert len(embed["description"]) <= 4096
            seen += [line for line in embed["description"].split("\n") if "Story number" in line]
            pages += 1
            buttons = {c["label"]: c for row in message["components"] for c in row["components"]}
            if buttons["Next ▶"].get("disabled"):
                break
            pressed = await fake.press_button(buttons["Next ▶"]["custom_id"], message=message)
            turned = await fake.wait_for_response(pressed.id)
            assert turned.json["type"] == 7 and turned.latency < 3.0
        assert embed["footer"]["text"] == f"Page {pages} of {pages} · 60 articles" and pages > 1
        assert sorted({line.split("Story number ")[1][:2] for line in seen}) == [f"{n:02d}" for n in range(60)]
        assert "Page 1 of" in reply["embeds"][0]["footer"]["text"]


@pytest.mark.asyncio
async def test_a_busy_store_never_delays_the_acknowledgement_and_answers_go_private_meanwhile(tmp_path):
    from bot.discord.server_settings import ServerSettings, answers_public_in
    from bot.store import GuildSettings

    store = await open_store(tmp_path / "audit.db")
    try:
        await store.save_guild_settings(Scope.guild(GUILD_A), GuildSettings(public_channels=frozenset({str(PUBLIC)})))
        servers = ServerSettings(store, default_cooldown=10)
        async with store._lock:  # another write holds the store, as a busy SQLite file does
            started = asyncio.get_running_loop().time()
            meanwhile = await servers.before_acknowledging(GUILD_A, within=0.2)
            assert asyncio.get_running_loop().time() - started < 0.5
        assert not answers_public_in(meanwhile, PUBLIC) and not answers_public_in(meanwhile, CHANNEL_ID)
        await asyncio.sleep(0.1)  # the read went on once the store was free, and filled the cache
        known = await servers.before_acknowledging(GUILD_A, within=0.2)
        assert answers_public_in(known, PUBLIC) and not answers_public_in(known, CHANNEL_ID)
    finally:
        await store.close()
