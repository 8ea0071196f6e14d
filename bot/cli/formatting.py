"""Plain-text renderings of answers and sources, for the terminal (ask and the REPL)."""
from __future__ import annotations

import textwrap

from retrieval.answer import Answer, Quote, Status
from retrieval.articles import Article, Corpus


def citation(outlet: str | None, title: str, published: str | None, kind: str, url: str | None) -> str:
    parts = [outlet or "Unknown outlet", f"“{title}”", published or "undated"]
    if kind != "news":
        parts.append(kind)
    if url:
        parts.append(url)
    return " · ".join(parts)


def quote_citation(quote: Quote) -> str:
    return citation(quote.outlet, quote.title, quote.published, quote.kind, quote.url)


def article_citation(article: Article) -> str:
    return citation(article.outlet, article.title, article.published, article.kind, article.url)


def status_line(answer: Answer) -> str:
    """The answer's status and, when it is not answered, its reason."""
    if answer.status is Status.ANSWERED:
        return "Answered: the quotes below speak to the question."
    return f"{answer.status.value.replace('_', ' ').capitalize()}: {answer.reason or answer.message or ''}".rstrip(": ")


def answer_text(answer: Answer, width: int = 100) -> str:
    if answer.status is Status.NOT_COVERED:
        return status_line(answer)
    lines = [status_line(answer)]
    if answer.status is Status.UNCERTAIN and answer.passages:
        lines.append(f"{answer.message}:")
    lines.append("")
    for n, quote in enumerate(answer.passages, 1):
        body = textwrap.fill(" ".join(quote.quote.split()), width=width - 4)
        lines.append(f"[{n}] " + textwrap.indent(body, "    ")[4:])
        lines.append(f"    — {quote_citation(quote)}")
        lines.append("")
    lines.append(f"(mode: {answer.mode})")
    return "\n".join(lines)


def sources_text(corpus: Corpus) -> str:
    return "\n".join(f"{a.id}: {article_citation(a)}" for a in corpus.by_date())
