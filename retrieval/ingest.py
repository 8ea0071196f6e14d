"""Add an article to the corpus from a saved web page, a text file or a Markdown file.

The raw file is kept exactly as received, under `corpus/raw/<NNN>_<sha256[:16]>.<ext>`, and
the curated article is made from it by the same cleaning as the seed articles, so the same
promise holds: every curated paragraph stands, word for word, in the file its `raw` field
names. Nothing is written until everything has been checked, and then all at once.

HTML: the words of a page are not a substring of its markup (tags, entities), so the text
trafilatura extracts from the page (offline: the file is parsed, nothing is fetched) is saved
beside the page as `<NNN>_<sha>.extracted.txt`: one block of the page to a paragraph, from
the page's headline on (the title from the page's metadata is put first when the extracted
text starts with the body). The article's `raw` field names that file: it is what the
provenance test and `check_corpus` read, and it is made from the page, which stays beside it.
A plain text file is its own raw file.

Markdown: front matter fills metadata; the markup (`#` and `>` marks, list markers,
emphasis, `[text](url)` links, images) is removed and the plain text is saved beside the
`.md` as `<NNN>_<sha>.extracted.txt` in the same way, so a quote never carries `**` or a URL.
Only markup is removed: no word of the body is added or changed.

Metadata: what the user gives (`--title`, `--outlet`, ...) wins over what the file says, and
what neither says stays None; `kind` alone has a default (news), as the format requires one.
"""
from __future__ import annotations

import hashlib
import re
import sys
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import IO, Callable


from retrieval.articles import Article, Corpus, Kind, article_files, decode_article, format_article, load_corpus, parse_article
from retrieval.cleaning import is_line_layout, is_terminal, squash
from retrieval.curation import curate
from retrieval.corpus_files import corpus_lock, publish, write_temp
from retrieval.errors import MalformedArticle, MalformedThesaurus, StorybotError
from retrieval.limits import MAX_ARTICLE_BYTES, MAX_HTML_ELEMENTS, shorten_error
from retrieval.hiding import hidden_problems
from retrieval.near_duplicates import duplicate_of
from retrieval.provenance import EXTRACTED_SUFFIX, article_problems, missing_paragraphs
from retrieval.story import load_story
from retrieval.thesaurus import load_thesaurus
from retrieval.yaml_text import load_yaml

MIN_BODY_CHARS = 200  # below two sentences or this many characters it is a teaser, not an article
MIN_SENTENCES = 2
_NUMBERED = re.compile(r"^(\d{3,})_")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*(?=\s|$)")


class IngestError(StorybotError, ValueError):
    """A source cannot become a curated article; names the source and the problem."""

    def __init__(self, source: object, problem: str) -> None:
        problem = shorten_error(problem)
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


class BadOption(IngestError):
    """A value the user gave on the command line (--published, --kind) is not usable."""


class SourceKind(str, Enum):
    HTML = "html"
    TEXT = "txt"
    MARKDOWN = "md"


_EXTENSIONS = {".html": SourceKind.HTML, ".htm": SourceKind.HTML, ".txt": SourceKind.TEXT, ".md": SourceKind.MARKDOWN}


@dataclass(frozen=True)
class RawSource:
    name: str  # the path as given, or "<stdin>": what messages name
    text: str
    kind: SourceKind
    data: bytes = b""  # the bytes as received: what is stored and hashed


@dataclass(frozen=True)
class Metadata:
    title: str | None = None
    outlet: str | None = None
    author: str | None = None
    published: str | None = None
    url: str | None = None
    kind: str | None = None
    notes: str | None = None

    def overridden_by(self, other: "Metadata") -> "Metadata":
        """What the user said wins; what neither says stays None."""
        return Metadata(**{f: getattr(other, f) or getattr(self, f) for f in self.__dataclass_fields__})


@dataclass(frozen=True)
class AddResult:
    article: Article
    raw_path: Path  # the file as received
    curated_path: Path
    text_path: Path | None = None  # the extracted text the article is checked against (HTML, Markdown)


@dataclass(frozen=True)
class Problem:
    path: str
    problem: str
    line: int | None = None

    def where(self, path: str | None = None) -> str:
        """The file as `path` (default: as stored) and the line, when there is one."""
        shown = self.path if path is None else path
        return f"{shown}, line {self.line}" if self.line else shown

    def __str__(self) -> str:
        return f"{self.where()}: {self.problem}"


