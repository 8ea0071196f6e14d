"""Another story: `storybot corpus init`, two articles added, questions answered from them, and
everything about the story (its /ask description, /help, events) from the corpus's story.yaml."""
from __future__ import annotations

import asyncio
import json

import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.cli import main
from bot.discord.run import use_endpoints
from bot.engine import build
from bot.live import Reloader
from bot.service import AnswerService
from bot.settings import from_env
from bot.store import open_store
from fake_discord import FakeDiscord
from retrieval.answer import Status, answer
from retrieval.articles import load_corpus
from retrieval.story import load_story
from test_discord_bot import start_bot, stop_bot

BRIDGE = "\n".join([
    "Kestrel Bridge reopens after repairs",
    "By Ana Lopes, Harbour Herald",
    "Portvale, 3 March 2023 (Reuters) - The Kestrel Bridge reopened to traffic on Friday after eight months of repairs "
    "to its corroded steel cables.",
    "Photo: The bridge at dawn / Getty Images",
    "The city council said the repairs cost 41 million euros, twice the first estimate.",
    "Read: Why the Kestrel Bridge closed",
    "Engineer Marta Silva, who led the works, said the new cables should last sixty years.",
]) + "\n"
DELAY = ("Council blames contractor for bridge delay\n\n"
         "The Kestrel Bridge closed in July 2022 after inspectors found rust in two of its main cables.\n\n"
         "Read more: Kestrel Bridge reopens after repairs\n\n"
         "Mayor Jonas Weber blamed the contractor, Ferro Works, for a four-month delay, saying it had ordered the "
         "wrong steel.\n")
ABOUT = "the repair of the Kestrel Bridge in Portvale"


@pytest.fixture
def bridge(workdir, monkeypatch, capsys):
    """A corpus for another story, started and filled as an operator would."""
    folder = workdir / "bridge"
    assert main(["corpus", "init", str(folder), "--story", ABOUT]) == 0
    monkeypatch.setenv("STORYBOT_CORPUS", str(folder))
    for name, text, outlet, published in (("bridge.txt", BRIDGE, "Harbour Herald", "2023-03-03"),
                                          ("delay.txt", DELAY, "Portvale Post", "2023-02-10")):
        (workdir / name).write_text(text, encoding="utf-8")
        assert main(["corpus", "add", str(workdir / name), "--outlet", outlet, "--published", published]) == 0
    capsys.readouterr()
    return folder


def test_init_writes_a_story_yaml_and_refuses_to_overwrite(workdir, capsys):
    folder = workdir / "bridge"
    assert main(["corpus", "init", str(folder), "--story", ABOUT]) == 0
    story = load_story(folder)
    assert story.about == ABOUT and ABOUT in story.ask_description and story.events == ()
    before = (folder / "story.yaml").read_bytes()
    assert main(["corpus", "init", str(folder), "--story", "something else"]) == 1
    assert "already a corpus" in capsys.readouterr().err and (folder / "story.yaml").read_bytes() == before


def test_the_seed_corpus_story_is_told_by_its_story_yaml(workdir):
    story = load_corpus(workdir / "corpus").story
    assert story.ask_description == "Ask about Amnesty and Navalny's 'prisoner of conscience' status; get quotes"
    assert [(e.name, e.month) for e in story.events] == [("restored", "2021-05"), ("withdrawn", "2021-02")]


def test_questions_about_another_story_are_answered_from_its_articles(bridge, encoder, monkeypatch, capsys):
    monkeypatch.delenv("STORYBOT_MODEL")
    settings = from_env({"STORYBOT_CORPUS": str(bridge), "STORYBOT_CACHE": str(bridge / ".cache")}, bridge.parent)
    index = build(settings, encoder)
    assert index.corpus.story.about == ABOUT
    for question, words in (("how much did the repairs cost", "41 million euros"),
                            ("who did the mayor blame for the delay", "Ferro Works"),
                            ("when did the bridge close", "July 2022")):
        result = answer(index, question)
        assert result.status is Status.ANSWERED and words in result.passages[0].quote, (question, result.reason)
    # Furniture is never quoted.
    bodies = " ".join(a.body for a in index.corpus.articles)
    assert "Getty" not in bodies and "Read" not in bodies and "Megan" not in bodies and "(Reuters)" not in bodies
    # A request is told what the bot does, about this story.
    assert ABOUT in answer(index, "hi there").reason


@pytest.mark.asyncio
async def test_the_ask_command_and_help_describe_the_corpus_story(bridge, encoder, tmp_path):
    saved = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
    settings = from_env({"STORYBOT_CORPUS": str(bridge), "STORYBOT_CACHE": str(tmp_path / "cache")}, tmp_path)
    story = load_story(bridge)
    async with FakeDiscord(heartbeat_interval_ms=500) as fake:
        use_endpoints(fake.api_base, fake.gateway_url)
        store = await open_store(tmp_path / "audit.db")
        service = AnswerService(build(settings, encoder))
        bot, task = await start_bot(fake, service, store, Reloader(settings, service, encoder))
        try:
            registered = [c for scope in fake._registered.values() for c in scope if c["name"] == "ask"]
            assert registered and all(c["description"] == story.ask_description for c in registered)
            sent = await fake.slash("help")
            reply = await fake.wait_for_response(sent.id)
            assert ABOUT in reply.json["data"]["embeds"][0]["description"]
            assert "Navalny" not in json.dumps(reply.json)
        finally:
            await stop_bot(bot, task)
            await service.close()
            await store.close()
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("events:\n  - name: closed\n    month: July 2022\n    words: [clos\\w*]\n", "month 'July 2022' is not YYYY-MM"),
        ("events:\n  - name: closed\n    month: 2022-07\n    words: ['clos(']\n", "not a valid pattern"),
        ("ask_description: " + "x" * 101 + "\n", "Discord allows 100"),
        ("about: [a, list]\n", "'about' must be text"),
    ],
)
def test_a_bad_story_yaml_is_named_by_check_and_stops_the_load(workdir, capsys, text, problem):
    (workdir / "corpus" / "story.yaml").write_text(text, encoding="utf-8")
    assert main(["corpus", "check"]) == 1
    err = capsys.readouterr().out
    assert "story.yaml" in err and problem in err
    assert main(["ask", "--no-audit", "when was it restored"]) != 0
    assert "story.yaml" in capsys.readouterr().err
