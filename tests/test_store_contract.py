"""The audit store's contract: every backend (a real SQLite file, a real PostgreSQL) behaves alike."""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from datetime import datetime, timedelta, timezone

import pytest

from bot.store import (REPORTS_PER_MEMBER_PER_DAY, AuditWriteFailed, BadGuildSetting, Forgotten, GuildSettings, MemberData, AuditEntry, AuditQuote, AuditStats, Feedback, NeedsGuildScope,
                       ReportLimitReached, SpanAlreadyHidden, SpanNotHidden, UnknownAuditId, BadSpan)
from retrieval.answer import Status
from retrieval.index import HiddenSpan
from store_backends import (A, B, BODY, CLI, DMS, FIRST, OPERATOR, SECOND, answer, in_dm, in_guild,  # noqa: F401
                            postgres_server, postgres_url, store, store_location)  # the fixtures

pytestmark = pytest.mark.asyncio

REPO = Path(__file__).resolve().parents[1]

SPAN = HiddenSpan("bbc-2021-01-17", *FIRST)


# Answers


async def test_an_answer_comes_back_field_for_field(store):
    before = datetime.now(timezone.utc)
    asker = in_guild(source="message", message_id="5551", message_author_id="5552")
    audit_id = await store.record_answer(answer(status=Status.UNCERTAIN, reason="none of them says who"), asker)
    entry = await store.get(A, audit_id)

    created = datetime.fromisoformat(entry.created_at)
    assert created.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=1) <= created <= datetime.now(timezone.utc)
    first, second = BODY[slice(*FIRST)], BODY[slice(*SECOND)]
    assert entry == AuditEntry(
        id=audit_id, created_at=entry.created_at, guild_id="111", channel_id="999", user_id="333",
        user_name="member333", question="What happened at the airport?", mode="hybrid", abstained=False,
        corpus_version="c0ffee", model="all-MiniLM-L6-v2", latency_ms=12.5, status="uncertain",
        reason="none of them says who", source="message", message_id="5551", message_author_id="5552",
        quotes=(
            AuditQuote(1, "bbc-2021-01-17", *FIRST, hashlib.sha256(first.encode()).hexdigest(), first, 0.91),
            AuditQuote(2, "bbc-2021-01-17", *SECOND, hashlib.sha256(second.encode()).hexdigest(), second, 0.62),
        ),
        feedback=(),
    )


async def test_an_abstention_from_the_command_line_is_recorded_without_quotes(store):
    audit_id = await store.record_answer(answer("Who won the 2030 World Cup?", mode="bm25", abstained=True), CLI)
    entry = await store.get(OPERATOR, audit_id)
    assert (entry.abstained, entry.status, entry.quotes, entry.model) == (True, "not_covered", (), None)
    assert (entry.guild_id, entry.channel_id, entry.source, entry.user_name) == (None, "cli", "cli", "operator")


async def test_an_unknown_source_is_refused(store):
    with pytest.raises(ValueError, match="unknown source 'email'"):
        await store.record_answer(answer(), dataclasses.replace(in_guild(), source="email"))
    assert await store.recent(OPERATOR) == []


@pytest.mark.parametrize("audit_id", [12345, 0, -1, 10**20, 99999999999999999999, 2**63])
async def test_an_id_that_names_nothing_is_unknown_never_an_overflow(store, audit_id):
    with pytest.raises(UnknownAuditId, match=f"no audit entry with id {audit_id}"):
        await store.get(OPERATOR, audit_id)


async def test_concurrent_writers_all_land(store):
    ids = await asyncio.gather(*(store.record_answer(answer(f"question {n}"), in_guild()) for n in range(20)))
    assert sorted(ids) == list(range(1, 21))
    assert {entry.question for entry in await store.recent(A, 100)} == {f"question {n}" for n in range(20)}


# Scopes: each server sees only its own, the operator sees everything


async def scattered(store) -> dict[str, int]:
    return {
        "a": await store.record_answer(answer("asked in A"), in_guild("111")),
        "b": await store.record_answer(answer("asked in B"), in_guild("222")),
        "dm": await store.record_answer(answer("asked in a DM"), in_dm()),
        "cli": await store.record_answer(answer("asked on the command line"), CLI),
    }


