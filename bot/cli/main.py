"""`storybot`: the command line. Each command parses, calls the library, and prints."""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
from pathlib import Path
from typing import TextIO

from retrieval.atomic_files import write_atomic
from retrieval.answer import DEFAULT_POLICY, Answer, answer
from retrieval.lessons import NO_LESSONS
from retrieval.fusion import Fusion
from retrieval.errors import BadQuestion, StorybotError
from retrieval.limits import MAX_INPUT_LINE_BYTES, shorten_error
from retrieval.question_text import normalise_question, valid_text

from bot import engine, progress
from bot.cli import audit as audit_cli, formatting
from bot.cli import precedents as precedents_cli
from bot.cli import corpus as corpus_cli
from bot import settings as settings_module
from bot.cli.input_lines import input_lines
from bot.inert_text import json_line
from bot.settings import BadSetting, Settings

log = logging.getLogger("storybot")


class UsageError(Exception):
    """Wrong use of the command line; exit status 2."""


def _library_defaults() -> None:
    """Environment defaults for the libraries, set before torch is imported (a user's own
    values win)."""
    for name, value in {
        # Model loading draws progress bars and chatty notices on stderr; a user wants answers.
        "TRANSFORMERS_VERBOSITY": "error",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "TOKENIZERS_PARALLELISM": "false",
        # libgomp's spin-waiting threads fight the event loop for 2 cores: with passive waits
        # an answer's p50 was 14.9 ms instead of 18.7 ms, and the phases of ~490 ms forward
        # passes seen with spinning never occurred (bench/results/results.md, latency).
        "OMP_WAIT_POLICY": "PASSIVE",
    }.items():
        os.environ.setdefault(name, value)


def _configure_logging(level: str, *, bot: bool) -> None:
    from bot import logs

    logs.configure(level, bot=bot)


def _print_answer(result: Answer, as_json: bool, out: TextIO) -> None:
    if as_json:
        out.write(json_line(result.to_json()) + "\n")
    else:
        out.write(formatting.answer_text(result) + "\n")
    out.flush()


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.recording import open_recorder

    if sys.stdout is None:  # started with `>&-`: there is nowhere to print an answer
        raise UsageError("standard output is closed, so there is nowhere to print the answer")
    from_stdin = args.question == ["-"]
    if from_stdin and sys.stdin is None:  # `<&-`
        raise UsageError("standard input is closed, so there are no questions to read")
    if not from_stdin:
        question = " ".join(args.question)
        normalise_question(question)  # refuse bad input before the slow model load
    exclude, lessons = _server_view(settings, args.guild) if args.guild else ((), NO_LESSONS)
    # One question: the question reader's data is loaded only if this question needs it.
    index = engine.load(settings, warm=from_stdin)
    with open_recorder(settings, enabled=not args.no_audit) as record:
        if not from_stdin:
            result = answer(index, question, exclude=exclude, lessons=lessons)
            record(result)
            _print_answer(result, args.json, sys.stdout)
            return 0
        status = 0
        for line in input_lines(sys.stdin):
            if not line.text.strip() and not line.too_long:
                continue
            try:
                if line.too_long:
                    raise BadQuestion(f"a line of {line.too_long:,} bytes or more; the limit is {MAX_INPUT_LINE_BYTES:,}")
                result = answer(index, line.text, exclude=exclude, lessons=lessons)
            except BadQuestion as exc:
                status = 2
                error = {"question": valid_text(line.text.strip()[:200]), "error": str(exc)}
                sys.stdout.write(json_line(error) + "\n" if args.json else f"storybot: {exc}\n")
                continue
            record(result)
            _print_answer(result, args.json, sys.stdout)
        return status


def _server_id(text: str) -> str:
    """A Discord server id as typed after --guild."""
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a server id (the digits Discord shows for it)")
    return text.strip()


def _server_view(settings: Settings, guild: str):
    """What server `guild` hides and what its labels teach (bot/cli/server_view.py); the store is
    read only when asked to, so a plain `ask` never imports it."""
    import asyncio

    from bot.cli.audit import NoAuditLog
    from bot.cli.server_view import server_view

    try:
        return asyncio.run(server_view(settings.db, guild))
    except NoAuditLog as exc:
        raise UsageError(str(exc)) from None


