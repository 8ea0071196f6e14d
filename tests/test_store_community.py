"""The store's side of a community: per-server settings, members' data, report outcomes. The same
contract on every backend (store_backends.BACKENDS)."""
from __future__ import annotations

import asyncio

import pytest

from bot.store import NeedsGuildScope, UnknownAuditId, open_store
from bot.store.community import FORGOTTEN_QUESTION, BadGuildSetting, GuildSettings, UnknownQuote
from retrieval.index import HiddenSpan
from store_backends import (A, B, BODY, DMS, FIRST, OPERATOR, answer, in_dm, in_guild, postgres_server,  # noqa: F401
                            postgres_url, store, store_location)

pytestmark = pytest.mark.asyncio


async def test_a_server_without_settings_has_the_defaults(store):
    settings = await store.guild_settings("111")
    assert settings == GuildSettings("111")
    assert settings.answers_public_in("999") and not settings.find_sources_public


async def test_settings_are_stored_per_server_and_survive_a_reopen(store, store_location):
    chosen = GuildSettings("111", public_channels=("5", "6"), cooldown_seconds=30.0, modlog_channel_id="7",
                           find_sources_public=True)
    saved = await store.save_guild_settings(A, chosen, user_id="42")
    assert (saved.public_channels, saved.cooldown_seconds, saved.modlog_channel_id, saved.find_sources_public,
            saved.updated_by) == (("5", "6"), 30.0, "7", True, "42")
    assert saved.answers_public_in("5") and not saved.answers_public_in("999")
    assert await store.guild_settings("222") == GuildSettings("222")  # the other server keeps its defaults
    again = await open_store(store_location)  # another process, or a restart
    try:
        assert await again.guild_settings("111") == saved
    finally:
        await again.close()


async def test_settings_are_checked_and_only_saved_in_their_own_server(store):
    with pytest.raises(BadGuildSetting, match="cooldown of -1 s"):
        await store.save_guild_settings(A, GuildSettings("111", cooldown_seconds=-1))
    with pytest.raises(BadGuildSetting, match="'general' is not a channel id"):
        await store.save_guild_settings(A, GuildSettings("111", public_channels=("general",)))
    with pytest.raises(ValueError, match="settings of guild 222"):
        await store.save_guild_settings(A, GuildSettings("222"))
    with pytest.raises(NeedsGuildScope):
        await store.save_guild_settings(OPERATOR, GuildSettings("111"))
    assert await store.guild_settings("111") == GuildSettings("111")


async def test_a_members_data_is_theirs_in_one_server(store):
    mine = await store.record_answer(answer("what did amnesty say?"), in_guild("111", "333"))
    about_my_message = await store.record_answer(
        answer("Amnesty called Navalny a racist!"),
        in_guild("111", "444", source="message", message_id="9", message_author_id="333"))
    elsewhere = await store.record_answer(answer("asked in B"), in_guild("222", "333"))
    await store.record_vote(A, about_my_message, kind="helpful", user_id="333", user_name="m")
    await store.record_report(A, mine, user_id="333", user_name="m", reason="out of context")
    await store.record_report(B, elsewhere, user_id="333", user_name="m", reason="in B")

    data = await store.member_data(A, "333")
    assert [(q.audit_id, q.question, q.why) for q in data.questions] == [
        (mine, "what did amnesty say?", "asked"), (about_my_message, "Amnesty called Navalny a racist!", "your message")]
    assert [(f.answer_id, f.kind, f.reason) for f in data.feedback] == [
        (about_my_message, "helpful", None), (mine, "report", "out of context")]
    assert [q.question for q in (await store.member_data(B, "333")).questions] == ["asked in B"]


async def test_forgetting_a_member_removes_their_words_and_keeps_quotes_and_moderation_pseudonymised(store):
    mine = await store.record_answer(answer("what did amnesty say?"), in_guild("111", "333"))
    about_my_message = await store.record_answer(
        answer("my claim"), in_guild("111", "444", source="message", message_id="9", message_author_id="333"))
    others = await store.record_answer(answer("someone else's question"), in_guild("111", "555"))
    in_b = await store.record_answer(answer("asked in B"), in_guild("222", "333"))
    await store.record_report(A, others, user_id="333", user_name="m", reason="wrong")
    await store.record_vote(A, others, kind="helpful", user_id="555", user_name="x")
    await store.hide(A, HiddenSpan("bbc-2021-01-17", *FIRST), reason="checked", answer_id=others, user_id="333",
                     user_name="m")

    forgotten = await store.forget_member(A, "333")
    assert (forgotten.questions, forgotten.feedback, forgotten.pseudonymised) == (2, 1, 2)  # moderation + hide
    exported = str(await store.export(A))
    assert "what did amnesty say?" not in exported and "my claim" not in exported and "'333'" not in exported
    assert "someone else's question" in exported
    kept = await store.get(A, mine)
    assert (kept.question, kept.user_id, kept.user_name) == (FORGOTTEN_QUESTION, forgotten.pseudonym, forgotten.pseudonym)
    assert kept.quotes and kept.quotes[0].text == BODY[slice(*FIRST)]  # what the bot said stays
    assert (await store.get(A, about_my_message)).message_author_id == forgotten.pseudonym
    assert [(f.kind, f.user_id) for f in (await store.get(A, others)).feedback] == [("helpful", "555")]
    [record] = await store.moderation(A)
    assert (record.action, record.user_id) == ("hide", forgotten.pseudonym)
    assert (await store.member_data(A, "333")).questions == ()
    assert (await store.get(B, in_b)).question == "asked in B"  # another server's data is its own


async def test_the_operator_forgets_a_member_everywhere_dms_included(store):
    await store.record_answer(answer("in a dm"), in_dm("333"))
    await store.record_answer(answer("in A"), in_guild("111", "333"))
    forgotten = await store.forget_member(OPERATOR, "333")
    assert forgotten.questions == 2
    assert "in a dm" not in str(await store.export(OPERATOR)) and "'333'" not in str(await store.export(OPERATOR))


async def test_retention_removes_older_member_data_only(store):
    old = await store.record_answer(answer("an old question"), in_guild("111", "333"))
    await store.record_vote(A, old, kind="helpful", user_id="333", user_name="m")
    await asyncio.sleep(0.05)
    expired = await store.expire_member_data(0.01 / 86400)  # ten milliseconds: everything so far is older
    assert (expired.questions, expired.feedback) == (1, 1)
    entry = await store.get(A, old)
    assert entry.user_id is None and entry.question != "an old question" and entry.quotes and entry.feedback == ()
    fresh = await store.record_answer(answer("a new question"), in_guild("111", "333"))
    await store.expire_member_data(30)
    assert (await store.get(A, fresh)).question == "a new question"
    with pytest.raises(ValueError, match="retention of 0 days"):
        await store.expire_member_data(0)


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
