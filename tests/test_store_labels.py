"""Moderators' labels in the audit store: the same contract on every backend
(store_backends.BACKENDS). A label belongs to its answer's server, holds no copy of the question,
and bad input changes nothing."""
from __future__ import annotations

import pytest

from bot.store import UnknownAuditId
from bot.store.community import UnknownQuote
from bot.store.labels import BadLabel, UnknownLabel
from store_backends import (A, B, BODY, DMS, FIRST, SECOND, OPERATOR, answer, in_dm, in_guild,  # noqa: F401
                            postgres_server, postgres_url, store, store_location)

pytestmark = pytest.mark.asyncio

AGAINST = (("bbc-2021-01-17", "0123456789abcdef"),)


async def test_a_label_is_its_servers_and_reads_the_question_and_the_quote_from_the_answer(store):
    audit_id = await store.record_answer(answer("what happened at the airport?"), in_guild("111"))
    label = await store.label(A, audit_id, "right", quote_rank=2, note="the detention", against=AGAINST,
                              user_id="9", user_name="mod-a")
    assert (label.guild_id, label.answer_id, label.verdict, label.quote_rank, label.note) == (
        "111", audit_id, "right", 2, "the detention")
    assert (label.question, label.passage, label.doc_id, label.start, label.end) == (
        "what happened at the airport?", BODY[SECOND[0]:SECOND[1]], "bbc-2021-01-17", *SECOND)
    assert label.against == AGAINST and (label.user_id, label.user_name) == ("9", "mod-a")
    assert await store.labels(A) == [label] == await store.labels(OPERATOR)
    assert await store.labels(B) == [] and await store.labels(DMS) == []
    assert await store.labels(A, audit_id=audit_id) == [label]
    [exported] = await store.export(A)
    assert exported["label"] == {"id": label.id, "verdict": "right", "quote_rank": 2, "note": "the detention",
                                 "user_id": "9", "user_name": "mod-a", "created_at": label.created_at}
    assert (await store.export(B)) == []

    # Labelling again replaces the label: one per answer.
    again = await store.label(A, audit_id, "none", user_id="9", user_name="mod-a")
    assert [x.verdict for x in await store.labels(A)] == ["none"] and again.passage is None

    # Undo: another server cannot remove it, its own moderators can.
    with pytest.raises(UnknownLabel):
        await store.unlabel(B, again.id)
    removed = await store.unlabel(A, again.id)
    assert removed.id == again.id and await store.labels(OPERATOR) == []
    with pytest.raises(UnknownLabel):
        await store.unlabel(A, again.id)


@pytest.mark.parametrize("verdict, rank, error, words", [
    ("maybe", None, BadLabel, "unknown label 'maybe'"),
    ("right", None, BadLabel, "needs the number of the quote"),
    ("wrong", 0, BadLabel, "out of range"),
    ("none", 1, BadLabel, "give no quote number"),
    ("wrong", 3, UnknownQuote, "no quote 3"),
])
async def test_a_bad_label_is_refused_with_what_is_wrong_and_changes_nothing(store, verdict, rank, error, words):
    audit_id = await store.record_answer(answer(), in_guild("111"))
    await store.label(A, audit_id, "right", quote_rank=1, user_id="9")
    with pytest.raises(error, match=words):
        await store.label(A, audit_id, verdict, quote_rank=rank, user_id="9")
    assert [(x.verdict, x.quote_rank) for x in await store.labels(OPERATOR)] == [("right", 1)]


async def test_an_answer_of_another_server_or_none_or_without_quotes_is_not_labelled(store):
    theirs = await store.record_answer(answer(), in_guild("222"))
    empty = await store.record_answer(answer("who won the match?", abstained=True), in_guild("111"))
    for audit_id in (theirs, 10_000, "abc"):
        with pytest.raises(UnknownAuditId):
            await store.label(A, audit_id, "none", user_id="9")
    with pytest.raises(BadLabel, match="quoted nothing"):
        await store.label(A, empty, "wrong", quote_rank=1, user_id="9")
    assert await store.labels(OPERATOR) == []
    # An answer with no quotes may still be "not in the articles"; the operator labels in its server.
    assert (await store.label(A, empty, "none", user_id="9")).guild_id == "111"
    assert (await store.label(OPERATOR, theirs, "none")).guild_id == "222"
    assert [x.answer_id for x in await store.labels(B)] == [theirs]


async def test_a_forget_leaves_a_label_with_nothing_to_teach_and_pseudonymises_its_moderator(store):
    audit_id = await store.record_answer(answer("what happened at the airport?"), in_guild("111", user_id="333"))
    await store.label(A, audit_id, "right", quote_rank=1, user_id="9", user_name="mod-a")
    assert (await store.mydata(A, "9")).labels == 1
    await store.forget(A, "333")  # the asker
    [label] = await store.labels(A)
    assert label.question == "" and label.passage == BODY[FIRST[0]:FIRST[1]]  # the quote stays, as in the answer
    forgotten = await store.forget(A, "9")  # the moderator
    assert forgotten.moderation >= 1
    [label] = await store.labels(A)
    assert label.user_id is None and label.user_name not in (None, "mod-a")
    assert (await store.mydata(A, "9")).labels == 0


async def test_expiry_removes_the_question_a_label_would_teach(store):
    audit_id = await store.record_answer(answer("what happened at the airport?"), in_guild("111"))
    await store.label(A, audit_id, "none", user_id="9")
    await store.delete_older_than(1e-9)
    [label] = await store.labels(A)
    assert label.question == ""
