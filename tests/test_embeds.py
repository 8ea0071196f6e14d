"""Answers as embeds stay inside Discord's limits and never ping or format by accident."""
from __future__ import annotations

from retrieval.answer import Answer, Quote

from bot.discord.embeds import DESCRIPTION_LIMIT, ELLIPSIS, FIELD_LIMIT, TOTAL_LIMIT, answer_embed


def quote(n: int, text: str, published: str = "2021-02-24", url: str | None = None) -> Quote:
    return Quote(text, f"doc-{n}", f"Title {n} " + "very long " * 20, "Outlet", published, url, "opinion" if n == 2 else "news", 0, len(text), 0.5)


def make(*quotes: Quote, question: str = "why?") -> Answer:
    return Answer(question, "hybrid", quotes, "v1", "m", 1.0)


def test_huge_quotes_and_sources_are_shortened_with_a_marked_ellipsis():
    long_url = "https://example.org/" + "x" * 900
    embed = answer_embed(make(*(quote(n, f"Sentence {n}. " + "word " * 2000, url=long_url) for n in (1, 2, 3))))
    assert len(embed.description) <= DESCRIPTION_LIMIT and ELLIPSIS in embed.description
    assert all(len(field.value) <= FIELD_LIMIT for field in embed.fields)
    assert len(embed) <= TOTAL_LIMIT
    assert all(f"[{n}]" in embed.description for n in (1, 2, 3))  # every quote keeps its citation number


def test_the_question_echo_is_inert_and_short():
    embed = answer_embed(make(quote(1, "A quote."), question="@everyone **bold** <@123> " + "why " * 100))
    assert "@everyone" not in embed.title and "**bold**" not in embed.title and len(embed.title) <= 200


def test_opinion_is_marked_and_dates_shown_when_quotes_differ_in_date():
    embed = answer_embed(make(quote(1, "Earlier."), quote(2, "Later.", published="2021-05-07")))
    assert "**OPINION**" in embed.fields[0].value
    assert "(2021-02-24)" in embed.description and "(2021-05-07)" in embed.description


def test_one_date_is_not_repeated_under_every_quote():
    embed = answer_embed(make(quote(1, "One."), quote(3, "Two.")))
    assert "(2021-02-24)" not in embed.description


def test_an_uncertain_answer_says_what_is_missing_above_the_nearest_passages():
    from retrieval.answer import Status
    from retrieval.checks import NEAREST_LABEL

    result = Answer("which hospital?", "hybrid", (quote(1, "Near."),), "v1", "m", 1.0,
                    status=Status.UNCERTAIN, reason="The articles don't name a hospital.")
    embed = answer_embed(result)
    assert embed.description.startswith("**The articles don't name a hospital.**")
    assert NEAREST_LABEL in embed.description and "> Near. [1]" in embed.description
    assert "uncertain" in embed.footer.text


def test_a_request_gets_its_reason_and_no_sources():
    from retrieval.answer import Status

    result = Answer("write a poem", "hybrid", (), "v1", "m", 1.0, status=Status.NOT_COVERED,
                    reason="storybot doesn't write, translate or role-play: it only quotes what the articles say.")
    embed = answer_embed(result)
    assert embed.description.startswith("storybot doesn't write") and not embed.fields
    assert "not covered" in embed.footer.text


def test_the_three_outcomes_look_different_at_a_glance():
    from retrieval.answer import Status

    looks = {}
    for status, quotes in ((Status.ANSWERED, (quote(1, "Answer."),)), (Status.UNCERTAIN, (quote(1, "Near."),)),
                           (Status.NOT_COVERED, ())):
        embed = answer_embed(Answer("why?", "hybrid", quotes, "v1", "m", 1.0,
                                    status=status, reason=None if status is Status.ANSWERED else "Because."))
        looks[status] = (embed.colour, embed.author.name)
    assert len({colour for colour, _ in looks.values()}) == 3
    assert looks[Status.ANSWERED][1].startswith("✅") and looks[Status.UNCERTAIN][1].startswith("⚠️")
    assert looks[Status.NOT_COVERED][1].startswith("⛔")
