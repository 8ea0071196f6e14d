""""Find sources" on a long message asks its first sentences within the question limit (words and
characters, retrieval/limits.py) and says it cut; a member's cooldown in one server does not hold
them up in another. Through the real client, the loopback fake, both backends."""
from __future__ import annotations

import pytest

from bot.audit_store import Scope
from bot.discord.find_sources import CHARACTER, SENTENCE, WORD, claim_from, cut_note
from bot_world import GUILD_A, GUILD_B, bot_world
from retrieval.limits import MAX_QUESTION_CHARS, MAX_QUESTION_WORDS
from retrieval.question_text import normalise_question, word_count
from store_backends import postgres_server, postgres_url, store_location  # noqa: F401 - the fixtures

FIRST = "Amnesty International withdrew the prisoner of conscience status from Alexei Navalny in February 2021."
SECOND = "The organisation said some of his past comments amounted to advocacy of hatred."
THIRD = "Critics said the decision played into the hands of the Kremlin and its supporters online."
SENTENCES = [FIRST, SECOND, THIRD]


@pytest.mark.parametrize("text, expected, where, said", [
    (" ".join(SENTENCES * 2), f"{FIRST} {SECOND}", SENTENCE, "up to a sentence end"),  # 84 words: two sentences fit in 40
    (" ".join(SENTENCES * 12), f"{FIRST} {SECOND}", SENTENCE, "up to a sentence end"),  # ~2,100 characters
    ("word " * 60 + "end.", " ".join(["word"] * MAX_QUESTION_WORDS), WORD, "up to a word's end"),  # one endless sentence
    ("x" * 3000, "x" * MAX_QUESTION_CHARS, CHARACTER, "inside its first word"),  # one endless word
])
def test_a_long_message_is_cut_to_both_question_limits_and_the_asker_is_told_where(text, expected, where, said):
    claim = claim_from(text)
    assert claim.question == expected and claim.cut and claim.cut_at == where
    assert said in cut_note(claim) and "sentence end" not in cut_note(claim).replace(said, "")
    assert word_count(claim.question) <= MAX_QUESTION_WORDS and len(claim.question) <= MAX_QUESTION_CHARS
    assert normalise_question(claim.question)  # the engine takes it
    assert claim_from(FIRST) == type(claim)(FIRST, False)


@pytest.mark.asyncio
async def test_find_sources_answers_a_52_word_and_a_2000_character_message_and_says_it_cut_them(
        bm25_index, tmp_path, store_location):
    fifty_two = " ".join(SENTENCES) + " " + "He has remained in prison since his arrest in January."
    assert word_count(fifty_two) == 52
    long = " ".join(SENTENCES * 8)
    assert len(long) > 2000
    async with bot_world(bm25_index, tmp_path, store_location) as world:
        for user, text in ((801, fifty_two), (802, long)):
            message = world.fake.member_message(text, author_id=555)
            body, shown = await world.final(await world.fake.message_command("Find sources", message, user_id=user))
            assert body.get("embeds"), body  # an answer, not "I can't ask that"
            assert "longer than a question may be" in body["content"] and "first" in body["content"]
            [entry] = await world.store.recent(Scope.guild(GUILD_A), 1)
            assert entry.question == f"{FIRST} {SECOND}" and entry.message_id == message["id"]


@pytest.mark.asyncio
async def test_a_cooldown_in_one_server_does_not_hold_a_member_up_in_another(bm25_index, tmp_path):
    async with bot_world(bm25_index, tmp_path, str(tmp_path / "audit.db"), cooldown_seconds=60) as world:
        first, _ = await world.ask("who is julie verhaar", user_id=901, guild_id=GUILD_A)
        assert first.get("embeds")
        again, _ = await world.ask("who is leonid volkov", user_id=901, guild_id=GUILD_A)
        assert "ask again in" in again["content"]  # the cooldown holds in the server it started in
        elsewhere, _ = await world.ask("who is leonid volkov", user_id=901, guild_id=GUILD_B)
        assert elsewhere.get("embeds"), elsewhere  # not in another server
