"""`storybot corpus ...`: start a corpus, add, list, show and check the curated articles."""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

from retrieval.atomic_files import write_atomic
from retrieval.articles import Article, load_corpus
from retrieval.hiding import HIDDEN_FILE, HiddenEntry, check_span, hide, unhide
from retrieval.chunking import SentenceStore
from retrieval.embeddings import EmbeddingCache
from retrieval.errors import StorybotError
from retrieval.index import HiddenSpan
from retrieval.corpus_check import Problem, check_corpus
from retrieval.ingest import add_article
from retrieval.raw_sources import BadOption, IngestError, check_options, read_source
from retrieval.story import CorpusExists, init_corpus

from bot import progress
from bot.inert_text import for_terminal
from bot.recording import current_user
from bot.store import AuditError, open_store
from bot.settings import Settings


def _shown(path: Path) -> str:
    # Paths as the user would type them: relative to where they stand, when inside it.
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    for chatty in ("trafilatura", "htmldate"):
        # Their warnings ("discarding data: None") say less than the one error we print.
        logging.getLogger(chatty).setLevel(max(logging.ERROR, logging.getLogger().level))
    if len(args.paths) == 1:
        args.path = args.paths[0]
        return _add_one(args, settings)
    return _add_many(args, settings)


def _add_many(args: argparse.Namespace, settings: Settings) -> int:
    """Several files, each added or refused on its own (a refused file changes nothing), with
    progress on a terminal. Metadata options name one article, so they are refused here."""
    given = [f"--{name}" for name in ("title", "outlet", "author", "url", "published") if getattr(args, name)]
    if given or "-" in args.paths:
        raise BadOption(", ".join(given) or "-", f"can only be given with one file, not {len(args.paths)}")
    refused = 0
    for path in progress.iterate(args.paths, "adding articles", "file"):
        args.path = path
        try:
            _add_one(args, settings)
        except (BadOption, IngestError) as exc:
            print(f"storybot: {exc}", file=sys.stderr)
            refused += 1
    print(f"{len(args.paths) - refused} of {len(args.paths)} files added" + (f"; {refused} refused" if refused else ""))
    return 1 if refused else 0


def _add_one(args: argparse.Namespace, settings: Settings) -> int:
    name = "<stdin>" if args.path == "-" else args.path
    check_options(name, published=args.published, kind=args.kind)  # a mistyped option before any reading
    source = read_source(args.path, stdin=sys.stdin)
    result = add_article(
        settings.corpus, source, title=args.title, outlet=args.outlet, author=args.author,
        published=args.published, url=args.url, kind=args.kind,
    )
    article = result.article
    print(f"added {article.id}: {article.title} ({len(article.paragraphs)} paragraphs)")
    print(f"  curated: {_shown(result.curated_path)}")
    print(f"  raw: {_shown(result.raw_path)}" + (f" (text: {_shown(result.text_path)})" if result.text_path else ""))
    return 0


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    # Article fields come from saved pages: shown inert, as everything a moderator reads is.
    rows = [(for_terminal(a.id), a.published or "-", for_terminal(a.outlet or "-"), for_terminal(a.title),
             f"{len(a.paragraphs)} paragraphs") for a in load_corpus(settings.corpus).by_date()]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths)) + f"  {row[3]}  ({row[4]})")
    return 0


def _article_text(article: Article) -> str:
    fields = ("id", "title", "outlet", "author", "published", "url", "kind", "raw", "notes")
    lines = [f"{field}: {for_terminal(getattr(article, field) or '-')}" for field in fields]
    body = "\n".join(for_terminal(line) for line in article.body.split("\n"))
    return "\n".join([*lines, f"paragraphs: {len(article.paragraphs)}", "", body])


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    corpus = load_corpus(settings.corpus)
    try:
        article = corpus.article(args.id)
    except KeyError:
        print(f"storybot: no article with id {args.id!r}; `storybot corpus list` shows the ids", file=sys.stderr)
        return 1
    print(_article_text(article))
    return 0


def _cache_problems(settings: Settings) -> list[Problem]:
    """Caches that the next load would rebuild rather than trust: said, so the operator knows."""
    try:
        corpus = load_corpus(settings.corpus)
    except StorybotError:
        return []  # the articles' own problems are reported; caches are checked against good articles
    sentences = settings.cache / "sentences.json"
    found = []
    if sentences.exists():
        paragraphs = (p for a in corpus.articles for p in a.paragraphs)
        if problem := SentenceStore(sentences).problem(paragraphs):
            found.append(Problem(str(sentences), f"{problem}; it is rebuilt at the next load"))
    for path, problem in EmbeddingCache(settings.cache / "embeddings").file_problems():
        found.append(Problem(str(path), f"{problem}; it is rebuilt at the next load"))
    return found


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    problems = check_corpus(settings.corpus) + _cache_problems(settings)
    for problem in problems:
        print(f"{problem.where(_shown(Path(problem.path)))}: {problem.problem}")
    if problems:
        print(f"{len(problems)} problem(s) in {_shown(settings.corpus)}")
        return 1
    print(f"corpus OK: {len(load_corpus(settings.corpus).articles)} articles")
    return 0


