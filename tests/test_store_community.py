"""What moderators did with reports from the mod-log channel: the same contract on every backend
(store_backends.BACKENDS). Per-server settings and members' data are in test_store_contract.py."""
from __future__ import annotations

import pytest

from bot.store import NeedsGuildScope, UnknownAuditId, open_store
from bot.store.community import UnknownQuote
from retrieval.index import HiddenSpan
from store_backends import (A, B, BODY, DMS, FIRST, OPERATOR, answer, in_dm, in_guild, postgres_server,  # noqa: F401
                            postgres_url, store, store_location)

pytestmark = pytest.mark.asyncio


async def test_a_report_is_resolved_by_hiding_a_quote_in_that_server_or_dismissed(store):
    audit_id = await store.record_answer(answer(), in_guild("111"))
    report = await store.record_report(A, audit_id, user_id="333", user_name="m", reason="wrong")
    hidden = await store.resolve_report(A, audit_id, action="hide", report_id=report, quote_rank=1, user_id="9",
                                        user_name="mod")
    assert (hidden.action, hidden.report_id, hidden.quote_rank, hidden.guild_id) == ("hide", report, 1, "111")
    assert hidden.moderation_id is not None
    assert await store.hidden_spans("111") == {HiddenSpan("bbc-2021-01-17", *FIRST)}
    assert await store.hidden_spans("222") == frozenset()
    again = await store.resolve_report(A, audit_id, action="hide", report_id=report, quote_rank=1, user_id="9")
    assert again.moderation_id is None  # hidden already: recorded, no second hide
    dismissed = await store.resolve_report(A, audit_id, action="dismiss", report_id=report, user_id="9")
    assert [a.action for a in await store.report_actions(A, audit_id)] == ["hide", "hide", "dismiss"]
    assert dismissed.report_id == report and await store.report_actions(B) == []
    with pytest.raises(UnknownAuditId):
        await store.resolve_report(B, audit_id, action="dismiss")  # another server's answer is not found
    with pytest.raises(UnknownQuote, match="no quote 3"):
        await store.resolve_report(A, audit_id, action="hide", quote_rank=3)
    with pytest.raises(NeedsGuildScope):
        await store.resolve_report(DMS, audit_id, action="dismiss")


async def test_forgetting_a_moderator_pseudonymises_their_decisions_on_reports(store):
    audit_id = await store.record_answer(answer(), in_guild("111"))
    await store.resolve_report(A, audit_id, action="dismiss", user_id="9", user_name="mod")
    await store.resolve_report(A, audit_id, action="hide", quote_rank=1, user_id="9", user_name="mod")
    forgotten = await store.forget(A, "9")
    assert forgotten.moderation == 4  # two decisions, the hide's moderation record and the hide itself
    actions = await store.report_actions(A, audit_id)
    assert [a.user_id for a in actions] == [None, None] and len({a.user_name for a in actions}) == 1
    assert actions[0].user_name != "mod"