async def test_a_server_sees_only_its_own_answers(store):
    ids = await scattered(store)
    assert [e.question for e in await store.recent(A)] == ["asked in A"]
    assert [e.question for e in await store.recent(B)] == ["asked in B"]
    assert [e.question for e in await store.recent(DMS)] == ["asked in a DM"]
    assert [e.id for e in await store.recent(OPERATOR)] == [ids["cli"], ids["dm"], ids["b"], ids["a"]]


@pytest.mark.parametrize("whose", ["b", "dm", "cli"])
async def test_another_servers_answer_is_unknown_exactly_as_a_missing_one(store, whose):
    ids = await scattered(store)
    with pytest.raises(UnknownAuditId) as outside:
        await store.get(A, ids[whose])
    with pytest.raises(UnknownAuditId) as missing:
        await store.get(A, 999)
    assert str(outside.value) == str(missing.value).replace("999", str(ids[whose]))
    for action in (
        store.record_vote(A, ids[whose], kind="helpful", user_id="7", user_name="x"),
        store.record_report(A, ids[whose], user_id="7", user_name="x", reason="spy"),
        store.hide(A, SPAN, reason="spy", answer_id=ids[whose], user_id="7", user_name="x"),
    ):
        with pytest.raises(UnknownAuditId):
            await action
    assert (await store.get(OPERATOR, ids[whose])).feedback == ()
    assert await store.hidden_spans("111") == frozenset()


async def test_reported_stats_and_export_stay_in_their_server(store):
    ids = await scattered(store)
    for whose, scope in (("a", A), ("b", B), ("dm", DMS)):
        await store.record_report(scope, ids[whose], user_id="7", user_name="x", reason=f"report on {whose}")
    await store.record_vote(B, ids["b"], kind="helpful", user_id="7", user_name="x")

    assert [e.id for e in await store.reported(A)] == [ids["a"]]
    assert [e.id for e in await store.reported(OPERATOR)] == [ids["dm"], ids["b"], ids["a"]]
    stats_a = await store.stats(A)
    assert (stats_a.questions, stats_a.reports, stats_a.helpful) == (1, 1, 0)
    stats_all = await store.stats(OPERATOR)
    assert (stats_all.questions, stats_all.reports, stats_all.helpful) == (4, 3, 1)
    assert [row["question"] for row in await store.export(B)] == ["asked in B"]
    assert [row["id"] for row in await store.export(OPERATOR)] == sorted(ids.values())
    exported_b = (await store.export(B))[0]
    assert [f["reason"] for f in exported_b["feedback"] if f["kind"] == "report"] == ["report on b"]


# Statuses


async def test_recent_filters_by_status_and_stats_count_them(store):
    await store.record_answer(answer("answered"), in_guild())
    uncertain = await store.record_answer(answer("hedged", status=Status.UNCERTAIN, reason="says nothing of when"),
                                          in_guild())
    await store.record_answer(answer("off topic", abstained=True), in_guild())
    await store.record_answer(answer("hedged elsewhere", status=Status.UNCERTAIN), in_guild("222"))

    assert [e.id for e in await store.recent(A, status="uncertain")] == [uncertain]
    assert [e.question for e in await store.recent(OPERATOR, status="uncertain")] == ["hedged elsewhere", "hedged"]
    assert (await store.stats(A)).by_status == {"answered": 1, "not_covered": 1, "uncertain": 1}
    with pytest.raises(ValueError, match="unknown status 'unsure'"):
        await store.recent(A, status="unsure")


async def test_stats_count_questions_feedback_modes_and_repeats(store):
    first = await store.record_answer(answer("Who is Navalny?"), in_guild())
    second = await store.record_answer(answer("  WHO IS  NAVALNY?\n"), in_guild())
    third = await store.record_answer(answer("What did Amnesty say?", mode="bm25"), in_guild())
    await store.record_answer(answer("Is it raining in Moscow?", abstained=True), in_guild())
    await store.record_vote(A, first, kind="helpful", user_id="1", user_name=None)
    await store.record_vote(A, third, kind="helpful", user_id="1", user_name=None)
    await store.record_vote(A, second, kind="not_helpful", user_id="1", user_name=None)
    await store.record_report(A, second, user_id="2", user_name=None, reason="out of context")

    assert await store.stats(A) == AuditStats(
        questions=4, abstained=1, abstention_rate=0.25, helpful=2, not_helpful=1, reports=1,
        by_mode={"hybrid": 3, "bm25": 1}, by_status={"answered": 3, "not_covered": 1},
        # Ties go to the most recently asked; a group shows its latest wording, trimmed.
        most_asked=[("WHO IS  NAVALNY?", 2), ("Is it raining in Moscow?", 1), ("What did Amnesty say?", 1)],
    )


