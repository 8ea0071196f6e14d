"""Make a curated article from a raw one: cleaned body, metadata given or found, provenance kept."""
from __future__ import annotations

from pathlib import Path

from retrieval.articles import Article, Corpus, Kind, make_id
from retrieval.cleaning import clean
from retrieval.errors import MalformedArticle
from retrieval.limits import MAX_PARAGRAPH_CHARS
from retrieval.provenance import missing_paragraphs, raw_path, read_raw


def curate(
    raw_text: str,
    *,
    raw_name: str,
    title: str | None = None,
    outlet: str | None = None,
    author: str | None = None,
    published: str | None = None,
    url: str | None = None,
    kind: str = Kind.NEWS.value,
    notes: str | None = None,
    taken_ids: set[str] = frozenset(),
) -> Article:
    """The curated article for one raw file. A field nothing supports stays None."""
    cleaned = clean(raw_text)
    if not cleaned.paragraphs:
        raise MalformedArticle(raw_name, "nothing of the article is left once page furniture is removed")
    for number, paragraph in enumerate(cleaned.paragraphs, 1):
        if len(paragraph) > MAX_PARAGRAPH_CHARS:
            raise MalformedArticle(raw_name, f"paragraph {number} has {len(paragraph):,} characters; a paragraph may have "
                                             f"{MAX_PARAGRAPH_CHARS:,} (is there a blank line between paragraphs?)")
    # Cleaning only drops lines and rewrites whitespace; this guards that promise.
    if missing := missing_paragraphs(cleaned.paragraphs, raw_text):
        raise MalformedArticle(raw_name, f"cleaned paragraph not found in the raw file: {cleaned.paragraphs[missing[0]][:60]!r}")
    return Article(
        id=make_id(outlet, published, set(taken_ids)),
        title=title or cleaned.headline,
        body=cleaned.body,
        kind=Kind.from_str(kind).value,
        outlet=outlet,
        author=author,
        published=published,
        url=url,
        raw=f"raw/{raw_name}",
        notes=notes,
    )


def sidebar_texts(corpus: Corpus, folder: Path) -> tuple[str, ...]:
    """The sidebars cut from the corpus's raw files: what stood beside the story, not in it."""
    texts: list[str] = []
    for article in corpus.articles:
        if not article.raw:
            continue
        try:
            raw = read_raw(raw_path(folder, article), article.raw)
        except MalformedArticle:
            continue  # the provenance check names it; a sidebar is only a hint
        texts.extend(clean(raw).sidebar)
    return tuple(dict.fromkeys(texts))
