"""Member text in every moderator's view, report post, answer and /mydata is inert: a hostile
member's code fence, masked link, bare URL, mention or direction override reaches Discord as the
characters they typed and nothing else. Through the real client, the loopback fake, both backends."""
from __future__ import annotations

import pytest

from bot.audit_store import Scope
from bot.discord.embeds import answer_embed
from bot.inert_text import for_discord
from bot_world import GUILD_A, MODERATOR, bot_world, inert_problems
from retrieval.answer import Answer
from store_backends import postgres_server, postgres_url, store_location  # noqa: F401 - the fixtures

PHISH = ("https://x.y/```[Verify your moderator account](https://evil.example/phish) @everyone "
         "why did Amnesty withdraw the status")
REASON = "```[Appeal here](https://evil.example/appeal)``` \u202eeganam"
NAME = "mallory``` [admin](https://evil.example)"


@pytest.mark.parametrize("text", [PHISH, REASON, NAME, "<@123456789012345678> <#1> <t:1:R> `x` **b** __u__ ||s|| > q",
                                  "# header", "- item", "1. item", "\\```", "\\\\[a](https://b.c)"])
def test_the_one_renderer_leaves_nothing_discord_would_act_on(text):
    shown = for_discord(text)
    assert inert_problems(shown) == [], shown
    # What a reader sees is what was typed: unescaping gives the text back (controls shown as escapes).
    assert shown.replace("\\", "").replace("\u200b", "") == text.replace("\\", "").replace("\u202e", "u202e")


def test_a_right_to_left_override_in_a_question_does_not_reverse_the_answer_title():
    embed = answer_embed(Answer("why \u202ewas the status withdrawn", "hybrid", (), "v1", "m", 1.0))
    assert "\u202e" not in embed.title and "\\\\u202e" in embed.title


@pytest.mark.asyncio
async def test_a_hostile_members_text_is_inert_in_every_view_moderators_and_members_get(bm25_index, tmp_path,
                                                                                       store_location):
    async with bot_world(bm25_index, tmp_path, store_location) as world:
        await world.set_modlog()
        body, message = await world.ask(PHISH, user_id=701, username=NAME)
        [entry] = await world.store.recent(Scope.guild(GUILD_A), 1)
        assert entry.question == PHISH  # stored as asked: the log keeps the evidence
        await world.report(message, entry.id, REASON, user_id=702, username=NAME)
        await world.fake.wait_until(world.modlog_posts, 5, "the report in the mod-log channel")

        shown = {"answer title": body["embeds"][0]["title"]}
        [post] = world.modlog_posts()
        report = post["embeds"][0]
        shown["report"] = "\n".join([report["description"], *(f["value"] for f in report["fields"])])
        shown["report footer"] = report["footer"]["text"]
        for view, options in (("audit show", {"id": entry.id}), ("audit recent", {}), ("audit reported", {}),
                              ("audit stats", {})):
            shown[view] = await world.command(view, options, permissions=MODERATOR)
        shown["mydata"] = await world.command("mydata", user_id=701)

        assert "Verify your moderator account" in shown["audit show"] and "Appeal here" in shown["audit reported"]
        assert "evil" in shown["report"] and "Verify your moderator" in shown["audit stats"]
        for where, text in shown.items():
            if where == "report footer":  # a footer renders no markdown: only the override matters
                assert "\u202e" not in text and "mallory" in text
                continue
            assert inert_problems(text) == [], (where, text)