async def test_most_asked_keeps_the_top_five_and_folds_non_ascii_case(store):
    for question in ["Кто такой Навальный?", "кто такой навальный?", *(f"q{n}" for n in range(6))]:
        await store.record_answer(answer(question), in_guild())
    most_asked = (await store.stats(A)).most_asked
    assert most_asked == [("кто такой навальный?", 2), ("q5", 1), ("q4", 1), ("q3", 1), ("q2", 1)]


async def test_stats_of_an_empty_store(store):
    stats = await store.stats(OPERATOR)
    assert (stats.questions, stats.abstained, stats.abstention_rate) == (0, 0, 0.0)
    assert (stats.by_mode, stats.by_status, stats.most_asked) == ({}, {}, [])


@pytest.mark.parametrize("limit, count", [(0, 1), (-5, 1), (3, 3), (101, 100), (10_000, 100)])
async def test_recent_clamps_its_limit(store, limit, count):
    await asyncio.gather(*(store.record_answer(answer(f"q{n}", abstained=True), in_guild()) for n in range(102)))
    assert len(await store.recent(A, limit)) == count


# Votes and reports


async def test_five_helpful_presses_by_one_member_count_once_and_the_last_press_stands(store):
    audit_id = await store.record_answer(answer(), in_guild())
    votes = {await store.record_vote(A, audit_id, kind="helpful", user_id="77", user_name="reader") for _ in range(5)}
    assert len(votes) == 1
    assert ((await store.stats(A)).helpful, (await store.stats(A)).not_helpful) == (1, 0)

    await store.record_vote(A, audit_id, kind="not_helpful", user_id="77", user_name="reader")
    await store.record_vote(A, audit_id, kind="helpful", user_id="78", user_name="other")
    feedback = (await store.get(A, audit_id)).feedback
    assert sorted((f.user_id, f.kind) for f in feedback) == [("77", "not_helpful"), ("78", "helpful")]
    stats = await store.stats(A)
    assert (stats.helpful, stats.not_helpful) == (1, 1)


async def test_simultaneous_presses_by_one_member_still_count_once(store):
    audit_id = await store.record_answer(answer(), in_guild())
    await asyncio.gather(*(store.record_vote(A, audit_id, kind=("helpful", "not_helpful")[n % 2], user_id="77",
                                             user_name="reader") for n in range(10)))
    assert len((await store.get(A, audit_id)).feedback) == 1


@pytest.mark.parametrize("kind", ["Helpful", "report", "", "spam"])
async def test_an_unknown_vote_is_refused(store, kind):
    audit_id = await store.record_answer(answer(), in_guild())
    with pytest.raises(ValueError, match=f"unknown vote {kind!r}"):
        await store.record_vote(A, audit_id, kind=kind, user_id="1", user_name=None)
    assert (await store.get(A, audit_id)).feedback == ()


async def test_simultaneous_reports_of_one_answer_are_all_recorded(store):
    audit_id = await store.record_answer(answer(), in_guild())
    ids = await asyncio.gather(*(store.record_report(A, audit_id, user_id=str(100 + n), user_name=f"m{n}",
                                                     reason=f"reason {n}") for n in range(8)))
    assert len(set(ids)) == 8
    [reported] = await store.reported(A)
    assert sorted(f.reason for f in reported.feedback) == sorted(f"reason {n}" for n in range(8))


async def test_a_member_may_file_a_days_worth_of_reports_per_server(store):
    answers_a = [await store.record_answer(answer(f"a{n}"), in_guild()) for n in range(REPORTS_PER_MEMBER_PER_DAY + 1)]
    answer_b = await store.record_answer(answer("b"), in_guild("222"))
    for audit_id in answers_a[:-1]:
        await store.record_report(A, audit_id, user_id="13", user_name="eager", reason="no")

    with pytest.raises(ReportLimitReached, match=f"member 13 has already filed {REPORTS_PER_MEMBER_PER_DAY} reports"):
        await store.record_report(A, answers_a[-1], user_id="13", user_name="eager", reason="no")
    assert (await store.get(A, answers_a[-1])).feedback == ()
    # Another member of that server, and the same member in another server, are not held back.
    await store.record_report(A, answers_a[-1], user_id="14", user_name="calm", reason="no")
    await store.record_report(B, answer_b, user_id="13", user_name="eager", reason="no")
    assert (await store.stats(OPERATOR)).reports == REPORTS_PER_MEMBER_PER_DAY + 2


