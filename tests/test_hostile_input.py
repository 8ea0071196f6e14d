"""A hostile member or a careless operator at the edges: what moderators see is inert, inputs
have limits enforced before heavy work, odd bytes never cost an answer or a record (issue 13,
cases 6, 7, 8 and 9)."""
from __future__ import annotations

import csv
import io
import json
import re
import time

import pytest

from retrieval import answer as answer_module
from retrieval.answer import Answer, Quote, answer
from retrieval.articles import load_corpus
from retrieval.errors import BadQuestion
from retrieval.ingest import add_article
from retrieval.raw_sources import IngestError, read_source
from retrieval.limits import MAX_ERROR_CHARS, MAX_INPUT_LINE_BYTES, MAX_QUESTION_WORDS
from retrieval.question_text import normalise_question

from bot.cli import main
from bot.discord.embeds import answer_embed, source_line
from conftest import CORPUS

LBC = "lbc-2021-02-25"


def run(capsys, *argv, stdin: bytes | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# --- case 6: nothing shown to a moderator is a formula, an escape sequence or a stray link --


def test_a_csv_export_never_holds_a_live_formula(workdir, capsys):
    for question in ('=HYPERLINK("http://evil.example","status")', "+cmd status", "-2+3 status", "@SUM(A1) status"):
        assert run(capsys, "ask", question)[0] == 0
    code, out, _ = run(capsys, "audit", "export", "--format", "csv")
    assert code == 0
    questions = [row["question"] for row in csv.DictReader(io.StringIO(out))]
    assert sorted(questions) == sorted(["'=HYPERLINK(\"http://evil.example\",\"status\")", "'+cmd status", "'-2+3 status", "'@SUM(A1) status"])


def test_terminal_views_of_the_audit_log_carry_no_escape_sequence(workdir, capsys):
    hostile = "why \x1b]0;pwned\x07was the \x1b[2Jstatus \u202erevoked\u202c?"
    assert run(capsys, "ask", hostile)[0] == 0
    for view in (["audit", "list"], ["audit", "show", "1"], ["audit", "stats"]):
        code, out, _ = run(capsys, *view)
        assert code == 0 and "\x1b" not in out and "\x07" not in out and "\u202e" not in out, view
        assert "\\x1b]0;pwned" in out or view == ["audit", "stats"] or "\\x1b" in out  # shown, not acted on


def test_corpus_list_and_show_print_a_saved_pages_escape_sequences_inert(workdir, capsys):
    article = workdir / "corpus" / f"{LBC}.md"
    text = article.read_text(encoding="utf-8")
    article.write_text(re.sub(r"(?m)^title: .*$", lambda _: 'title: "\\e]0;pwned\\a Amnesty strips the status"', text, count=1),
                       encoding="utf-8")
    for command in (["corpus", "list"], ["corpus", "show", LBC]):
        code, out, _ = run(capsys, *command)
        assert code == 0 and "\x1b" not in out and "\\x1b]0;pwned" in out, command


def test_a_source_link_with_brackets_in_its_address_stays_one_link_to_that_address():
    url = "https://news.example/a) [Official Amnesty statement](https://phish.example/login"
    quote = Quote("A quote.", "doc", "Title ] [x](https://phish.example)", "[Outlet](https://phish.example)", "2021-02-24", url, "news", 0, 8, 0.5)
    line = source_line(1, quote)
    # One masked link, and its target is the article's own address, percent-encoded.
    unescaped = line.replace("\\[", "").replace("\\]", "")
    assert unescaped.count("](") == 1  # one masked link; every other bracket is escaped
    target = unescaped.split("](", 1)[1]
    assert target.startswith("https://news.example/a%29%20%5BOfficial%20Amnesty%20statement%5D%28https://phish.example/login)")
    embed = answer_embed(Answer("q", "bm25", (quote,), "v", None, 1.0))
    assert embed.fields[0].value == line


@pytest.mark.parametrize("url", ["javascript:alert(1)", "file:///etc/passwd", "not a url"])
def test_only_web_addresses_become_links(url):
    quote = Quote("A quote.", "doc", "Title", "Outlet", "2021-02-24", url, "news", 0, 8, 0.5)
    assert "](" not in source_line(1, quote)


# --- case 7: limits, enforced before the work they bound ------------------------------------


def big_article(size: int) -> str:
    paragraphs, n = [], 0
    while sum(len(p) + 2 for p in paragraphs) < size:
        paragraphs.append(f"Paragraph {n} says the review number {n} of case {n * 7} was read by panel {n % 13}. "
                          f"It ended on day {n * 3} with finding {n * 11} about the label of witness {n}.")
        n += 1
    return "A very long report\n\n" + "\n\n".join(paragraphs) + "\n"


def test_a_one_megabyte_article_is_added_in_under_ten_seconds(workdir, tmp_path):
    page = tmp_path / "big.txt"
    page.write_text(big_article(1_000_000), encoding="utf-8")
    started = time.perf_counter()
    result = add_article(workdir / "corpus", read_source(page), outlet="Test", published="2021-03-01")
    elapsed = time.perf_counter() - started
    assert len(result.article.body) > 900_000 and elapsed < 10, elapsed


def test_an_article_over_the_size_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr("retrieval.raw_sources.MAX_ARTICLE_BYTES", 1000)
    page = tmp_path / "big.txt"
    page.write_text(big_article(5000), encoding="utf-8")
    with pytest.raises(IngestError, match="an article may have 1,000"):
        read_source(page)


def test_a_page_of_a_million_elements_is_refused_quickly(workdir, tmp_path):
    page = tmp_path / "flood.html"
    page.write_text("<html><body>" + "<p>x" * 1_000_000 + "</body></html>", encoding="utf-8")  # 4 MB: under the size limit
    started = time.perf_counter()
    with pytest.raises(IngestError, match="HTML elements; a page may have"):
        add_article(workdir / "corpus", read_source(page))
    assert time.perf_counter() - started < 5


def test_a_hard_wrapped_megabyte_with_no_blank_line_is_refused_with_a_reason(workdir, tmp_path):
    words = " ".join(f"word{n}" for n in range(150_000)) + "."
    page = tmp_path / "wrapped.txt"
    page.write_text("A wrapped report\n\n" + "\n".join(words[i : i + 70] for i in range(0, len(words), 70)) + "\n", encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(IngestError, match="a paragraph may have"):
        add_article(workdir / "corpus", read_source(page), outlet="Test", published="2021-03-01")
    assert time.perf_counter() - started < 10


def test_a_long_question_of_the_storys_words_is_refused_before_any_search(bm25_index):
    story_words = re.findall(r"[A-Za-z]+", load_corpus(CORPUS).article(LBC).body)
    question = " ".join(story_words)[:1000]
    started = time.perf_counter()
    with pytest.raises(BadQuestion, match=f"the limit is {MAX_QUESTION_WORDS}"):
        answer(bm25_index, question)
    assert time.perf_counter() - started < 0.05


def test_an_overlong_stdin_line_is_refused_and_the_next_line_answered(workdir, capsys, monkeypatch):
    stdin = b"why " * (MAX_INPUT_LINE_BYTES // 2) + b"\nmandela\n"
    code, out, _ = run(capsys, "ask", "--json", "--no-audit", "-", stdin=stdin, monkeypatch=monkeypatch)
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 2 and "the limit is 16,384" in lines[0]["error"] and len(lines[0]["question"]) <= 200
    assert lines[1]["question"] == "mandela" and lines[1]["passages"]


def test_a_huge_bad_thesaurus_line_gives_a_short_message(workdir, capsys):
    (workdir / "corpus" / "thesaurus.txt").write_text("status, " + "x" * 100_000 + "\n", encoding="utf-8")
    code, _, err = run(capsys, "ask", "--no-audit", "why")
    assert code == 1 and "thesaurus.txt, line 1" in err and len(err) < MAX_ERROR_CHARS
    code, out, _ = run(capsys, "corpus", "check")
    assert code == 1 and len(out) < MAX_ERROR_CHARS


# --- case 8: odd bytes and closed streams ----------------------------------------------------


def test_invalid_utf8_in_a_question_is_answered_and_recorded_and_later_lines_still_read(workdir, capsys, monkeypatch):
    code, out, err = run(capsys, "ask", "--json", "-", stdin=b"why \xff was the status revoked\nmandela\n", monkeypatch=monkeypatch)
    answers = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [a["question"] for a in answers] == ["why \ufffd was the status revoked", "mandela"], err
    assert "LOST" not in err
    code, out, _ = run(capsys, "audit", "list")
    assert "#2" in out and "\ufffd" in out


def test_a_lone_surrogate_in_a_question_is_answered_with_the_text_made_valid(bm25_index):
    result = answer(bm25_index, "why was the status \udcff revoked")
    assert result.question == "why was the status \ufffd revoked"
    result.question.encode("utf-8")  # storable


def test_ask_with_standard_output_closed_says_so(workdir, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdout", None)
    code = main(["ask", "--no-audit", "why"])
    assert code == 2 and "standard output is closed" in capsys.readouterr().err


def test_ask_from_a_closed_standard_input_says_so(workdir, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", None)
    code = main(["ask", "--no-audit", "-"])
    assert code == 2 and "standard input is closed" in capsys.readouterr().err


# --- case 9: invisible characters, near-duplicates -------------------------------------------


@pytest.mark.parametrize("invisible", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"])
def test_a_zero_width_character_inside_a_word_is_removed_not_a_word_break(bm25_index, invisible):
    assert normalise_question(f"why was the st{invisible}atus revoked") == "why was the status revoked"
    assert answer(bm25_index, f"why was the st{invisible}atus revoked").passages == answer(bm25_index, "why was the status revoked").passages


@pytest.mark.parametrize("isolate", ["\u2066", "\u2067", "\u2068", "\u2069"])
def test_bidirectional_isolates_are_stripped(isolate):
    # As searched (and as the bot's answer cache keys it), the question has none of them.
    assert answer_module.normalise_question(f"{isolate}why{isolate} was it revoked{isolate}") == "why was it revoked"


def seed_copy(change) -> str:
    article = load_corpus(CORPUS).article(LBC)
    return "A copied headline\n\n" + "\n\n".join(change(p) for p in article.paragraphs) + "\n"


@pytest.mark.parametrize("how", ["zero-width character", "one changed word"])
def test_a_near_duplicate_of_an_article_is_refused(workdir, tmp_path, how):
    def change(paragraph: str) -> str:
        words = paragraph.split(" ")
        if how == "zero-width character":
            words[len(words) // 2] = words[len(words) // 2][:1] + "\u200b" + words[len(words) // 2][1:]
        else:
            words[len(words) // 2] = "changed"
        return " ".join(words)

    page = tmp_path / "copy.txt"
    page.write_text(seed_copy(change), encoding="utf-8")
    with pytest.raises(IngestError, match=f"duplicate of article {LBC}"):
        add_article(workdir / "corpus", read_source(page), outlet="Copycat", published="2021-02-26")
