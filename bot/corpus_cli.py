"""`storybot corpus ...`: add, list, show and check the curated articles."""
from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from retrieval.articles import Article, load_corpus
from retrieval.ingest import BadOption, IngestError, add_article, check_corpus, check_options, read_source

from bot.settings import Settings


def _shown(path: Path) -> str:
    # Paths as the user would type them: relative to where they stand, when inside it.
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    name = "<stdin>" if args.path == "-" else args.path
    check_options(name, published=args.published, kind=args.kind)  # a mistyped option before any reading
    for chatty in ("trafilatura", "htmldate"):
        # Their warnings ("discarding data: None") say less than the one error we print.
        logging.getLogger(chatty).setLevel(max(logging.ERROR, logging.getLogger().level))
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
    rows = [(a.id, a.published or "-", a.outlet or "-", a.title, f"{len(a.paragraphs)} paragraphs")
            for a in load_corpus(settings.corpus).by_date()]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths)) + f"  {row[3]}  ({row[4]})")
    return 0


def _article_text(article: Article) -> str:
    fields = ("id", "title", "outlet", "author", "published", "url", "kind", "raw", "notes")
    lines = [f"{field}: {getattr(article, field) or '-'}" for field in fields]
    return "\n".join([*lines, f"paragraphs: {len(article.paragraphs)}", "", article.body])


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    corpus = load_corpus(settings.corpus)
    try:
        article = corpus.article(args.id)
    except KeyError:
        print(f"storybot: no article with id {args.id!r}; `storybot corpus list` shows the ids", file=sys.stderr)
        return 1
    print(_article_text(article))
    return 0


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    problems = check_corpus(settings.corpus)
    for problem in problems:
        print(f"{_shown(Path(problem.path))}: {problem.problem}")
    if problems:
        print(f"{len(problems)} problem(s) in {_shown(settings.corpus)}")
        return 1
    print(f"corpus OK: {len(load_corpus(settings.corpus).articles)} articles")
    return 0


def cmd_corpus(args: argparse.Namespace, settings: Settings) -> int:
    try:
        return args.action(args, settings)
    except BadOption as exc:
        print(f"storybot: {exc}", file=sys.stderr)
        return 2
    except IngestError as exc:
        print(f"storybot: {exc}", file=sys.stderr)
        return 1


def add_parser(sub: argparse._SubParsersAction) -> None:
    corpus = sub.add_parser("corpus", help="the curated articles: add, list, show, check")
    actions = corpus.add_subparsers(dest="corpus_action", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="add an article from a saved web page (.html), a .txt or a .md file")
    add.add_argument("path", help="the file; '-' reads it from standard input")
    for option, what in (("title", "the headline"), ("outlet", "the publication"), ("author", "the byline"),
                         ("url", "the article's address")):
        add.add_argument(f"--{option}", help=f"{what} (overrides what the file says)")
    add.add_argument("--published", help="the date: YYYY, YYYY-MM, YYYY-MM-DD or e.g. '24 February 2021'")
    add.add_argument("--kind", help="news, opinion, analysis or statement (default: news)")
    add.set_defaults(action=cmd_add)

    actions.add_parser("list", help="every article by date").set_defaults(action=cmd_list)
    show = actions.add_parser("show", help="one article: its metadata and body")
    show.add_argument("id")
    show.set_defaults(action=cmd_show)
    actions.add_parser("check", help="check every article against its raw file (exit 1 on any problem)").set_defaults(
        action=cmd_check
    )
    corpus.set_defaults(func=cmd_corpus)
