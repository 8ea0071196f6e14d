"""Checking the corpus folder: every problem of its articles, raw files, hidden.yaml and
thesaurus, each naming its file (and line); what `storybot corpus check` prints and what
`corpus add` runs on the article it has just written."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from retrieval.articles import Article, Corpus, article_files, decode_article, parse_article
from retrieval.errors import MalformedArticle, MalformedThesaurus
from retrieval.hiding import hidden_problems
from retrieval.near_duplicates import duplicate_of
from retrieval.promoted import BadPromoted, load_promoted
from retrieval.provenance import article_problems
from retrieval.story import load_story
from retrieval.thesaurus import load_thesaurus


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
    try:
        load_promoted(folder)
    except BadPromoted as exc:
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