def cmd_repl(args: argparse.Namespace, settings: Settings) -> int:
    from bot.recording import open_recorder
    from bot.cli.repl import run_repl

    index = engine.load(settings)
    with open_recorder(settings, enabled=not args.no_audit) as record:
        return run_repl(index, history=settings.history_file, record=record)


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from retrieval.evaluation import evaluate, load_questions

    if args.leave_out_article:
        from bot.cli.leave_out import leave_out_article

        return leave_out_article(args, settings)
    if args.file is None:
        raise UsageError("eval needs a question set (FILE), or --leave-out-article")
    questions = load_questions(args.file)
    if args.mode == "bm25":
        settings = dataclasses.replace(settings, model="none")
    policy = dataclasses.replace(
        DEFAULT_POLICY,
        fusion=Fusion(args.fusion),
        align=not args.no_align,
        use_thesaurus=not args.no_thesaurus,
        prefer_named_outlet=not args.no_outlets,
    )
    index = engine.load(settings)
    forward = (lambda q: index.dense.encoder.encode([q])) if index.dense is not None else None
    if forward is not None:
        forward("warm up")  # the first pass pays for one-off set-up, as answer()'s first does
        answer(index, "warm up", policy)
    ask, shown = progress.counted(lambda q: answer(index, q, policy), len(questions), "eval")
    with shown:
        report = evaluate(ask, index.corpus, questions,
                          raw_text=lambda doc_id: _raw_text(settings, index, doc_id), forward=forward)
    parts = [index.model or "no model"]
    if index.dense is not None:
        parts += [f"fusion {policy.fusion.value}", "aligned" if policy.align else "not aligned", "fitted scorer"]
    parts.append("thesaurus" if policy.use_thesaurus else "no thesaurus")
    parts.append("named outlets preferred" if policy.prefer_named_outlet else "named outlets not preferred")
    print(f"mode: {index.mode} ({', '.join(parts)}), corpus {index.corpus.version}, file {args.file}")
    print("\n".join(report.lines()))
    return 0 if report.quotes_not_verbatim == 0 and report.quotes_not_contiguous == 0 else 1


def _raw_text(settings: Settings, index, doc_id: str) -> str | None:
    article = index.article(doc_id)
    path = Path(settings.corpus) / article.raw if article.raw else None
    if path is None or not path.is_file():
        return None
    return path.read_text(encoding="utf-8", errors="replace")


def cmd_fit(args: argparse.Namespace, settings: Settings) -> int:
    from retrieval.bank import BANK_FILE, SCORER_FILE
    from retrieval.evaluation import load_questions
    from retrieval.scorer import load_scorer
    from retrieval.scorer_fit import fit

    sets = {str(path): load_questions(path) for path in args.files}
    # Not the corpus's bank: fitting writes a new one (and must work when the old one no
    # longer fits the code).
    index = engine.build(settings, engine.load_model(settings.model, settings.cache), precedents=())
    if index.dense is None:
        raise UsageError("fitting the scorer needs the model (STORYBOT_MODEL is 'none' or it failed to load)")
    folder = args.out or settings.corpus
    scorer = fit(index, sets, folder)
    if args.plain_out:
        # The package's own scorer, for a corpus without a bank: a developer's step.
        write_atomic(args.plain_out, json.dumps(scorer.without_precedents().to_json(), indent=1) + "\n")
    load_scorer.cache_clear()
    count = sum(len(q) for q in sets.values())
    print(f"fitted on {count} questions of {', '.join(sets)}; written to {folder / SCORER_FILE} and {folder / BANK_FILE}"
          + (f", the plain scorer to {args.plain_out}" if args.plain_out else ""))
    for name, head in (("passage", scorer.passage), ("related", scorer.related), ("answerable", scorer.answerable)):
        weights = ", ".join(f"{f} {c:+.2f}" for f, c in zip(head.features, head.coef))
        print(f"{name}: {weights}; intercept {head.intercept:+.2f}")
    return 0


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    """Fine-tune the encoder on the sets' question -> passage pairs (retrieval/finetune.py)."""
    import time

    from retrieval.embeddings import BASE_MODEL
    from retrieval.evaluation import load_questions
    from retrieval.finetune import train_delta

    sets = {str(path): load_questions(path) for path in args.files}
    started = time.perf_counter()
    # The pairs' passages are found in the corpus as loaded; the model trained is always the base.
    index = engine.build(settings, None, precedents=())
    path = train_delta(index, sets, args.out, seed=args.seed)
    print(f"trained on {', '.join(sets)} (seed {args.seed}) in {time.perf_counter() - started:.0f} s; "
          f"written to {path} ({path.stat().st_size / 1e6:.1f} MB); BASE_MODEL is {BASE_MODEL!r}")
    return 0


