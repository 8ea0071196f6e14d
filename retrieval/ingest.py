"""Add an article to the corpus from a saved web page, a text file or a Markdown file.

The raw file is kept exactly as received, under `corpus/raw/<NNN>_<sha256[:16]>.<ext>`, and
the curated article is made from it by the same cleaning as the seed articles, so the same
promise holds: every curated paragraph stands, word for word, in the file its `raw` field
names. Nothing is written until everything has been checked, and then all at once.

Reading the source is retrieval/raw_sources.py; checking the corpus, retrieval/corpus_check.py.

HTML: the text extracted from the page is saved beside the page as
`<NNN>_<sha>.extracted.txt`, from the page's headline on (the title from the page's metadata
is put first when the extracted text starts with the body). The article's `raw` field names
that file: it is what the provenance test and `check_corpus` read, and it is made from the
page, which stays beside it. A plain text file is its own raw file.

Markdown: the plain text, markup removed, is saved beside the `.md` as
`<NNN>_<sha>.extracted.txt` in the same way.

Metadata: what the user gives (`--title`, `--outlet`, ...) wins over what the file says, and
what neither says stays None; `kind` alone has a default (news), as the format requires one.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from retrieval.articles import Article, Kind, article_files, format_article, load_corpus, parse_article
from retrieval.atomic_files import TargetExists, write_together
from retrieval.cleaning import is_line_layout, is_terminal, squash
from retrieval.corpus_check import check_corpus
from retrieval.corpus_files import corpus_lock
from retrieval.curation import curate
from retrieval.errors import MalformedArticle
from retrieval.near_duplicates import duplicate_of
from retrieval.provenance import EXTRACTED_SUFFIX, missing_paragraphs
from retrieval.raw_sources import IngestError, Metadata, RawSource, SourceKind, check_options, source_text

MIN_BODY_CHARS = 200  # below two sentences or this many characters it is a teaser, not an article
MIN_SENTENCES = 2
_NUMBERED = re.compile(r"^(\d{3,})_")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*(?=\s|$)")


@dataclass(frozen=True)
class AddResult:
    article: Article
    raw_path: Path  # the file as received
    curated_path: Path
    text_path: Path | None = None  # the extracted text the article is checked against (HTML, Markdown)


_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_HEADLINE_WITHIN = 3  # a kicker or breadcrumb may stand above the headline, never more


def _headed(name: str, text: str, title: str | None) -> str:
    """The text with its headline as the first block, which clean() takes as the headline.

    A block among the first few that is the title is the headline; what stood above it (a
    kicker, a breadcrumb) is not the story. Otherwise the first block is the headline when it
    reads as one (no end punctuation), and else it is a paragraph and the known title goes
    above it: a real paragraph is never taken for the headline and dropped.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    blocks = _BLANK_LINE.split(text)
    if is_line_layout(tuple(blocks[0].split("\n"))):
        # One paragraph a line from the top: the headline is the first line, not the file.
        blocks = blocks[0].split("\n") + blocks[1:]
    for number, block in enumerate(blocks[:_HEADLINE_WITHIN]):
        if title and squash(block).casefold() == squash(title).casefold():
            return "\n\n".join(blocks[number:]) + "\n"
    first = squash(blocks[0])
    if first and not is_terminal(first) and not first.endswith((",", ":", ";")):
        return text + "\n"
    if not title:
        raise IngestError(name, "no title: none found in the file and none given (use --title)")
    return f"{squash(title)}\n\n{text}\n"


def _existing(folder: Path) -> tuple[Article, ...]:
    if not article_files(folder):
        return ()
    try:
        return load_corpus(folder).articles
    except (MalformedArticle, OSError) as exc:
        raise IngestError(folder, f"the corpus does not load, fix it first (storybot corpus check): {exc}") from None


def _owners(path: Path, articles: tuple[Article, ...]) -> list[str]:
    """The articles made from this raw file (or from the page its extracted text came from)."""
    return [a.id for a in articles if a.raw and Path(a.raw).name.split(".")[0] == path.name.split(".")[0]]


def _same_bytes(folder: Path, data: bytes, articles: tuple[Article, ...]) -> str | None:
    digest = hashlib.sha256(data).digest()
    for path in sorted((folder / "raw").glob("*")):
        if path.is_file() and hashlib.sha256(path.read_bytes()).digest() == digest:
            owners = _owners(path, articles)
            return f"raw/{path.name}" + (f" (article {', '.join(owners)})" if owners else "")
    return None


def _remove_orphans(folder: Path, data: bytes, articles: tuple[Article, ...]) -> None:
    """A raw file of these bytes that no article names is what an add that never finished
    left (a crash between its renames): removed, with its extracted text, so it is added now.
    Only numbered files `corpus add` writes are touched; the lock is held."""
    prefix = f"_{hashlib.sha256(data).hexdigest()[:16]}."
    for path in sorted((folder / "raw").glob("*")):
        if _NUMBERED.match(path.name) and prefix in path.name and path.is_file() and not _owners(path, articles):
            if path.name.endswith(EXTRACTED_SUFFIX) or hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(data).digest():
                stem = path.name.split(".")[0]
                for sibling in (folder / "raw").glob(f"{stem}.*"):
                    sibling.unlink(missing_ok=True)