@pytest.mark.parametrize("given, kept", [
    ("  misquotes the court  ", "misquotes the court"),
    ("   ", None),
    (None, None),
    ("x" * 1500, "x" * 1000),
])
async def test_a_report_reason_is_trimmed_and_capped(store, given, kept):
    audit_id = await store.record_answer(answer(), in_guild())
    report_id = await store.record_report(A, audit_id, user_id="42", user_name="bea", reason=given)
    (feedback,) = (await store.get(A, audit_id)).feedback
    assert feedback == Feedback(report_id, feedback.created_at, "report", "42", "bea", kept)


# Per-server hides


async def test_a_hide_is_one_servers_with_its_record(store):
    audit_id = await store.record_answer(answer(), in_guild())
    record_id = await store.hide(A, SPAN, reason="  legal request ", answer_id=audit_id, user_id=9, user_name="mod")

    assert await store.hidden_spans("111") == frozenset({SPAN})
    assert await store.hidden_spans("222") == await store.hidden_spans(None) == frozenset()
    [hide] = await store.guild_hides("111")
    assert (hide.guild_id, hide.doc_id, hide.start, hide.end, hide.user_id, hide.reason) == (
        "111", *dataclasses.astuple(SPAN), "9", "legal request")
    [record] = await store.moderation(A)
    assert (record.id, record.action, record.guild_id, record.answer_id, record.user_name, record.reason) == (
        record_id, "hide", "111", audit_id, "mod", "legal request")
    assert await store.moderation(B) == [] and await store.moderation(DMS) == []
    assert await store.moderation(OPERATOR) == [record]

    # B hides the same span on its own; A unhides it and B's stays.
    await store.hide(B, SPAN, reason="ours too", answer_id=None, user_id=None, user_name="modb")
    await store.unhide(A, SPAN, reason="cleared", answer_id=audit_id, user_id=9, user_name="mod")
    assert await store.hidden_spans("111") == frozenset()
    assert await store.hidden_spans("222") == frozenset({SPAN})
    assert [m.action for m in await store.moderation(A)] == ["unhide", "hide"]


async def test_hiding_twice_or_unhiding_what_is_not_hidden_names_the_span(store):
    await store.hide(A, SPAN, reason="legal", answer_id=None, user_id=None, user_name="mod")
    with pytest.raises(SpanAlreadyHidden, match=r"bbc-2021-01-17\[0:38\] is already hidden in server 111"):
        await store.hide(A, SPAN, reason="again", answer_id=None, user_id=None, user_name="mod")
    with pytest.raises(SpanNotHidden, match=r"bbc-2021-01-17\[0:38\] is not hidden in server 222"):
        await store.unhide(B, SPAN, reason="never was", answer_id=None, user_id=None, user_name="mod")
    assert len(await store.moderation(OPERATOR)) == 1  # a refused action leaves no record


@pytest.mark.parametrize("scope", [OPERATOR, DMS])
async def test_a_per_server_hide_needs_a_server(store, scope):
    with pytest.raises(NeedsGuildScope, match="storybot corpus hide"):
        await store.hide(scope, SPAN, reason="x", answer_id=None, user_id=None, user_name=None)


@pytest.mark.parametrize("span", [HiddenSpan("d", 5, 5), HiddenSpan("d", -1, 4), HiddenSpan("", 0, 4)])
async def test_a_span_that_is_no_span_is_refused(store, span):
    with pytest.raises(BadSpan):
        await store.hide(A, span, reason="x", answer_id=None, user_id=None, user_name=None)
    assert await store.moderation(OPERATOR) == []


