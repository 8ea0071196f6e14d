"""storybot on the command line, driven in-process as a user would type it."""
from __future__ import annotations

import io
import json

import pytest

from bot.cli import main

from conftest import CORPUS, DATA



def run(capsys, *argv, stdin: str | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_ask_prints_quotes_with_citations(workdir, capsys):
    code, out, err = run(capsys, "ask", "--no-audit", "who is leonid volkov")
    assert code == 0, err
    assert "Leonid Volkov" in out and "RFI" in out and "(mode: bm25)" in out


def test_ask_json_is_one_object_with_the_promised_keys(workdir, capsys):
    code, out, _ = run(capsys, "ask", "--json", "--no-audit", "mandela")
    data = json.loads(out)
    assert code == 0 and data["question"] == "mandela" and data["mode"] == "bm25" and not data["abstained"]
    assert all(set(p) >= {"quote", "doc_id", "title", "outlet", "published", "url", "kind", "start", "end", "score"} for p in data["passages"])


def test_ask_json_from_stdin_answers_one_line_each(workdir, capsys, monkeypatch):
    code, out, _ = run(capsys, "ask", "--json", "--no-audit", "-", stdin="mandela\n\nwho won the boxing\n", monkeypatch=monkeypatch)
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [(l["question"], l["abstained"]) for l in lines] == [("mandela", False), ("who won the boxing", True)]


@pytest.mark.parametrize(("question", "message"), [("", "the question is empty"), ("   ", "the question is empty"), ("x" * 1001, "limit is 1,000")])
def test_a_bad_question_exits_2_with_a_message_and_no_traceback(workdir, capsys, question, message):
    code, out, err = run(capsys, "ask", question)
    assert code == 2 and message in err and "Traceback" not in err and out == ""


def test_a_malformed_article_is_a_message_not_a_traceback(workdir, capsys):
    (workdir / "corpus" / "broken.md").write_text("---\nid: [\n---\nbody\n", encoding="utf-8")
    code, _, err = run(capsys, "ask", "--no-audit", "mandela")
    assert code == 1 and "broken.md" in err and "Traceback" not in err


def test_a_copy_of_the_corpus_is_read_and_written_only_there(workdir, capsys, monkeypatch):
    monkeypatch.setenv("STORYBOT_MODEL", "")  # the real model, so the embedding cache is written
    before = {p for p in CORPUS.rglob("*")}
    code, _, err = run(capsys, "ask", "--no-audit", "mandela")
    assert code == 0, err
    assert list((workdir / "corpus" / ".cache" / "embeddings").glob("*.npz"))
    assert {p for p in CORPUS.rglob("*") if ".cache" not in p.parts} == {p for p in before if ".cache" not in p.parts}


def test_eval_reports_the_metrics(workdir, capsys):
    code, out, _ = run(capsys, "eval", str(DATA / "dev.jsonl"))
    assert code == 0
    for metric in ("hit@1", "hit@3", "MRR", "status, answerable:", "status, story_unanswered:", "holding a gold phrase",
                   "rules fired:", "latency mean", "verified verbatim", "contiguous in their raw file"):
        assert metric in out


def test_eval_compares_fusions_and_refuses_an_unknown_one(workdir, capsys, monkeypatch):
    monkeypatch.setenv("STORYBOT_MODEL", "")
    code, out, _ = run(capsys, "eval", str(DATA / "holdout.jsonl"), "--fusion", "rrf")
    assert code == 0 and "fusion rrf" in out
    with pytest.raises(SystemExit) as exit_:
        main(["eval", str(DATA / "holdout.jsonl"), "--fusion", "average"])
    assert exit_.value.code == 2 and "invalid choice: 'average' (choose from 'blend', 'rrf', 'dense')" in capsys.readouterr().err


def test_run_without_a_token_names_the_setting_and_the_example(workdir, capsys):
    code, _, err = run(capsys, "run")
    assert code == 2 and "DISCORD_TOKEN" in err and ".env.example" in err


def test_the_repl_answers_lists_sources_toggles_json_and_leaves_on_ctrl_d(workdir, capsys, monkeypatch):
    lines = iter(["mandela", ":sources", ":json", "leonid volkov", ":help"])

    def fake_input(prompt):
        try:
            return next(lines)
        except StopIteration:
            raise EOFError

    monkeypatch.setattr("builtins.input", fake_input)
    code, out, _ = run(capsys, "repl", "--no-audit")
    assert code == 0
    assert "Mandela" in out and "lbc-2021-02-25: LBC" in out and "JSON output on" in out
    assert any(line.startswith("{") and json.loads(line)["question"] == "leonid volkov" for line in out.splitlines())


def test_ask_and_repl_record_to_the_audit_log_unless_told_not_to(workdir, capsys):
    assert run(capsys, "ask", "--no-audit", "mandela")[0] == 0
    assert not (workdir / "storybot.db").exists()
    assert run(capsys, "ask", "mandela")[0] == 0
    assert run(capsys, "ask", "who won the boxing")[0] == 0
    code, out, _ = run(capsys, "audit", "list")
    assert code == 0 and "#2" in out and "in cli" in out and "no answer" in out


def test_audit_views_from_the_command_line(workdir, capsys):
    run(capsys, "ask", "leonid volkov")
    code, out, _ = run(capsys, "audit", "show", "1")
    assert code == 0 and "question: leonid volkov" in out and "rfi-2021-02-24[" in out
    assert "questions: 1" in run(capsys, "audit", "stats")[1]
    assert "No reports." in run(capsys, "audit", "reported")[1]
    assert "still verbatim" in run(capsys, "audit", "verify", "1")[1]
    [row] = [json.loads(line) for line in run(capsys, "audit", "export", "--format", "jsonl")[1].splitlines()]
    assert row["question"] == "leonid volkov" and row["channel_id"] == "cli" and row["quotes"]
    header, line = run(capsys, "audit", "export", "--format", "csv")[1].splitlines()[:2]
    assert header.startswith("id,created_at") and "leonid volkov" in line


def test_verify_fails_when_a_quoted_article_changed(workdir, capsys):
    run(capsys, "ask", "leonid volkov")
    path = workdir / "corpus" / "rfi-2021-02-24.md"
    path.write_text(path.read_text(encoding="utf-8").replace("Leonid Volkov", "L. Volkov"), encoding="utf-8")
    code, out, _ = run(capsys, "audit", "verify", "1")
    assert code == 1 and "CHANGED" in out


def test_audit_views_do_not_create_a_missing_log(workdir, capsys):
    code, _, err = run(capsys, "audit", "list")
    assert code == 1 and "no audit log" in err and not (workdir / "storybot.db").exists()


def test_an_unusable_audit_log_warns_and_still_answers(workdir, capsys, monkeypatch):
    (workdir / "afile").write_text("x")
    monkeypatch.setenv("STORYBOT_DB", str(workdir / "afile" / "audit.db"))
    code, out, err = run(capsys, "ask", "mandela")
    assert code == 0 and "Mandela" in out and "will not be recorded" in err


def test_timeline_lists_the_articles_by_date_with_first_sentences(workdir, capsys):
    code, out, _ = run(capsys, "timeline")
    assert code == 0
    assert out.index("2021-02-24") < out.index("2021-05-07")
    assert "“Amnesty International has re-designated jailed Kremlin critic" in out


def test_hide_and_unhide_from_the_command_line(workdir, capsys):
    code, out, _ = run(capsys, "ask", "--json", "who is leonid volkov")
    quote = json.loads(out)["passages"][0]
    span = [quote["doc_id"], str(quote["start"]), str(quote["end"])]
    code, out, err = run(capsys, "corpus", "hide", *span, "--reason", "legal request")
    assert code == 0 and "is now hidden" in out, err
    again = json.loads(run(capsys, "ask", "--json", "who is leonid volkov")[1])
    assert all(not (p["doc_id"] == quote["doc_id"] and p["start"] < quote["end"] and quote["start"] < p["end"]) for p in again["passages"])
    assert run(capsys, "corpus", "unhide", *span, "--reason", "cleared")[0] == 0
    assert json.loads(run(capsys, "ask", "--json", "who is leonid volkov")[1])["passages"][0]["start"] == quote["start"]
    import sqlite3

    with sqlite3.connect(workdir / "storybot.db") as db:
        rows = db.execute("SELECT action, doc_id, reason FROM moderation ORDER BY id").fetchall()
    assert rows == [("hide", quote["doc_id"], "legal request"), ("unhide", quote["doc_id"], "cleared")]


@pytest.mark.parametrize(("span", "problem"), [(["nope", "0", "5"], "no such article"), (["rfi-2021-02-24", "5", "999999"], "not inside")])
def test_hiding_a_span_that_is_not_there_is_refused(workdir, capsys, span, problem):
    code, _, err = run(capsys, "corpus", "hide", *span, "--reason", "x")
    assert code == 1 and problem in err and not (workdir / "corpus" / "hidden.yaml").exists()


def test_ask_json_shows_a_direction_override_as_an_escape_and_keeps_the_question(workdir, capsys):
    question = "who is julie \u202everhaar\u202c\u0085"
    code, out, _ = run(capsys, "ask", "--json", "--no-audit", question)
    assert code == 0 and "\u202e" not in out and "\u0085" not in out and "\\u202e" in out
    assert json.loads(out)["question"] == question.strip()