def _next_number(raw_dir: Path) -> int:
    numbers = [int(m.group(1)) for p in raw_dir.glob("*") if (m := _NUMBERED.match(p.name))]
    return max(numbers, default=-1) + 1


def _check_body(name: str, article: Article) -> None:
    sentences = len(_SENTENCE_END.findall(article.body))
    if sentences < MIN_SENTENCES or len(article.body) < MIN_BODY_CHARS:
        raise IngestError(
            name,
            f"only {len(article.body)} characters and {sentences} sentence(s) of article text are left once page "
            f"furniture is removed; an article needs at least {MIN_SENTENCES} sentences and {MIN_BODY_CHARS} characters",
        )


def add_article(
    corpus_folder: Path | str,
    source: RawSource,
    *,
    title: str | None = None,
    outlet: str | None = None,
    author: str | None = None,
    published: str | None = None,
    url: str | None = None,
    kind: str | None = None,
) -> AddResult:
    """Curate the source into the corpus; IngestError (and nothing written) when it cannot be."""
    folder = Path(corpus_folder)
    if not folder.is_dir():
        raise IngestError(folder, "the corpus folder does not exist")
    options = check_options(source.name, title=title, outlet=outlet, author=author, published=published, url=url, kind=kind)
    # One writer at a time, from reading what is there to the last rename: two adds of the
    # same outlet and date both land, with distinct ids and raw numbers.
    with corpus_lock(folder):
        return _add_locked(folder, source, options)


def _add_locked(folder: Path, source: RawSource, options: Metadata) -> AddResult:
    existing = _existing(folder)
    _remove_orphans(folder, source.data, existing)
    if copy := _same_bytes(folder, source.data, existing):
        raise IngestError(source.name, f"the same file is already in the corpus as {copy}")

    text, found = source_text(source)
    metadata = found.overridden_by(options)
    # The page's own headline heads the extracted text; the user's title, when given, is the title.
    headed = _headed(source.name, text, found.title or options.title)

    raw_dir = folder / "raw"
    stem = f"{_next_number(raw_dir):03d}_{hashlib.sha256(source.data).hexdigest()[:16]}"
    raw_name = f"{stem}.{source.kind.value}"
    text_name = None if source.kind is SourceKind.TEXT else stem + EXTRACTED_SUFFIX
    how = {SourceKind.HTML: "Text extracted by trafilatura from", SourceKind.MARKDOWN: "Markdown markup removed from"}
    notes = metadata.notes or (f"{how[source.kind]} raw/{raw_name}." if text_name else None)
    taken = {a.id for a in existing} | {p.stem for p in folder.glob("*.md")}
    try:
        article = curate(
            headed, raw_name=text_name or raw_name, title=metadata.title, outlet=metadata.outlet, author=metadata.author,
            published=metadata.published, url=metadata.url, kind=metadata.kind or Kind.NEWS.value, notes=notes,
            taken_ids=taken,
        )
    except MalformedArticle as exc:
        raise IngestError(source.name, exc.problem) from None
    _check_body(source.name, article)
    stored_text = headed if text_name else source.text
    if missing := missing_paragraphs(article.paragraphs, stored_text):
        raise IngestError(source.name, f"curated paragraph not found in the stored text: {article.paragraphs[missing[0]][:60]!r}")
    if other := duplicate_of(article, existing):
        raise IngestError(source.name, f"duplicate of article {other.id}: most of its paragraphs are already there")
    parse_article(format_article(article), folder / f"{article.id}.md")  # the file we write must read back

    files = {raw_dir / raw_name: source.data}
    if text_name:
        files[raw_dir / text_name] = headed.encode("utf-8")
    curated = folder / f"{article.id}.md"
    files[curated] = format_article(article).encode("utf-8")  # last: the article appears only when its raw files are there
    try:
        write_together(files, exclusive=True, verify=lambda: _verify(folder, article))
    except TargetExists as exc:
        raise IngestError(Path(exc.filename), "already exists; nothing was written") from None
    return AddResult(article, raw_dir / raw_name, curated, raw_dir / text_name if text_name else None)


# --- writing ------------------------------------------------------------------------------


def _verify(folder: Path, article: Article) -> None:
    try:
        written = load_corpus(folder).article(article.id)
    except (MalformedArticle, KeyError, OSError) as exc:
        raise IngestError(folder, f"the corpus does not load with the new article, so it was not added: {exc}") from None
    problems = [p.problem for p in check_corpus(folder) if Path(p.path).name == f"{article.id}.md"]
    if written != article or problems:
        raise IngestError(folder / f"{article.id}.md", "; ".join(problems) or "the written article does not read back as made")
