"""`storybot audit label|labels|unlabel` on a real SQLite file, and `storybot precedents promote`:
a label promoted changes every server's answers, through corpus/promoted.jsonl."""
from __future__ import annotations

import asyncio
import dataclasses
import json

from bot.audit_store import Scope
from bot.cli import main
from bot.store import open_store
from retrieval.answer import Status, answer
from retrieval.articles import load_corpus
from retrieval.lessons import NO_LESSONS
from retrieval.checks import PROMOTED_UNANSWERED
from retrieval.promoted import PROMOTED_FILE, load_promoted
from conftest import CORPUS
from retrieval.bank import load_bank
from store_backends import in_guild

RESTORED = "when was the status restored"
RESTORED_AGAIN = "when did amnesty give the status back"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def record(location, *answers_in):
    store = await open_store(location)
    try:
        return [await store.record_answer(result, in_guild(guild)) for result, guild in answers_in]
    finally:
        await store.close()


async def labels(location, scope=Scope.operator()):
    store = await open_store(location)
    try:
        return await store.labels(scope)
    finally:
        await store.close()


def test_a_label_is_given_listed_and_undone_from_the_command_line(workdir, hybrid_index, capsys, monkeypatch):
    db = str(workdir / "audit.db")
    monkeypatch.setenv("STORYBOT_DB", db)
    ours, theirs = asyncio.run(record(db, (answer(hybrid_index, RESTORED), "111"), (answer(hybrid_index, RESTORED), "222")))

    code, out, _ = run(capsys, "audit", "label", str(ours), "wrong", "--quote", "1", "--note", "the date of the review")
    assert code == 0 and "label 1: answer #1 in server 111: wrong passage (quote 1)" in out
    # Seen as server 222's moderators would see it: not there.
    assert "No labels yet." in run(capsys, "audit", "labels", "--guild", "222")[1]
    assert "wrong passage" in run(capsys, "audit", "labels", "--guild", "111")[1]

    # Bad input: a clear message, exit 1, nothing changed.
    for argv, words in [(("audit", "label", str(ours), "right"), "needs the number of the quote"),
                        (("audit", "label", str(ours), "none", "--quote", "2"), "give no quote number"),
                        (("audit", "label", str(ours), "right", "--quote", "9"), "no quote 9"),
                        (("audit", "label", "999", "none"), "no audit entry with id 999"),
                        (("audit", "label", str(theirs), "none", "--guild", "111"), f"no audit entry with id {theirs}"),
                        (("audit", "unlabel", "1", "--guild", "222"), "no label with id 1")]:
        code, out, err = run(capsys, *argv)
        assert code == 1 and words in err, (argv, err)
    [label] = asyncio.run(labels(db))
    assert (label.verdict, label.quote_rank, label.note) == ("wrong", 1, "the date of the review")

    code, out, _ = run(capsys, "audit", "unlabel", "1")
    assert code == 0 and out.startswith("removed: label 1")
    assert asyncio.run(labels(db)) == []


