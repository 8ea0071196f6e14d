"""A running bot's index: swapped whole when the corpus changes, never failing a question."""
from __future__ import annotations

import asyncio
import logging

import pytest

from retrieval.articles import Article, load_corpus

from bot import engine
from bot.live import Reloader
from bot.service import AnswerService
from bot.settings import from_env
from conftest import write_corpus

NEW = Article(id="courier-2021-06-03", title="Amnesty publishes its review", outlet="The Courier", published="2021-06-03",
              body="Amnesty published the Kestrel Review of its prisoner of conscience policy on 3 June 2021.")


@pytest.fixture
def live(tmp_path, tiny_articles):
    write_corpus(tmp_path / "corpus", *tiny_articles)
    settings = from_env({"STORYBOT_MODEL": "none"}, tmp_path)
    return settings, AnswerService(engine.build(settings, None))


@pytest.mark.asyncio
async def test_the_watcher_picks_up_a_new_article_by_itself(live):
    settings, service = live
    reloader = Reloader(settings, service)
    watcher = asyncio.create_task(reloader.watch(interval=0.05))
    try:
        write_corpus(settings.corpus, NEW)
        for _ in range(100):
            if any(a.id == NEW.id for a in service.index.corpus.articles):
                break
            await asyncio.sleep(0.05)
        result = await service.ask("what is the kestrel review")
        assert result.passages[0].doc_id == NEW.id
    finally:
        watcher.cancel()
        await service.close()


@pytest.mark.asyncio
async def test_the_watcher_picks_up_a_thesaurus_edit(live):
    settings, service = live
    reloader = Reloader(settings, service)
    assert (await service.ask("why was it rescinded")).abstained
    watcher = asyncio.create_task(reloader.watch(interval=0.05))
    try:
        (settings.corpus / "thesaurus.txt").write_text("withdrew, rescinded\n", encoding="utf-8")
        for _ in range(100):
            if service.index.thesaurus.groups:
                break
            await asyncio.sleep(0.05)
        result = await service.ask("why was it rescinded")
        assert "withdrew" in result.passages[0].quote
    finally:
        watcher.cancel()
        await service.close()


@pytest.mark.asyncio
async def test_a_broken_article_keeps_the_old_index_and_says_why(live, caplog):
    settings, service = live
    reloader = Reloader(settings, service)
    before = service.index
    (settings.corpus / "broken.md").write_text("---\nid: [\n---\nbody\n", encoding="utf-8")
    watcher = asyncio.create_task(reloader.watch(interval=0.05))
    with caplog.at_level(logging.ERROR):
        await asyncio.sleep(0.4)
    watcher.cancel()
    assert service.index is before and "broken.md" in caplog.text
    assert caplog.text.count("cannot be loaded") == 1  # said once, not every poll
    await service.close()


@pytest.mark.asyncio
async def test_questions_in_flight_during_a_swap_are_all_answered(live):
    settings, service = live
    reloader = Reloader(settings, service)
    old = service.index.corpus.version
    questions = [f"was the status withdrawn {n}" for n in range(200)]
    asking = asyncio.gather(*(service.ask(q) for q in questions))
    write_corpus(settings.corpus, NEW)
    report = await reloader.reload()
    answers = await asking  # raises if any question failed
    assert len(answers) == 200 and {a.corpus_version for a in answers} <= {old, report.version_after}
    assert report.added == (NEW.id,) and "added courier-2021-06-03" in report.text()
    await service.close()


@pytest.mark.asyncio
async def test_repeated_questions_come_from_the_cache_until_the_corpus_changes(live):
    settings, service = live
    first = await service.ask("was the status withdrawn")
    batches = service.batches
    again = await service.ask("  Was the status WITHDRAWN ")
    assert service.batches == batches and again.passages == first.passages and again.question == "Was the status WITHDRAWN"
    write_corpus(settings.corpus, NEW)
    await Reloader(settings, service).reload()
    await service.ask("was the status withdrawn")
    assert service.batches == batches + 1
    await service.close()


@pytest.mark.asyncio
async def test_a_reload_embeds_only_the_new_articles_passages_and_says_how_many(tmp_path, tiny_articles):
    from test_embeddings import counting_encoder

    write_corpus(tmp_path / "corpus", *tiny_articles)
    settings = from_env({}, tmp_path)
    encoder, seen = counting_encoder()
    service = AnswerService(engine.build(settings, encoder))
    seen.clear()
    write_corpus(settings.corpus, NEW)
    report = await Reloader(settings, service, encoder).reload()
    new_passages = [p for p in service.index.passages if p.doc_id == NEW.id]
    # each new passage is embedded alone and under its headline; nothing else is re-embedded
    assert report.embedded == len(seen) == 2 * len(new_passages) > 0
    assert all("Kestrel" in text for text in seen)
    assert f"({report.embedded} newly embedded)" in report.text()
    await service.close()


@pytest.mark.asyncio
async def test_the_same_question_asked_many_times_at_once_is_answered_once(live):
    settings, service = live
    answers = await asyncio.gather(*(service.ask(q) for q in ["was it withdrawn?", "Was it withdrawn?", "was  it withdrawn?"] * 30))
    assert service.batches == 1 and len({a.passages for a in answers}) == 1
    assert {a.question for a in answers} == {"was it withdrawn?", "Was it withdrawn?", "was  it withdrawn?"}
    await service.close()


@pytest.mark.asyncio
async def test_the_watcher_picks_up_labels_the_operator_promoted(live):
    from retrieval.lessons import Lesson
    from retrieval.promoted import write_promoted

    settings, service = live
    reloader = Reloader(settings, service)
    assert not service.index.promoted
    watcher = asyncio.create_task(reloader.watch(interval=0.05))
    try:
        promoted = Lesson("why was it withdrawn", "none", name="label:111:1")
        write_promoted(settings.corpus, [promoted])
        for _ in range(100):
            if service.index.promoted:
                break
            await asyncio.sleep(0.05)
        assert service.index.promoted.items == (promoted,)
    finally:
        watcher.cancel()
        await service.close()


def test_a_malformed_promoted_file_stops_the_load_naming_its_line(live):
    settings, service = live
    (settings.corpus / "promoted.jsonl").write_text('{"question": "q", "verdict": "none"}\nnot json\n', encoding="utf-8")
    from retrieval.promoted import BadPromoted

    with pytest.raises(BadPromoted, match=r"promoted.jsonl:2: not a promoted label"):
        engine.load(settings)


def test_corpus_check_names_a_malformed_promoted_file(live):
    from retrieval.corpus_check import check_corpus

    settings, _ = live
    assert check_corpus(settings.corpus) == []
    (settings.corpus / "promoted.jsonl").write_text('{"question": "q", "verdict": "maybe"}\n', encoding="utf-8")
    [problem] = check_corpus(settings.corpus)
    assert problem.path.endswith("promoted.jsonl") and problem.line == 1 and "unknown verdict 'maybe'" in problem.problem
