"""`storybot eval --leave-out-article`: the measure of a corpus that grows (retrieval/leave_out.py)."""
from __future__ import annotations

import argparse
import glob
import json
import sys
import time
from pathlib import Path

from retrieval.evaluation import load_questions
from retrieval.leave_out import FoldResult, folds, run_fold, table

from bot import engine
from bot.settings import Settings

FIT_SETS = "tests/data/dev*.jsonl"
HELD_OUT_SETS = ("tests/data/holdout.jsonl", "tests/data/holdout2.jsonl", "tests/data/blind1.jsonl", "tests/data/blind2.jsonl")


def leave_out_article(args: argparse.Namespace, settings: Settings) -> int:
    fit_files = args.fit or [Path(p) for p in sorted(glob.glob(FIT_SETS))]
    measure_files = args.measure or [*fit_files, *(Path(p) for p in HELD_OUT_SETS)]
    fit = {str(p): load_questions(p) for p in fit_files}
    measured = {str(p): load_questions(p) for p in measure_files}
    base_model = {"base": _base_name(), "shipped": settings.model}.get(args.encoder, _base_name())
    base = engine.build(settings, engine.load_model(base_model, settings.cache), precedents=())
    if base.dense is None:
        from bot.cli import UsageError

        raise UsageError("--leave-out-article needs the model (STORYBOT_MODEL is 'none' or it failed to load)")
    results: list[FoldResult] = []
    for fold in folds(base, fit, measured):
        if args.articles and fold.article not in args.articles:
            continue
        started = time.perf_counter()
        index = base
        if args.encoder == "fold":
            from retrieval.finetune import train_delta, tuned_model

            delta = settings.cache / "leave-out" / f"{fold.article}.safetensors"
            train_delta(base, fold.fit, delta, reuse=True)
            index = engine.build(settings, engine.load_model(str(tuned_model(delta, settings.cache / "models")), settings.cache), precedents=())
        result = run_fold(index, fold, label_against=not args.precedents_against_all,
                          raw_text=lambda doc_id, index=index: _raw(settings, index, doc_id))
        results.append(result)
        if args.rows:
            with open(args.rows, "a", encoding="utf-8") as out:
                out.writelines(json.dumps(row) + "\n" for row in result.rows)
        print(f"{fold.article}: {json.dumps({k: round(v, 3) for k, v in result.figures().items()})} "
              f"({len(fold.measured)} questions, {time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
    print(f"leave one article out: encoder {args.encoder}, precedents "
          f"{'against every article' if args.precedents_against_all else 'against the articles they were labelled on'}; "
          f"fitted on {', '.join(map(str, fit_files))}; measured on {', '.join(map(str, measure_files))}")
    print("\n".join(table(results)))
    return 0


def _base_name() -> str:
    from retrieval.embeddings import BASE_MODEL

    return BASE_MODEL


def _raw(settings: Settings, index, doc_id: str) -> str | None:
    article = index.article(doc_id)
    path = Path(settings.corpus) / article.raw if article.raw else None
    return path.read_text(encoding="utf-8", errors="replace") if path is not None and path.is_file() else None
