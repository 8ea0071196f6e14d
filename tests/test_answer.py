"""answer(): verbatim quotes with citations, or a plain abstention."""
from __future__ import annotations

import json
import logging

import pytest

from retrieval.answer import MAX_QUESTION_CHARS, NO_ANSWER, answer
from retrieval.articles import Article, load_corpus
from retrieval.errors import BadQuestion
from retrieval.evaluation import contiguous_in_raw, is_verbatim, load_questions
from retrieval.index import build_index

from bot.engine import load_model
from conftest import CORPUS, DATA, write_corpus

SETS = sorted(DATA.glob("*.jsonl"))  # every set, the ones added later too
ALL_QUESTIONS = [q.question for path in SETS for q in load_questions(path)]


@pytest.mark.parametrize("mode", ["hybrid", "bm25"])
def test_every_quote_of_every_answer_is_verbatim_and_one_stretch_of_its_raw_file(mode, hybrid_answers, bm25_index, corpus):
    """The product's promise: every quote is body[start:end] of its curated article, and one
    contiguous stretch of the raw file as received (whitespace aside), never joined across a
    caption or heading that cleaning dropped. Runs every question of tests/data in both modes."""
    ask = hybrid_answers if mode == "hybrid" else (lambda q: answer(bm25_index, q))
    raw = {a.id: (CORPUS / a.raw).read_text(encoding="utf-8") for a in corpus.articles}
    quoted = 0
    for question in ALL_QUESTIONS:
        result = ask(question)
        assert result.mode == mode
        for quote in result.passages:
            assert is_verbatim(corpus, quote.doc_id, quote.start, quote.end, quote.quote), (question, quote)
            assert contiguous_in_raw(raw[quote.doc_id], quote.quote), (question, quote.quote)
            quoted += 1
    assert quoted > len(ALL_QUESTIONS) // 2  # most questions get passages, so the check really ran


def test_a_quote_never_joins_paragraphs_the_raw_page_kept_apart(hybrid_index, corpus):
    """RFI's raw page has a heading between "...in favor of the Russian opponent." and
    "Despite these statements...": no passage holds both."""
    rfi = corpus.article("rfi-2021-02-24")
    raw = (CORPUS / rfi.raw).read_text(encoding="utf-8")
    joined = [p for p in hybrid_index.passages if p.doc_id == rfi.id and "\n\n" in p.text]
    assert joined == []
    assert all(contiguous_in_raw(raw, p.text) for p in hybrid_index.passages if p.doc_id == rfi.id)


def test_an_answer_carries_one_to_three_cited_quotes_best_first(hybrid_index):
    result = answer(hybrid_index, "Why was Mandela's prisoner of conscience status withdrawn?")
    assert not result.abstained and 1 <= len(result.passages) <= 3
    assert any("Mandela" in q.quote for q in result.passages)
    assert [q.score for q in result.passages][0] == max(q.score for q in result.passages)
    rfi = next(q for q in result.passages if q.doc_id == "rfi-2021-02-24")
    assert (rfi.outlet, rfi.published, rfi.kind) == ("RFI", "2021-02-24", "news")


def test_quotes_never_overlap_or_repeat_a_sentence(hybrid_answers):
    for question in ALL_QUESTIONS[:40]:
        quotes = hybrid_answers(question).passages
        for i, a in enumerate(quotes):
            for b in quotes[i + 1 :]:
                assert not (a.doc_id == b.doc_id and a.start < b.end and b.start < a.end), question
                assert a.quote != b.quote


@pytest.mark.parametrize(
    "question",
    [
        "who won mike tyson vs jake paul",
        "is it going to snow in the uk this week",
        "how many missiles did russia fire at ukraine",
        "who did trump pick for energy secretary",
        "what is the capital of australia",
        "how do i make sourdough bread",
    ],
)
@pytest.mark.parametrize("mode", ["hybrid", "bm25"])
def test_questions_the_articles_do_not_cover_get_no_quotes(question, mode, hybrid_index, bm25_index):
    result = answer(hybrid_index if mode == "hybrid" else bm25_index, question)
    assert result.abstained and result.passages == () and result.message == NO_ANSWER
    assert result.status.value == "not_covered" and result.reason == NO_ANSWER


@pytest.mark.parametrize(
    ("question", "problem"),
    [("", "empty"), ("   \t\n ", "empty"), ("\x00\x01", "empty"), ("x" * (MAX_QUESTION_CHARS + 1), "limit is 1,000")],
)
def test_empty_and_enormous_questions_are_refused(question, problem, bm25_index):
    with pytest.raises(BadQuestion, match=problem):
        answer(bm25_index, question)


@pytest.mark.parametrize("question", ["🤔🤔 navalny?", "Навальный узник совести", "navalny\x07\x1b[31m status", "نافالني", "‮mandela"])
def test_emoji_other_scripts_and_control_characters_do_not_crash(question, hybrid_index):
    result = answer(hybrid_index, question)
    json.dumps(result.to_json())


def test_the_same_sentence_carried_by_two_outlets_is_quoted_once(tmp_path, tiny_articles):
    # A third article, so the shared sentence's words are not in half the passages (where
    # BM25's IDF is zero).
    other = Article(id="post-2021-03-01", title="Weather", body="Snow and ice are expected across the north this week.\n\nTrains may be late on Monday morning, the operators warned.")
    index = build_index(load_corpus(write_corpus(tmp_path / "c", *tiny_articles, other)), encoder=None)
    quotes = answer(index, "did the remarks meet the level of hate speech").passages
    assert sum("met the level of hate speech" in q.quote for q in quotes) == 1


def test_json_has_the_promised_shape(hybrid_index):
    data = answer(hybrid_index, "who is julie verhaar").to_json()
    assert {"question", "abstained", "mode", "passages"} <= set(data)
    assert set(data["passages"][0]) >= {"quote", "doc_id", "title", "outlet", "published", "url", "kind", "start", "end", "score"}
    assert isinstance(data["passages"][0]["score"], float) and data["mode"] == "hybrid"


@pytest.mark.parametrize("name", ["none", "NONE", "/no/such/model/folder"])
def test_without_a_model_answers_come_from_bm25_with_one_warning(name, corpus, caplog):
    with caplog.at_level(logging.WARNING):
        encoder = load_model(name)
    assert encoder is None
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1
    assert "BM25" in caplog.text
    result = answer(build_index(corpus, encoder=encoder), "leonid volkov")
    assert result.mode == "bm25" and any("Volkov" in q.quote for q in result.passages)


@pytest.mark.parametrize("name", SETS)
def test_every_gold_phrase_of_the_question_sets_is_in_an_article(name, corpus):
    """A gold phrase no article holds would make its question unanswerable without a word."""
    bodies = [article.body for article in corpus.articles]
    missing = [(q.id, g) for q in load_questions(DATA / name) for g in q.gold if not any(g in body for body in bodies)]
    assert missing == []


def test_a_quote_below_the_bar_is_passed_over_and_a_later_one_above_it_still_shown():
    from retrieval.chunking import Passage
    from retrieval.quotes import Candidate, choose_quotes

    def candidate(n: int, text: str, score: float) -> Candidate:
        return Candidate(n, Passage(f"doc{n}", 0, len(text), text, 1), score, 0.0)

    shown = choose_quotes([candidate(0, "Amnesty withdrew the status in February.", 0.9),
                           candidate(1, "Navalny returned to Moscow in January.", 0.1),
                           candidate(2, "The designation was restored in May.", 0.6)], max_quotes=3, min_score=0.3)
    assert [c.index for c in shown] == [0, 2]