# --- reading ------------------------------------------------------------------------------


def _decode(name: str, data: bytes) -> str:
    if b"\0" in data:
        raise IngestError(name, "not a text or HTML file (it holds binary data)")
    for encoding in ("utf-8", "utf-8-sig"):
        try:
            return data.decode(encoding).removeprefix("\ufeff")
        except UnicodeDecodeError:
            continue
    raise IngestError(name, "not a text or HTML file (it is not UTF-8 text)")


def _sniff(text: str) -> SourceKind:
    if text.lstrip().startswith("<"):  # <!doctype html>, <html>, or a fragment such as <article>
        return SourceKind.HTML
    if _FRONT_MATTER.match(text):
        return SourceKind.MARKDOWN
    return SourceKind.TEXT


def read_source(path_or_dash: str | Path, *, stdin: IO | None = None) -> RawSource:
    """The file (or standard input for '-') as text, with what kind of source it is."""
    if str(path_or_dash) == "-":
        name = "<stdin>"
        stream = stdin if stdin is not None else sys.stdin
        data = getattr(stream, "buffer", stream).read(MAX_ARTICLE_BYTES + 1)
        data = data.encode("utf-8") if isinstance(data, str) else data
    else:
        path = Path(path_or_dash)
        name = str(path_or_dash)
        if not path.is_file():
            raise IngestError(name, "no such file" if not path.exists() else "not a file")
        if path.stat().st_size > MAX_ARTICLE_BYTES:
            raise IngestError(name, f"{path.stat().st_size:,} bytes; an article may have {MAX_ARTICLE_BYTES:,}")
        data = path.read_bytes()
    if len(data) > MAX_ARTICLE_BYTES:
        raise IngestError(name, f"more than {MAX_ARTICLE_BYTES:,} bytes; an article may have {MAX_ARTICLE_BYTES:,}")
    if not data.strip():
        raise IngestError(name, "the file is empty")
    text = _decode(name, data)
    kind = _EXTENSIONS.get(Path(name).suffix.lower()) if name != "<stdin>" else None
    return RawSource(name, text, kind or _sniff(text), data)


# --- dates and options --------------------------------------------------------------------

ACCEPTED_DATES = 'YYYY, YYYY-MM, YYYY-MM-DD, "2021/02/24", "24 February 2021", "February 24, 2021" or "February 2021"'
_NUMERIC_DATE = re.compile(r"^(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?$")
# (format, length of the ISO date it gives): a month and year is a YYYY-MM date.
_NAMED_DATES = tuple((f, 10) for f in ("%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%b %d %Y")) + (
    ("%B %Y", 7), ("%b %Y", 7))