def cmd_timeline(args: argparse.Namespace, settings: Settings) -> int:
    from retrieval.articles import load_corpus
    from retrieval.timeline import timeline

    for entry in timeline(load_corpus(settings.corpus)):
        print(f"{entry.article.published or 'undated'}  {formatting.article_citation(entry.article)}")
        print(f"    “{entry.quote}”")
    return 0


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    """Build the index and fill the caches now, with progress, so the next start is quick."""
    import time

    started = time.perf_counter()
    index = engine.warm(settings)
    print(f"index ready: {len(index.corpus.articles)} articles, {index.mode} ({index.model or 'no model'}), "
          f"corpus {index.corpus.version}, {time.perf_counter() - started:.1f} s; caches in {settings.cache}")
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.discord_token:
        raise UsageError(
            "DISCORD_TOKEN is not set: put your bot token in .env (see .env.example), "
            "or use `storybot repl` to ask questions without Discord"
        )
    from bot.discord.run import run_bot

    return run_bot(settings)


def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.discord_token:
        raise UsageError("DISCORD_TOKEN is not set: put your bot token in .env (see .env.example)")
    import asyncio

    from bot.discord.run import sync_commands

    outcomes = asyncio.run(sync_commands(settings))
    for outcome in outcomes:
        print(f"{outcome.scope}: {outcome.action} ({outcome.reason})")
    return 1 if any(o.action == "skipped" for o in outcomes) else 0