async def test_export_is_json_with_quotes_and_feedback_oldest_first(store):
    first = await store.record_answer(answer("first"), in_guild())
    await store.record_answer(answer("second", abstained=True), in_guild())
    await store.record_report(A, first, user_id="5", user_name="bea", reason="wrong date")

    exported = json.loads(json.dumps(await store.export(A)))
    assert [row["question"] for row in exported] == ["first", "second"]
    row = exported[0]
    assert (row["id"], row["guild_id"], row["user_name"], row["abstained"], row["status"]) == (
        first, "111", "member333", False, "answered")
    assert [(q["rank"], q["start"], q["end"], q["text"]) for q in row["quotes"]] == [
        (1, *FIRST, BODY[slice(*FIRST)]), (2, *SECOND, BODY[slice(*SECOND)])]
    assert [(f["kind"], f["user_name"], f["reason"]) for f in row["feedback"]] == [("report", "bea", "wrong date")]
    assert (exported[1]["quotes"], exported[1]["feedback"]) == ([], [])
    # Each answer's fields, and the label a moderator gave it (none here: bot/store/labels.py).
    assert set(row) == {field.name for field in dataclasses.fields(AuditEntry)} | {"label"} and row["label"] is None


async def test_invalid_text_is_kept_with_a_replacement_character_not_lost(store):
    # What `printf 'why \xff revoked' | storybot ask -` reads, and what a broken client can send.
    audit_id = await store.record_answer(answer("why \udcff revoked \ud800?"), in_guild(user_id="1"))
    await store.record_report(A, audit_id, user_id="1", user_name="bad\udcffname", reason="odd \udcff")
    entry = await store.get(A, audit_id)
    assert entry.question == "why \ufffd revoked \ufffd?"
    assert (entry.feedback[0].user_name, entry.feedback[0].reason) == ("bad\ufffdname", "odd \ufffd")


# The operator's global hide: the file change and its record together, one process at a time


async def test_a_global_hide_is_recorded_for_the_operator_only(store):
    record_id = await store.moderate_globally("hide", SPAN, reason="legal request", apply=lambda: True,
                                              user_name="operator")
    [record] = await store.moderation(OPERATOR)
    assert (record.id, record.action, record.guild_id, record.reason, record.user_name) == (
        record_id, "hide", None, "legal request", "operator")
    assert await store.moderation(A) == [] and await store.moderation(DMS) == []


async def test_a_global_hide_that_changes_nothing_or_fails_leaves_no_record(store):
    assert await store.moderate_globally("hide", SPAN, reason="again", apply=lambda: False) is None

    def broken() -> bool:
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        await store.moderate_globally("unhide", SPAN, reason="x", apply=broken)
    assert await store.moderation(OPERATOR) == []


async def test_global_hides_from_two_processes_take_turns(store, store_location):
    """Each apply reads a list, waits, and writes it back: without the lock, hides would be lost."""
    from bot.store import open_store

    hidden: list[int] = []

    def read_modify_write(n: int):
        def apply() -> bool:
            seen = list(hidden)
            time.sleep(0.02)
            hidden[:] = [*seen, n]
            return True
        return apply

    other = await open_store(store_location)  # another process's connection (its own pool)
    try:
        await asyncio.gather(*(
            (store if n % 2 else other).moderate_globally("hide", HiddenSpan("doc", n, n + 1), reason=f"r{n}",
                                                          apply=read_modify_write(n))
            for n in range(10)))
    finally:
        await other.close()
    assert sorted(hidden) == list(range(10))
    assert len(await store.moderation(OPERATOR)) == 10


# Per-server settings


async def test_a_servers_settings_are_its_own_and_come_back_as_saved(store):
    assert await store.guild_settings("111") == GuildSettings()
    saved = await store.save_guild_settings(A, GuildSettings(frozenset({555, "556"}), 30, 777, True),
                                            user_id=9, user_name="admin")
    assert saved == GuildSettings(frozenset({"555", "556"}), 30.0, "777", True)
    assert await store.guild_settings("111") == saved
    assert await store.guild_settings(222) == GuildSettings()
    changed = dataclasses.replace(saved, public_channels=frozenset(), mod_log_channel=None)
    await store.save_guild_settings(A, changed)
    assert await store.guild_settings("111") == changed