def parse_date(value: str) -> str:
    """A date as precise as it was given: YYYY, YYYY-MM or YYYY-MM-DD. ValueError names the value."""
    text = squash(str(value))
    if timestamp := re.match(r"^(\d{4}-\d{2}-\d{2})[T ]", text):
        text = timestamp.group(1)  # an ISO timestamp: its day is the date
    text = re.sub(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? ", "", text)
    text = re.sub(r"\b(\d{1,2})(st|nd|rd|th)\b", r"\1", text)
    if match := _NUMERIC_DATE.match(text):
        year, month, day = (int(g) if g else None for g in match.groups())
        try:
            date(year, month or 1, day or 1)  # refuses month 13 or 30 February
        except ValueError:
            pass
        else:
            return f"{year:04d}" + (f"-{month:02d}" if month else "") + (f"-{day:02d}" if day else "")
    for pattern, length in _NAMED_DATES:
        try:
            return datetime.strptime(text, pattern).date().isoformat()[:length]
        except ValueError:
            continue
    raise ValueError(f"{value!r} is not a date I can read; use {ACCEPTED_DATES}")


def check_options(name: str, **given: str | None) -> Metadata:
    """The user's options, checked: a bad one is a BadOption naming the option and the value."""
    values = {key: (squash(value) if isinstance(value, str) else value) or None for key, value in given.items()}
    try:
        if values.get("published"):
            values["published"] = parse_date(values["published"])
    except ValueError as exc:
        raise BadOption(name, f"--published {exc}") from None
    try:
        if values.get("kind"):
            values["kind"] = Kind.from_str(values["kind"]).value
    except ValueError as exc:
        raise BadOption(name, f"--kind: {exc}") from None
    return Metadata(**values)


# --- HTML ---------------------------------------------------------------------------------

_ELEMENT = re.compile(r"<[A-Za-z]")  # an opening tag: counted before any parsing


def _html_text(source: RawSource) -> tuple[str, Metadata]:
    import trafilatura  # imported here: only `corpus add` of a web page needs it

    elements = len(_ELEMENT.findall(source.text))
    if elements > MAX_HTML_ELEMENTS:
        raise IngestError(source.name, f"{elements:,} HTML elements; a page may have {MAX_HTML_ELEMENTS:,}")
    document = trafilatura.bare_extraction(
        source.text,
        include_comments=False,
        include_tables=False,
        with_metadata=True,
        # No guessing a date from the page's free text or today's date: metadata or nothing.
        date_extraction_params={"original_date": True, "extensive_search": False},
    )
    if document is None:
        raise IngestError(source.name, "no article text found in the page")

    def field(key: str) -> str | None:  # trafilatura 1.x returns a dict, 2.x a Document
        value = document.get(key) if isinstance(document, dict) else getattr(document, key, None)
        return value if isinstance(value, str) and value.strip() else None

    lines = [line.strip() for line in (field("text") or "").splitlines() if line.strip()]
    if not lines:
        raise IngestError(source.name, "no article text found in the page")
    published = field("date")
    try:
        published = parse_date(published) if published else None
    except ValueError:
        published = None  # a page date we cannot read is no date, not an invented one
    metadata = {k: field(k) and squash(field(k)) for k in ("title", "sitename", "hostname", "author", "url")}
    # One block of the page a line; a blank line between them makes each a paragraph block.
    return "\n\n".join(lines), Metadata(
        title=metadata["title"],
        outlet=metadata["sitename"] or metadata["hostname"],
        author=metadata["author"],
        published=published,
        url=metadata["url"],
    )


# --- Markdown -----------------------------------------------------------------------------

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)^---[ \t]*$\n?", re.DOTALL | re.MULTILINE)
_FRONT_MATTER_KEYS = {"title": "title", "outlet": "outlet", "author": "author", "published": "published",
                      "date": "published", "url": "url", "kind": "kind", "notes": "notes"}
_MD_DROP_LINE = re.compile(r"^\s{0,3}(\[[^\]]+\]:\s*\S+.*|([-*_])(\s*\2){2,}\s*)$")  # link definitions, rules
_MD_LINE_MARKS = re.compile(r"^\s{0,3}((>\s?)+|#{1,6}\s+|[-*+]\s+|\d+[.)]\s+)")
_MD_INLINE = (
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),  # an image is a picture, not words of the article
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),
    (re.compile(r"`([^`\n]+)`"), r"\1"),
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])"), r"\1"),
    (re.compile(r"(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?![\w_])"), r"\1"),
)


def _front_matter(source: RawSource) -> tuple[str, Metadata]:
    if not source.text.startswith("---"):
        return source.text, Metadata()
    match = _FRONT_MATTER.match(source.text)
    if not match:
        raise IngestError(source.name, "front matter opened with '---' on the first line is never closed by a '---' line")
    try:
        fields = load_yaml(match.group(1), source.name, first_line=2, what="front matter") or {}
    except MalformedArticle as exc:
        raise IngestError(source.name, exc.where) from None
    if not isinstance(fields, dict):
        raise IngestError(source.name, "front matter must be a mapping of fields (title: ..., date: ...)")
    values: dict[str, str] = {}
    for key, value in fields.items():
        target = _FRONT_MATTER_KEYS.get(str(key).lower())
        if target is None or value is None or value == "":
            continue  # other tools' fields (tags, layout) say nothing about the article
        if isinstance(value, (date, datetime)):
            value = value.isoformat()
        if not isinstance(value, (str, int)):
            raise IngestError(source.name, f"front matter field {key!r} must be text, not {type(value).__name__}")
        values[target] = squash(str(value))
    try:
        if "published" in values:
            values["published"] = parse_date(values["published"])
        if "kind" in values:
            values["kind"] = Kind.from_str(values["kind"]).value
    except ValueError as exc:
        raise IngestError(source.name, f"front matter: {exc}") from None
    return source.text[match.end():], Metadata(**values)


def _plain(markdown: str) -> str:
    for pattern, replacement in _MD_INLINE:
        markdown = pattern.sub(replacement, markdown)
    return markdown