async def _moderate(settings: Settings, action: str, span: HiddenSpan, reason: str | None, apply) -> int | None:
    """`apply()` changes hidden.yaml inside the store's write transaction with the record: both happen
    or neither; a second process's hide waits for this one. None when `apply` changed nothing."""
    folder = settings.corpus / HIDDEN_FILE
    before = folder.read_bytes() if folder.exists() else None

    def undo() -> None:
        # The record could not be committed after the file changed: put the file back as it was.
        if before is None:
            folder.unlink(missing_ok=True)
        else:
            write_atomic(folder, before)

    audit = await open_store(settings.db)
    try:
        return await audit.moderate_globally(action, span, reason=reason, apply=apply, undo=undo,
                                             user_name=current_user())
    finally:
        await audit.close()


def cmd_hide(args: argparse.Namespace, settings: Settings) -> int:
    corpus = load_corpus(settings.corpus)
    entry = HiddenEntry(args.doc_id, args.start, args.end, args.reason, by=current_user(), at=datetime.now(timezone.utc).isoformat())
    check_span(corpus, args.doc_id, args.start, args.end)  # a bad span is refused before the log is opened
    try:
        added = asyncio.run(_moderate(settings, "hide", entry.span, args.reason,
                                      lambda: hide(settings.corpus, corpus, entry)))
    except AuditError as exc:
        print(f"storybot: nothing was hidden, because the audit log cannot record it: {exc}", file=sys.stderr)
        return 1
    text = corpus.article(args.doc_id).body[args.start : args.end]
    print(f"{args.doc_id}[{args.start}:{args.end}] {'is now hidden' if added is not None else 'was already hidden'}: {text[:120]!r}")
    return 0


def cmd_unhide(args: argparse.Namespace, settings: Settings) -> int:
    span = HiddenSpan(args.doc_id, args.start, args.end)
    try:
        removed = asyncio.run(_moderate(settings, "unhide", span, args.reason,
                                        lambda: unhide(settings.corpus, args.doc_id, args.start, args.end) is not None))
    except AuditError as exc:
        print(f"storybot: nothing was unhidden, because the audit log cannot record it: {exc}", file=sys.stderr)
        return 1
    if removed is None:
        print(f"storybot: {args.doc_id}[{args.start}:{args.end}] is not hidden; hidden spans are listed in "
              f"{_shown(settings.corpus / HIDDEN_FILE)}", file=sys.stderr)
        return 1
    print(f"{args.doc_id}[{args.start}:{args.end}] may be quoted again")
    return 0


def cmd_init(args: argparse.Namespace, settings: Settings) -> int:
    written = init_corpus(args.folder, args.story)
    folder = _shown(Path(args.folder))
    print(f"started a corpus in {folder}: fill in {_shown(written)} (the story's events), then add articles with\n"
          f"  STORYBOT_CORPUS={folder} storybot corpus add ARTICLE.txt|.html|.md")
    return 0


def cmd_corpus(args: argparse.Namespace, settings: Settings) -> int:
    try:
        return args.action(args, settings)
    except CorpusExists as exc:
        print(f"storybot: {exc}", file=sys.stderr)
        return 1
    except BadOption as exc:
        print(f"storybot: {exc}", file=sys.stderr)
        return 2
    except IngestError as exc:
        print(f"storybot: {exc}", file=sys.stderr)
        return 1


def add_parser(sub: argparse._SubParsersAction) -> None:
    corpus = sub.add_parser("corpus", help="the curated articles: init, add, list, show, check, hide, unhide")
    actions = corpus.add_subparsers(dest="corpus_action", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="add an article from a saved web page (.html), a .txt or a .md file")
    add.add_argument("paths", nargs="+", metavar="path", help="the file (or several); '-' reads one from standard input")
    for option, what in (("title", "the headline"), ("outlet", "the publication"), ("author", "the byline"),
                         ("url", "the article's address")):
        add.add_argument(f"--{option}", help=f"{what} (overrides what the file says)")
    add.add_argument("--published", help="the date: YYYY, YYYY-MM, YYYY-MM-DD or e.g. '24 February 2021'")
    add.add_argument("--kind", help="news, opinion, analysis or statement (default: news)")
    add.set_defaults(action=cmd_add)

    init = actions.add_parser("init", help="start a corpus folder for another story (its story.yaml)")
    init.add_argument("folder", help="the new corpus folder (then STORYBOT_CORPUS=FOLDER)")
    init.add_argument("--story", required=True, help="what the story is, e.g. \"the 2024 Paris Olympics opening\"")
    init.set_defaults(action=cmd_init)

    actions.add_parser("list", help="every article by date").set_defaults(action=cmd_list)
    show = actions.add_parser("show", help="one article: its metadata and body")
    show.add_argument("id")
    show.set_defaults(action=cmd_show)
    actions.add_parser("check", help="check every article against its raw file (exit 1 on any problem)").set_defaults(
        action=cmd_check
    )
    for name, action, what in (("hide", cmd_hide, "never quote this span again"), ("unhide", cmd_unhide, "allow a hidden span again")):
        parser = actions.add_parser(name, help=f"{what} (recorded in the audit log)")
        parser.add_argument("doc_id")
        parser.add_argument("start", type=int)
        parser.add_argument("end", type=int)
        parser.add_argument("--reason", required=(name == "hide"), help="why (recorded)")
        parser.set_defaults(action=action)
    corpus.set_defaults(func=cmd_corpus)