def test_a_promoted_label_changes_every_servers_answers_and_a_retired_one_stops(workdir, hybrid_index, capsys,
                                                                                 monkeypatch):
    db = str(workdir / "audit.db")
    monkeypatch.setenv("STORYBOT_DB", db)
    [ours] = asyncio.run(record(db, (answer(hybrid_index, RESTORED), "111")))
    assert run(capsys, "audit", "label", str(ours), "none")[0] == 0
    corpus = workdir / "corpus"
    before = load_corpus(corpus).version

    code, out, _ = run(capsys, "precedents", "promote", "1")
    assert code == 0 and "promoted label:111:1: not in the articles" in out
    [row] = [json.loads(line) for line in (corpus / PROMOTED_FILE).read_text().splitlines()]
    assert (row["question"], row["verdict"], row["name"]) == (RESTORED, "none", "label:111:1")
    assert load_corpus(corpus).version != before  # a running bot reloads
    # The fitted bank is untouched, so it still matches its scorer (retrieval/bank.py's check).
    assert (corpus / "precedents.jsonl").read_bytes() == (CORPUS / "precedents.jsonl").read_bytes()
    load_bank(corpus)

    everywhere = dataclasses.replace(hybrid_index, promoted=load_promoted(corpus))
    for question in (RESTORED, RESTORED_AGAIN):  # any server, with no labels of its own
        assert answer(hybrid_index, question).status is Status.ANSWERED
        promoted = answer(everywhere, question, lessons=NO_LESSONS)
        assert promoted.status is Status.UNCERTAIN and promoted.reason == PROMOTED_UNANSWERED  # not "this server's"
    assert "label:111:1" in run(capsys, "precedents", "list")[1]

    assert run(capsys, "precedents", "retire", "label:111:7")[0] == 1  # never promoted: nothing changes
    assert len(load_promoted(corpus).items) == 1
    assert run(capsys, "precedents", "retire", "label:111:1")[0] == 0
    assert load_promoted(corpus) == NO_LESSONS
    assert "No labels promoted yet" in run(capsys, "precedents", "list")[1]


def test_a_label_whose_question_was_forgotten_is_not_promoted(workdir, hybrid_index, capsys, monkeypatch):
    db = str(workdir / "audit.db")
    monkeypatch.setenv("STORYBOT_DB", db)
    [ours] = asyncio.run(record(db, (answer(hybrid_index, RESTORED), "111")))
    assert run(capsys, "audit", "label", str(ours), "none")[0] == 0
    assert run(capsys, "audit", "forget", "333")[0] == 0
    code, _, err = run(capsys, "precedents", "promote", "1")
    assert code == 1 and "was removed" in err
    assert not (workdir / "corpus" / PROMOTED_FILE).exists()


def test_ask_as_a_server_quotes_nothing_it_hides_and_reads_its_labels_not_another_servers(workdir, hybrid_index, capsys,
                                                                                        monkeypatch):
    from bot.cli.server_view import server_view
    from retrieval.index import HiddenSpan

    db = str(workdir / "audit.db")
    monkeypatch.setenv("STORYBOT_DB", db)
    assert run(capsys, "ask", "--guild", "111", RESTORED)[0] == 2  # no audit log yet: said, and none is made
    assert not (workdir / "audit.db").exists()

    def asked(*guild):
        code, out, err = run(capsys, "ask", "--json", "--no-audit", *guild, RESTORED)
        assert code == 0, err
        return json.loads(out)

    first = asked()["passages"][0]
    [ours] = asyncio.run(record(db, (answer(hybrid_index, RESTORED), "111")))
    assert run(capsys, "audit", "label", str(ours), "none")[0] == 0

    async def hide_for(guild):
        store = await open_store(db)
        try:
            await store.hide(Scope.guild(guild), HiddenSpan(first["doc_id"], first["start"], first["end"]), reason="test")
        finally:
            await store.close()

    asyncio.run(hide_for("222"))
    spans = lambda result: [(p["doc_id"], p["start"], p["end"]) for p in result["passages"]]
    hidden = (first["doc_id"], first["start"], first["end"])
    assert hidden not in spans(asked("--guild", "222"))  # this workdir answers from BM25 (STORYBOT_MODEL=none)
    assert hidden in spans(asked("--guild", "111")) and hidden in spans(asked())

    # Server 111's label teaches its answers (the model reads labels), and server 222's none.
    hides, lessons = asyncio.run(server_view(db, "111"))
    assert hides == frozenset() and answer(hybrid_index, RESTORED, lessons=lessons).status is Status.UNCERTAIN
    hides, lessons = asyncio.run(server_view(db, "222"))
    assert len(hides) == 1 and answer(hybrid_index, RESTORED, lessons=lessons).status is Status.ANSWERED