def cmd_main(args: argparse.Namespace, settings: Settings) -> int:
    """The main job: the Discord bot when a token is configured, the REPL otherwise."""
    if settings.discord_token:
        return cmd_run(args, settings)
    print("No DISCORD_TOKEN configured: starting the local REPL (see .env.example to run the bot).", file=sys.stderr)
    return cmd_repl(args, settings)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="storybot",
        description="Answers questions about one news story by quoting its articles verbatim, with citations.",
    )
    parser.set_defaults(func=cmd_main, no_audit=False)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    ask = sub.add_parser("ask", help="answer one question (or one per line of standard input with '-')")
    ask.add_argument("question", nargs="+", help="the question; '-' reads one question per line from standard input")
    ask.add_argument("--json", action="store_true", help="print one JSON object per answer")
    ask.add_argument("--no-audit", action="store_true", help="do not record the answer in the audit log")
    ask.add_argument("--guild", metavar="ID", type=_server_id,
                     help="answer as server ID's members are answered: without the passages it hides, taught by its "
                          "moderators' labels (recorded as the command line's answer, not in that server's log)")
    ask.set_defaults(func=cmd_ask)

    repl = sub.add_parser("repl", help="ask questions interactively")
    repl.add_argument("--no-audit", action="store_true", help="do not record answers in the audit log")
    repl.set_defaults(func=cmd_repl)

    ev = sub.add_parser("eval", help="score the answers on a JSONL question set")
    ev.add_argument("file", type=Path, nargs="?", help="the question set (not with --leave-out-article)")
    ev.add_argument("--leave-out-article", action="store_true",
                    help="for each article, fit without the questions about it and measure on them (retrieval/leave_out.py)")
    ev.add_argument("--fit", nargs="+", type=Path, help="with --leave-out-article: the sets fitted on (default tests/data/dev*.jsonl)")
    ev.add_argument("--measure", nargs="+", type=Path,
                    help="with --leave-out-article: the sets measured (default the fitted sets and the held-out sets)")
    ev.add_argument("--encoder", choices=("fold", "base", "shipped"), default="fold",
                    help="with --leave-out-article: fine-tune the encoder per fold without the article's questions (fold), "
                         "the base MiniLM (base), or the encoder the package ships (shipped: it saw every article)")
    ev.add_argument("--precedents-against-all", action="store_true",
                    help="with --leave-out-article: precedents count against every article (the engine before issue 18)")
    ev.add_argument("--articles", nargs="+", help="with --leave-out-article: only these folds (article ids)")
    ev.add_argument("--rows", type=Path, help="with --leave-out-article: append each measured question's outcome here (JSONL)")
    ev.add_argument("--mode", choices=("hybrid", "bm25"), default="hybrid", help="bm25 evaluates the fallback")
    ev.add_argument("--fusion", choices=[f.value for f in Fusion], default=DEFAULT_POLICY.fusion.value,
                    help=f"how hybrid combines its scores (default {DEFAULT_POLICY.fusion.value})")
    ev.add_argument("--no-align", action="store_true", help="rank without word-by-word alignment, to measure it")
    ev.add_argument("--no-thesaurus", action="store_true", help="ignore corpus/thesaurus.txt, to measure it")
    ev.add_argument("--no-outlets", action="store_true", help="search all outlets when a question names one, to measure it")
    ev.set_defaults(func=cmd_eval)

    fit_parser = sub.add_parser("fit", help="fit the answer scorer on JSONL question sets, kept as the corpus's precedents "
                                            "(writes scorer.json and precedents.jsonl into the corpus folder)")
    fit_parser.add_argument("files", nargs="+", type=Path, help="the sets, e.g. tests/data/dev*.jsonl")
    fit_parser.add_argument("--out", type=Path, help="the folder to write both files to (default: the corpus folder)")
    fit_parser.add_argument("--plain-out", type=Path, help="also write the scorer without precedents here "
                                                           "(developers: the package's retrieval/scorer.json)")
    fit_parser.set_defaults(func=cmd_fit)

    from retrieval.finetune import DELTA_FILE, SEED

    train = sub.add_parser("train", help="fine-tune the encoder on JSONL question sets (developers: the delta shipped as "
                                         "retrieval/encoder_delta.safetensors)")
    train.add_argument("files", nargs="+", type=Path, help="the sets, e.g. tests/data/dev*.jsonl")
    # No default: the shipped delta is a developer's file in the checkout (retrieval/), never
    # written into an installed package by accident.
    train.add_argument("--out", type=Path, required=True, help=f"where to write the delta (the checkout's is {DELTA_FILE.name} "
                                                                "in retrieval/)")
    train.add_argument("--seed", type=int, default=SEED, help=f"the random seed (default {SEED})")
    train.set_defaults(func=cmd_train)

    timeline_parser = sub.add_parser("timeline", help="the articles by date, each with its first sentence")
    timeline_parser.set_defaults(func=cmd_timeline)

    index_parser = sub.add_parser("index", help="build the index and warm the caches ahead of a start (with progress)")
    index_parser.set_defaults(func=cmd_index)

    run = sub.add_parser("run", help="run the Discord bot (needs DISCORD_TOKEN)")
    run.set_defaults(func=cmd_run)

    sync = sub.add_parser("sync", help="register the slash commands with Discord now (a start syncs only when they changed)")
    sync.set_defaults(func=cmd_sync)

    audit_cli.add_parser(sub)
    corpus_cli.add_parser(sub)
    precedents_cli.add_parser(sub)
    return parser


def _tolerant_output() -> None:
    """Under a strict locale (LANG=C, an ASCII terminal) a character the terminal cannot show
    is replaced rather than ending the program; a closed stream stays None."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None and hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="replace")
            except (ValueError, OSError):
                pass


def _error(exc: BaseException) -> None:
    if sys.stderr is not None:
        print(f"storybot: {shorten_error(str(exc))}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    _library_defaults()
    _tolerant_output()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_module.load()
        bot_job = args.func is cmd_run or (args.func is cmd_main and settings.discord_token)
        _configure_logging(settings.log_level or ("INFO" if bot_job else "WARNING"), bot=bool(bot_job))
        return args.func(args, settings)
    except (BadQuestion, UsageError) as exc:
        _error(exc)
        return 2
    except (StorybotError, BadSetting, OSError) as exc:
        _error(exc)
        return 1
    except KeyboardInterrupt:
        if sys.stderr is not None:
            print(file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - never a traceback to a user; the log keeps it
        log.debug("unexpected error", exc_info=True)
        _error(RuntimeError(f"unexpected {type(exc).__name__}: {exc} (STORYBOT_LOG_LEVEL=DEBUG shows where)"))
        return 1
