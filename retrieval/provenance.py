"""Is every paragraph of a curated article word for word in its raw file?

Checked wherever the corpus is loaded to be quoted from (ask, the REPL, the bot, a reload)
and by `corpus check`, so an article edited by hand ("anti-migrant" made "pro-migrant"), or
whose raw file is gone, is never quoted as verbatim. A paragraph that fails is hidden from
the index and named to the operator; the rest of the article is still quoted.

The check is linear in the raw file's size: its text without whitespace is made once, and
the paragraphs, which cleaning keeps in the raw file's order, are looked for each from where
the one before ended.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from retrieval.articles import RAW_FOLDER, Article, Corpus, check_raw_field
from retrieval.cleaning import without_whitespace
from retrieval.errors import MalformedArticle, UnsafeRawPath
from retrieval.index import HiddenSpan
from retrieval.limits import MAX_ARTICLE_BYTES

log = logging.getLogger(__name__)

EXTRACTED_SUFFIX = ".extracted.txt"
# The extracted text of a page or Markdown file stands beside the file it came from.
SOURCE_SUFFIXES = (".html", ".md")
# After this many paragraphs not found, the rest of the article is not searched (each miss
# is a scan of the raw file): it is not a copy of that file.
MAX_MISSES = 10


@dataclass(frozen=True)
class Unverified:
    """A paragraph (1-based; None: the whole article) that cannot be shown to be verbatim."""

    doc_id: str
    paragraph: int | None
    start: int  # the span of Article.body it covers
    end: int
    problem: str

    @property
    def span(self) -> HiddenSpan:
        return HiddenSpan(self.doc_id, self.start, self.end)

    def __str__(self) -> str:
        where = f"paragraph {self.paragraph}" if self.paragraph else "every paragraph"
        return f"article {self.doc_id}, {where}: {self.problem}"


def raw_path(folder: Path, article: Article) -> Path:
    """The article's raw file, which must stand inside the corpus's raw folder (a symlink
    out of it counts as outside); UnsafeRawPath otherwise."""
    check_raw_field(article.raw, article.id)
    path = (folder / article.raw).resolve()
    if path.parent != (folder / RAW_FOLDER).resolve():
        raise UnsafeRawPath(article.id, f"raw {article.raw!r} must name a file in {RAW_FOLDER}/, not a link out of it")
    return path


def read_raw(path: Path, shown: str) -> str:
    """The raw file's text; MalformedArticle naming `shown` when it cannot be used."""
    if not path.is_file():
        raise MalformedArticle(shown, "does not exist")
    if path.stat().st_size > MAX_ARTICLE_BYTES:
        raise MalformedArticle(shown, f"is larger than {MAX_ARTICLE_BYTES:,} bytes")
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MalformedArticle(shown, "is not UTF-8 text") from None
    except OSError as exc:
        raise MalformedArticle(shown, f"cannot be read ({exc.strerror or exc})") from None


def missing_paragraphs(paragraphs: tuple[str, ...], raw: str) -> list[int]:
    """The 0-based numbers of the paragraphs not found, in order, in `raw` (whitespace aside)."""
    flat = without_whitespace(raw)
    position, missing = 0, []
    for number, paragraph in enumerate(paragraphs):
        needle = without_whitespace(paragraph)
        if len(missing) >= MAX_MISSES:
            missing.append(number)
            continue
        found = flat.find(needle, position) if needle else -1
        if found < 0:
            missing.append(number)
        else:
            position = found + len(needle)
    return missing


def article_problems(folder: Path, article: Article) -> list[Unverified]:
    """What keeps the article's paragraphs from being shown verbatim; empty when all are."""
    def whole(problem: str) -> list[Unverified]:
        return [Unverified(article.id, None, 0, len(article.body), problem)]

    if not article.raw:
        return whole("names no raw file, so its words cannot be checked against the source")
    try:
        path = raw_path(folder, article)
        if path.name.endswith(EXTRACTED_SUFFIX):
            stem = path.name.removesuffix(EXTRACTED_SUFFIX)
            if not any((path.parent / f"{stem}{suffix}").is_file() for suffix in SOURCE_SUFFIXES):
                return whole(f"{article.raw} was extracted from a file that is not beside it ({stem}.html or {stem}.md)")
        raw = read_raw(path, article.raw)
    except MalformedArticle as exc:
        return whole(f"its raw file {article.raw} {exc.problem}" if exc.path == article.raw else exc.problem)
    problems, offset, starts = [], 0, []
    paragraphs = article.paragraphs
    for paragraph in paragraphs:  # where each paragraph starts in the body
        starts.append(offset)
        offset += len(paragraph) + 2
    for number in missing_paragraphs(paragraphs, raw):
        paragraph = paragraphs[number]
        problems.append(Unverified(article.id, number + 1, starts[number], starts[number] + len(paragraph),
                                   f"not word for word in {article.raw}: {paragraph[:60]!r}"))
    return problems


def unverified(folder: Path | str, corpus: Corpus) -> tuple[Unverified, ...]:
    """Every paragraph of the corpus that cannot be shown to be verbatim."""
    folder = Path(folder)
    return tuple(problem for article in corpus.articles for problem in article_problems(folder, article))


def unverified_spans(folder: Path | str, corpus: Corpus) -> tuple[HiddenSpan, ...]:
    """The spans never to quote because they are not verbatim, each said once at ERROR."""
    found = unverified(folder, corpus)
    for problem in found:
        log.error("not quoted, %s", problem)
    return tuple(p.span for p in found)