def _markdown_text(source: RawSource) -> tuple[str, Metadata]:
    body, metadata = _front_matter(source)
    if metadata.title:
        metadata = replace(metadata, title=_plain(metadata.title))
    lines = []
    for line in body.splitlines():
        if _MD_DROP_LINE.match(line):
            lines.append("")
            continue
        while (stripped := _MD_LINE_MARKS.sub("", line, count=1)) != line:
            line = stripped
        lines.append(re.sub(r"\s+#+\s*$", "", line))
    return _plain("\n".join(lines)), metadata


# --- making the article -------------------------------------------------------------------


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

    if source.kind is SourceKind.HTML:
        text, found = _html_text(source)
    elif source.kind is SourceKind.MARKDOWN:
        text, found = _markdown_text(source)
    else:
        text, found = source.text, Metadata()
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
    _write_all(files, verify=lambda: _verify(folder, article))
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


def _write_all(files: dict[Path, bytes], *, verify: Callable[[], None]) -> None:
    """Write every file or none: temp files in the target folders, renamed once all are written."""
    made_dirs = [d for d in dict.fromkeys(p.parent for p in files) if not d.exists()]
    temps: dict[Path, Path] = {}
    renamed: list[Path] = []
    try:
        for target, data in files.items():
            if target.exists():
                raise IngestError(target, "already exists; nothing was written")
            target.parent.mkdir(parents=True, exist_ok=True)
            temps[target] = write_temp(target, data)
        for target, temp in temps.items():
            publish(temp, target)
            renamed.append(target)
        verify()
    except BaseException:
        # Whatever went wrong (a full disk, Ctrl-C, a corpus that no longer loads), undo it all.
        for path in [*temps.values(), *renamed]:
            path.unlink(missing_ok=True)
        for made in reversed(made_dirs):
            if made.is_dir() and not any(made.iterdir()):
                made.rmdir()
        raise


# --- checking -----------------------------------------------------------------------------


def check_corpus(corpus_folder: Path | str) -> list[Problem]:
    """Everything wrong with the corpus, each problem naming its file (and line, when it has
    one): the articles, their raw files, hidden.yaml, the thesaurus; empty when all is well."""
    folder = Path(corpus_folder)
    if not folder.is_dir():
        return [Problem(str(folder), "the corpus folder does not exist")]
    problems: list[Problem] = []
    articles: list[tuple[Path, Article]] = []
    ids: dict[str, Path] = {}
    for path in article_files(folder):
        try:
            data = path.read_bytes()
            article = parse_article(decode_article(data, path), path)
        except MalformedArticle as exc:
            problems.append(Problem(str(path), exc.problem, exc.line))
            continue
        except OSError as exc:
            problems.append(Problem(str(path), f"cannot be read ({exc.strerror or exc})"))
            continue
        if article.id in ids:
            problems.append(Problem(str(path), f"id {article.id!r} is already used by {ids[article.id].name}"))
        ids[article.id] = path
        problems.extend(Problem(str(path), p) for p in _article_problems(folder, article))
        articles.append((path, article))
    for number, (path, article) in enumerate(articles):
        others = tuple(a for _, a in articles[number + 1 :])
        if other := duplicate_of(article, others):
            problems.append(Problem(str(path), f"duplicate of article {other.id}: most paragraphs are the same"))
    problems.extend(Problem(str(exc.path), exc.problem, exc.line) for exc in hidden_problems(folder, _partial(articles)))
    try:
        load_thesaurus(folder)
    except MalformedThesaurus as exc:
        problems.append(Problem(str(exc.path), exc.problem, exc.line or None))
    try:
        load_story(folder)
    except MalformedArticle as exc:
        problems.append(Problem(str(exc.path), exc.problem, exc.line))
    return problems


def _partial(articles: list[tuple[Path, Article]]) -> Corpus:
    """The articles that did read, for checking hidden spans against (ids unique)."""
    return Corpus(tuple({a.id: a for _, a in reversed(articles)}.values()), "")


def _article_problems(folder: Path, article: Article) -> list[str]:
    if any(not p.strip() for p in article.paragraphs):
        return ["an empty paragraph (three or more newlines in a row) in the body"]
    found = article_problems(folder, article)
    return [p.problem if p.paragraph is None else f"paragraph {p.paragraph} is {p.problem}" for p in found]