@pytest.mark.parametrize("settings, named", [
    (GuildSettings(cooldown_seconds=-1), "cooldown_seconds: -1"),
    (GuildSettings(cooldown_seconds=86400), "cooldown_seconds: 86400"),
    (GuildSettings(cooldown_seconds=float("nan")), "cooldown_seconds: nan"),
    (GuildSettings(public_channels=frozenset({"general"})), "public_channels: 'general'"),
    (GuildSettings(public_channels=frozenset(str(n) for n in range(1, 27))), "public_channels: 26"),
    (GuildSettings(mod_log_channel="-5"), "mod_log_channel: '-5'"),
    (GuildSettings(find_sources_public="yes"), "find_sources_public: 'yes'"),
])
async def test_a_setting_it_cannot_take_is_refused_by_name_and_nothing_changes(store, settings, named):
    await store.save_guild_settings(A, GuildSettings(cooldown_seconds=5))
    with pytest.raises(BadGuildSetting, match=re.escape(named)):
        await store.save_guild_settings(A, settings)
    assert await store.guild_settings("111") == GuildSettings(cooldown_seconds=5.0)


@pytest.mark.parametrize("scope", [OPERATOR, DMS])
async def test_settings_belong_to_a_server(store, scope):
    with pytest.raises(NeedsGuildScope):
        await store.save_guild_settings(scope, GuildSettings())


async def test_settings_survive_a_restart(store, store_location):
    from bot.store import open_store

    await store.save_guild_settings(A, GuildSettings(frozenset({"555"}), 12.5, "777", False))
    reopened = await open_store(store_location)
    try:
        assert await reopened.guild_settings("111") == GuildSettings(frozenset({"555"}), 12.5, "777", False)
    finally:
        await reopened.close()


# Members' data


async def a_members_trail(store) -> dict[str, int]:
    """Member 13 asks twice in A and once in B, votes and reports in A, hides as a moderator in A;
    member 14 runs "Find sources" on a message 13 wrote, and reports too."""
    ids = {
        "asked": await store.record_answer(answer("who jailed him?"), in_guild("111", "13")),
        "asked_again": await store.record_answer(answer("why revoked?", status=Status.UNCERTAIN,
                                                        reason="says nothing of why"), in_guild("111", "13")),
        "in_b": await store.record_answer(answer("asked in B"), in_guild("222", "13")),
        "their_message": await store.record_answer(
            answer("Amnesty called Navalny a racist!"),
            in_guild("111", "14", source="message", message_id="5551", message_author_id="13")),
        "other": await store.record_answer(answer("someone else's question"), in_guild("111", "14")),
    }
    await store.record_vote(A, ids["other"], kind="helpful", user_id="13", user_name="member13")
    await store.record_report(A, ids["other"], user_id="13", user_name="member13", reason="my own words here")
    await store.record_report(A, ids["asked"], user_id="14", user_name="member14", reason="wrong")
    await store.hide(A, SPAN, reason="legal", answer_id=ids["other"], user_id="13", user_name="member13")
    return ids


async def test_mydata_shows_a_member_what_is_kept_about_them_in_that_server(store):
    ids = await a_members_trail(store)
    data = await store.mydata(A, "13")
    assert [e.id for e in data.questions] == [ids["asked"], ids["asked_again"]]
    assert [e.id for e in data.from_their_messages] == [ids["their_message"]]
    assert [(f.answer_id, f.kind, f.reason) for f in data.feedback] == [
        (ids["other"], "helpful", None), (ids["other"], "report", "my own words here")]
    assert [(m.action, m.answer_id) for m in data.moderation] == [("hide", ids["other"])]
    assert [e.id for e in (await store.mydata(B, "13")).questions] == [ids["in_b"]]
    assert len((await store.mydata(OPERATOR, "13")).questions) == 3


async def test_forget_removes_a_members_questions_votes_and_reports_in_that_server_only(store):
    ids = await a_members_trail(store)
    forgotten = await store.forget(A, "13")
    assert forgotten == Forgotten(questions=3, feedback=2, moderation=2)

    exported = json.dumps(await store.export(A))
    for trace in ("who jailed him?", "why revoked?", "says nothing of why", "racist", "my own words here",
                  '"13"', "member13"):
        assert trace not in exported
    asked = await store.get(A, ids["asked"])
    assert (asked.question, asked.user_id, asked.quotes[0].text) == ("", None, BODY[slice(*FIRST)])
    assert asked.user_name.startswith("forgotten-")
    # Others' records stay: 14's report on 13's question, 14's "Find sources" (without 13's words).
    assert [(f.user_id, f.reason) for f in asked.feedback] == [("14", "wrong")]
    theirs = await store.get(A, ids["their_message"])
    # Their message's id went with its author (issue 21: an id with its channel and server links to it).
    assert (theirs.user_id, theirs.message_id, theirs.message_author_id, theirs.question) == ("14", None, None, "")
    [record] = await store.moderation(A)
    assert (record.user_id, record.user_name, record.answer_id) == (None, asked.user_name, ids["other"])
    assert (await store.guild_hides("111"))[0].user_name == asked.user_name
    # Server B was not asked to forget.
    assert (await store.get(B, ids["in_b"])).question == "asked in B"
    assert await store.mydata(A, "13") == MemberData("13", (), (), (), ())
    assert (await store.stats(A)).most_asked[0][0] != "who jailed him?"


