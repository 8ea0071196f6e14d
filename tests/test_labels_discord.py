"""Moderators' labels on Discord: the real discord.py client against the loopback fake. A label
pressed under /audit show changes that server's answers to the question and a paraphrase at
once, and no other server's."""
from __future__ import annotations

import json

import pytest
import pytest_asyncio

from bot.audit_store import Scope
from bot_world import GUILD_A, GUILD_B, MODERATOR, MODLOG, bot_world
from fake_discord import BASIC_PERMISSIONS

QUESTION = "when was the status restored"
PARAPHRASE = "when did amnesty give the status back"


@pytest_asyncio.fixture
async def world(hybrid_index, tmp_path):
    async with bot_world(hybrid_index, tmp_path, str(tmp_path / "audit.db")) as opened:
        yield opened


async def asked(world, question, guild_id):
    body, _ = await world.ask(question, guild_id=guild_id)
    [entry] = await world.store.recent(Scope.guild(guild_id), 1)
    return entry


def buttons_of(message: dict) -> dict[str, str]:
    return {c["label"]: c["custom_id"] for row in message.get("components", []) for c in row["components"]}


async def press(world, custom_id, message, permissions=MODERATOR, guild_id=GUILD_A):
    pressed = await world.fake.press_button(custom_id, message=message, permissions=permissions, guild_id=guild_id)
    final = await world.fake.wait_for_response(pressed.id, "final", timeout=30)
    body = final.json.get("data", final.json)
    return body.get("content") or body["embeds"][0]["description"]


@pytest.mark.asyncio
async def test_a_not_in_the_articles_label_pressed_under_audit_show_changes_that_server_only(world):
    first = await asked(world, QUESTION, GUILD_A)
    assert first.status == "answered"
    before_b = await asked(world, QUESTION, GUILD_B)
    sent = await world.fake.slash("audit show", {"id": first.id}, permissions=MODERATOR, guild_id=GUILD_A)
    _, shown = await world.final(sent)
    buttons = buttons_of(shown)
    assert {"Quote 1 right", "Quote 1 wrong", "Not in the articles"} <= set(buttons)

    # A member without Manage Messages cannot label.
    refused = await press(world, buttons["Not in the articles"], shown, permissions=BASIC_PERMISSIONS)
    assert "Only moderators" in refused and await world.store.labels(Scope.operator()) == []

    text = await press(world, buttons["Not in the articles"], shown)
    assert "not in the articles" in text
    [label] = await world.store.labels(Scope.guild(GUILD_A))
    assert (label.answer_id, label.verdict, label.question) == (first.id, "none", QUESTION)
    assert "not in the articles" in await world.command("audit show", {"id": first.id}, permissions=MODERATOR,
                                                        guild_id=GUILD_A)

    for question in (QUESTION, PARAPHRASE):
        again = await asked(world, question, GUILD_A)
        assert again.status == "uncertain", question
        assert "moderators marked" in again.reason
        assert (await asked(world, question, GUILD_B)).status == "answered"  # B never labelled it
    assert (await asked(world, QUESTION, GUILD_B)).quotes == before_b.quotes


@pytest.mark.asyncio
async def test_a_right_passage_label_puts_that_quote_first_and_undoing_it_restores_the_answer(world):
    question = "who was the amnesty spokesperson"
    first = await asked(world, question, GUILD_A)
    assert len(first.quotes) >= 2
    second = first.quotes[1]
    body = await world.command("audit label", {"id": first.id, "verdict": "right", "quote_number": 2},
                               permissions=MODERATOR, guild_id=GUILD_A)
    assert "right passage" in body
    labelled = await asked(world, question, GUILD_A)
    assert labelled.status == "answered"
    assert (labelled.quotes[0].doc_id, labelled.quotes[0].start) == (second.doc_id, second.start)
    other = await asked(world, question, GUILD_B)
    assert [(q.doc_id, q.start) for q in other.quotes] == [(q.doc_id, q.start) for q in first.quotes]

    # Bad input changes nothing and says why.
    assert "There is no answer" in await world.command("audit label", {"id": other.id, "verdict": "none"},
                                                       permissions=MODERATOR, guild_id=GUILD_A)
    assert "needs the number" in await world.command("audit label", {"id": first.id, "verdict": "wrong"},
                                                     permissions=MODERATOR, guild_id=GUILD_A)
    [label] = await world.store.labels(Scope.operator())

    assert "no label" in await world.command("audit unlabel", {"label_id": label.id}, permissions=MODERATOR,
                                             guild_id=GUILD_B)
    assert "Removed" in await world.command("audit unlabel", {"label_id": label.id}, permissions=MODERATOR,
                                            guild_id=GUILD_A)
    restored = await asked(world, question, GUILD_A)
    assert [(q.doc_id, q.start) for q in restored.quotes] == [(q.doc_id, q.start) for q in first.quotes]


@pytest.mark.asyncio
async def test_a_mod_log_report_carries_the_label_buttons(world):
    await world.set_modlog(guild_id=GUILD_A)
    _, message = await world.ask(QUESTION, guild_id=GUILD_A, user_id=950)
    [entry] = await world.store.recent(Scope.guild(GUILD_A), 1)
    await world.report(message, entry.id, "that date is wrong", guild_id=GUILD_A, user_id=951)
    post = await world.fake.wait_until(lambda: next(iter(world.modlog_posts()), None), 3.0, "the report in the mod-log")
    buttons = buttons_of(post)
    assert {"Quote 1 right", "Quote 1 wrong", "Not in the articles"} <= set(buttons)
    pressed = await world.fake.press_button(buttons["Quote 1 wrong"], message=post, channel_id=MODLOG,
                                            permissions=MODERATOR, guild_id=GUILD_A, user_id=990, username="mod-a")
    final = await world.fake.wait_for_response(pressed.id, "final", timeout=30)
    assert "wrong passage (quote 1)" in json.dumps(final.json, ensure_ascii=False)
    [label] = await world.store.labels(Scope.guild(GUILD_A))
    assert (label.answer_id, label.verdict, label.quote_rank, label.user_id) == (entry.id, "wrong", 1, "990")
    first = entry.quotes[0]
    again = await asked(world, QUESTION, GUILD_A)
    assert all((q.doc_id, q.start) != (first.doc_id, first.start) for q in again.quotes)
    assert (await asked(world, QUESTION, GUILD_B)).quotes[0].start == first.start
