"""AnswerService: one server's hidden spans change that server's answers only, cache and batches included."""
from __future__ import annotations

import asyncio

import pytest

from retrieval.index import HiddenSpan

from bot.service import AnswerService

QUESTION = "why was the prisoner of conscience status withdrawn?"


def spans(result):
    return [(q.doc_id, q.start, q.end) for q in result.passages]


@pytest.mark.asyncio
async def test_excluded_spans_are_never_quoted_and_have_their_own_cache_entry(bm25_index):
    service = AnswerService(bm25_index)
    try:
        plain = await service.ask(QUESTION)
        doc, start, end = spans(plain)[0]
        hidden = frozenset({HiddenSpan(doc, start, end)})
        excluded = await service.ask(QUESTION, hidden)
        assert excluded.passages and all(not (d == doc and s < end and start < e) for d, s, e in spans(excluded))
        batches = service.batches
        assert spans(await service.ask(QUESTION)) == spans(plain)  # from the cache, unchanged
        assert spans(await service.ask(QUESTION, hidden)) == spans(excluded)
        assert service.batches == batches
    finally:
        await service.close()


@pytest.mark.asyncio
async def test_a_burst_is_batched_by_excluded_spans(bm25_index):
    service = AnswerService(bm25_index)
    try:
        plain = await service.ask("a first question to start the worker")
        first = await service.ask(QUESTION)
        hidden = frozenset({HiddenSpan(*spans(first)[0])})
        service._cache.clear()
        before = service.batches
        questions = ["mandela", "when was it restored", "leonid volkov", QUESTION]
        results = await asyncio.gather(*(service.ask(q, hidden if n % 2 else frozenset())
                                         for n in range(8) for q in questions))
        assert service.batches - before == 2  # one forward pass per set of excluded spans
        assert spans(results[3]) == spans(first) and spans(results[7]) != spans(first)
        assert plain.question.startswith("a first")
    finally:
        await service.close()