async def test_retention_removes_every_members_older_questions_and_feedback(store, monkeypatch):
    from bot.store import values

    await a_members_trail(store)
    assert await store.delete_older_than(1) == Forgotten(0, 0, 0)  # all of it is from today
    later = datetime.now(timezone.utc) + timedelta(days=2)
    monkeypatch.setattr(values, "datetime", type("Later", (datetime,), {"now": staticmethod(lambda tz=None: later)}))
    forgotten = await store.delete_older_than(1)
    assert forgotten == Forgotten(questions=5, feedback=3, moderation=0)
    exported = await store.export(OPERATOR)
    assert {row["question"] for row in exported} == {""} and all(row["user_id"] is None for row in exported)
    assert all(row["feedback"] == [] and row["quotes"] for row in exported)
    assert len(await store.moderation(OPERATOR)) == 1
    with pytest.raises(ValueError, match="retention of 0 days"):
        await store.delete_older_than(0)


# Crashes and outages

KILLED = textwrap.dedent("""
    import asyncio, os, signal, sys
    from bot.audit_store import Asker
    from bot.store import open_store
    from retrieval.answer import Answer

    async def main():
        store = await open_store(sys.argv[1])
        audit_id = await store.record_answer(Answer("Was it kill -9 proof?", "bm25", (), "v1", None, 3.0),
                                             Asker(guild_id="111", user_id="5", source="slash"))
        print(audit_id, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # no close(), no flush: a shard killed mid-flight

    asyncio.run(main())
""")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
async def test_a_committed_answer_survives_its_process_being_killed(store, store_location):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    child = await asyncio.to_thread(subprocess.run, [sys.executable, "-c", KILLED, store_location], cwd=REPO, env=env,
                                    capture_output=True, text=True, timeout=60)
    assert child.returncode == -signal.SIGKILL, child.stderr
    entry = await store.get(A, int(child.stdout))
    assert (entry.question, entry.user_id, entry.source) == ("Was it kill -9 proof?", "5", "slash")


async def refuse_moderation_records(location: str) -> None:
    """From outside the store: every insert into the moderation table fails from now on."""
    if location.startswith("postgresql://"):
        import asyncpg

        db = await asyncpg.connect(location)
        try:
            await db.execute("""
                CREATE FUNCTION no_room() RETURNS trigger AS $$
                BEGIN RAISE EXCEPTION 'no room for moderation records'; END $$ LANGUAGE plpgsql;
                CREATE TRIGGER no_room BEFORE INSERT ON moderation FOR EACH ROW EXECUTE FUNCTION no_room();
            """)
        finally:
            await db.close()
    else:
        import sqlite3

        with contextlib.closing(sqlite3.connect(location)) as db, db:
            db.execute("CREATE TRIGGER no_room BEFORE INSERT ON moderation"
                       " BEGIN SELECT RAISE(ABORT, 'no room for moderation records'); END")


async def test_a_hide_whose_record_cannot_be_written_hides_nothing(store, store_location):
    await store.hide(A, SPAN, reason="first", answer_id=None, user_id=None, user_name="mod")
    await refuse_moderation_records(store_location)
    other = HiddenSpan("bbc-2021-01-17", *SECOND)
    with pytest.raises(AuditWriteFailed, match="no room for moderation records"):
        await store.hide(A, other, reason="second", answer_id=None, user_id=None, user_name="mod")
    with pytest.raises(AuditWriteFailed, match="no room for moderation records"):
        await store.unhide(A, SPAN, reason="cleared", answer_id=None, user_id=None, user_name="mod")
    assert await store.hidden_spans("111") == frozenset({SPAN})
