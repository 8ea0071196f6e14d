"""What the bars on quotes and answers do for an article just added, without rerunning the engine.

`python -m bench.quote_choice dump OUT.pkl` runs the leave-one-article-out folds as
`storybot eval --leave-out-article` does (fold encoders from corpus/.cache/leave-out, trained
there when missing) and keeps, for every measured question, what the engine decided from: the
scorer's probabilities and the re-rank of its 30 candidates, which of them hold a gold phrase,
which pairs of them say the same thing, P(answerable) and its bar, and the rules that decide
the status whatever the bar (request, unrelated, a contradicted premise).

`python -m bench.quote_choice sweep OUT.pkl [--sets holdout]` replays retrieval/deciding.py's
`choose` and the answer bar over those records for a grid of bars and prints the fold means of
hit@3, hit@1, answered, gold share and hedged: the rows of the held-out sets to choose by, and
every row to report. It replays; `storybot eval --leave-out-article` measures: a bar chosen here
is then measured there.
"""
from __future__ import annotations

import argparse
import itertools
import pickle
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Record:
    fold: str
    source: str
    category: str
    forced: str | None  # the status the bar cannot change ("not_covered", "uncertain") or None
    answerable: float
    new: bool
    prob: np.ndarray  # P(candidate answers), per candidate
    gap: np.ndarray  # the re-rank the shown order starts from, per candidate
    gold: np.ndarray  # candidate holds a gold phrase
    same: np.ndarray  # candidate pairs that overlap or say the same thing
    status: str  # what the engine said, for checking the replay
    unlabelled: np.ndarray = None  # candidate is of the article left out
    cosine: np.ndarray = None  # the question's sentence vector with the candidate's
    answer_features: np.ndarray = None  # what the answer head read (ANSWER_FEATURES)
    passage_features: np.ndarray = None  # what the passage head read, per candidate (PASSAGE_FEATURES)
    question: str = None  # its set and id: a question about two articles is measured in both folds


def dump(out: Path, plain: list[Path] | None = None, *, base_encoder: bool = False) -> None:
    """`plain`: instead of the folds, these sets answered by the shipped encoder without
    precedents (the plain scorer, as a new story's corpus answers), each set as a "fold".
    `base_encoder`: every fold with the base MiniLM instead of its fine-tuned encoder
    (`storybot eval --leave-out-article --encoder base`)."""
    from retrieval.answer import answer_many
    from retrieval.checks import Rule
    from retrieval.deciding import answer_features
    from retrieval.evaluation import holds_gold
    from retrieval.evidence import PASSAGE_FEATURES
    from retrieval.finetune import train_delta, tuned_model
    from retrieval.leave_out import fold_precedents, folds
    from retrieval.evaluation import load_questions
    from retrieval.quotes import _overlaps, _same_words
    from retrieval.scorer_fit import fitted, with_precedents

    from bot import engine
    from bot.cli.leave_out import FIT_SETS, HELD_OUT_SETS, _base_name
    from bot.settings import load as load_settings
    import glob

    settings = load_settings()
    fit_files = [Path(p) for p in sorted(glob.glob(FIT_SETS))]
    fit = {str(p): load_questions(p) for p in fit_files}
    measured = {str(p): load_questions(p) for p in [*fit_files, *map(Path, HELD_OUT_SETS)]}
    base = engine.build(settings, engine.load_model(_base_name(), settings.cache), precedents=())
    gap = PASSAGE_FEATURES.index("gap")
    records: list[Record] = []
    if plain:
        from retrieval.leave_out import Fold

        shipped = engine.build(settings, engine.load_model(settings.model, settings.cache), precedents=())
        runs = [(shipped, Fold(str(p), {}, tuple(qs), tuple(str(p) for _ in qs)), shipped)
                for p, qs in ((p, load_questions(p)) for p in plain)]
    else:
        runs = []
        for fold in folds(base, fit, measured):
            index = base
            if not base_encoder:
                delta = settings.cache / "leave-out" / f"{fold.article}.safetensors"
                train_delta(base, fold.fit, delta, reuse=True)
                index = engine.build(settings, engine.load_model(str(tuned_model(delta, settings.cache / "models")),
                                                                 settings.cache), precedents=())
            precedents = fold_precedents(index, fold)
            reading = with_precedents(index, precedents)
            runs.append((index, fold, reading.reading(reading.memory, fitted(index, fold.fit, precedents))))
    for index, fold, reading in runs:
        for source, q in zip(fold.sources, fold.measured):
            scored: list = []
            a = answer_many(reading, [q.question], scored_out=scored)[0]
            s = scored[0]
            fired = {c.rule for c in a.checks if c.fired}
            forced = ("not_covered" if fired & {Rule.REQUEST, Rule.UNRELATED} or not s.order
                      else "uncertain" if Rule.PREMISE in fired else None)
            passages = [reading.passages[i] for i in s.evidence.candidates]
            n = len(passages)
            same = np.zeros((n, n), dtype=bool)
            for i, j in itertools.combinations(range(n), 2):
                same[i, j] = same[j, i] = _overlaps(passages[i], passages[j]) or _same_words(passages[i], passages[j])
            records.append(Record(fold.article, source, q.category, forced, float(s.answerable), bool(s.new_article),
                                  np.asarray(s.answers, dtype=float), np.asarray(s.evidence.features[:, gap], dtype=float),
                                  np.array([q.answerable and holds_gold(p.text, q.gold) for p in passages]), same,
                                  a.status.value,
                                  np.asarray(s.evidence.features[:, PASSAGE_FEATURES.index("article_unlabelled")] > 0.5),
                                  np.asarray(s.evidence.features[:, PASSAGE_FEATURES.index("cosine")], dtype=float),
                                  answer_features(s.evidence, s.answers, tuple(int(k) for k in np.argsort(-s.answers, kind="stable")))
                                  if len(s.answers) else None,
                                  np.asarray(s.evidence.features, dtype=float), f"{source}#{q.id}"))
        print(f"{fold.article}: {len(fold.measured)} questions", file=sys.stderr, flush=True)
    out.write_bytes(pickle.dumps([vars(r) for r in records]))  # plain dicts: readable whatever imports this


@dataclass(frozen=True)
class Bars:
    min_answer: float = 0.45
    min_answer_new: float = 0.5
    min_quote: float = 0.4
    min_quote_new: float | None = None  # None: min_quote
    probability_weight: float = 3.0
    probability_weight_new: float | None = None  # None: probability_weight
    max_quotes: int = 3


def load(path: Path) -> list[Record]:
    return [Record(**row) for row in pickle.loads(Path(path).read_bytes())]


def replay(r: Record, bars: Bars) -> tuple[str, list[int]]:
    """The status and the candidates shown, as deciding.check and deciding.choose make them."""
    weight = bars.probability_weight_new if (r.new and bars.probability_weight_new is not None) else bars.probability_weight
    order = np.argsort(-(r.gap + weight * r.prob), kind="stable")
    bar = bars.min_answer_new if r.new else bars.min_answer
    status = r.forced or ("answered" if r.answerable >= bar else "uncertain")
    if status == "not_covered":
        return status, []
    quote_bar = bars.min_quote_new if (r.new and bars.min_quote_new is not None) else bars.min_quote
    floor = 0.0 if status == "uncertain" else min(quote_bar, bar)
    chosen: list[int] = []
    for k in order:
        if len(chosen) >= bars.max_quotes:
            break
        if chosen and r.prob[k] < floor:
            continue
        if any(r.same[k, c] for c in chosen):
            continue
        chosen.append(int(k))
    return status, chosen


def figures(records: list[Record], bars: Bars) -> dict[str, float]:
    per_fold: dict[str, dict[str, list]] = {}
    for r in records:
        f = per_fold.setdefault(r.fold, {"rank": [], "answered": [], "shown": [], "gold": [], "hedged": []})
        status, chosen = replay(r, bars)
        if r.category == "answerable":
            rank = next((n for n, k in enumerate(chosen, 1) if r.gold[k]), None)
            f["rank"].append(rank)
            f["answered"].append(status == "answered")
            if status == "answered":
                f["shown"].append(len(chosen))
                f["gold"].append(int(sum(r.gold[k] for k in chosen)))
        elif r.category == "story_unanswered":
            f["hedged"].append(status != "answered")
    out = {"hit@3": [], "hit@1": [], "answered": [], "gold share": [], "hedged": []}
    for f in per_fold.values():
        ranks = f["rank"]
        out["hit@3"].append(np.mean([x is not None and x <= 3 for x in ranks]))
        out["hit@1"].append(np.mean([x == 1 for x in ranks]))
        out["answered"].append(np.mean(f["answered"]))
        out["gold share"].append(sum(f["gold"]) / max(sum(f["shown"]), 1))
        out["hedged"].append(np.mean(f["hedged"]) if f["hedged"] else 0.0)
    return {k: float(np.mean(v)) for k, v in out.items()}


def sweep(path: Path, sets: str | None) -> None:
    records = load(path)
    agree = sum(replay(r, Bars())[0] == r.status for r in records)
    print(f"replay agrees with the engine's status on {agree}/{len(records)} questions")
    chosen = [r for r in records if sets is None or any(s in r.source for s in sets.split(","))]
    print(f"rows: {len(chosen)} ({sets or 'all'})")
    grid = [Bars(min_answer_new=a, min_quote=q, min_quote_new=qn, probability_weight=w)
            for a in (0.4, 0.45, 0.5) for q in (0.4,) for qn in (None, 0.05, 0.1, 0.2, 0.3)
            for w in (3.0,)]
    for bars in grid:
        f = figures(chosen, bars)
        print(f"new bar {bars.min_answer_new:.2f} quote {bars.min_quote:.2f} quote_new {bars.min_quote_new} w {bars.probability_weight}: "
              + " ".join(f"{k} {v:.3f}" for k, v in f.items()))


def refit(path: Path) -> None:
    """The passage head refitted, for each fold, on the other folds' measured rows (features made
    by encoders that never saw the article those rows are about), then replayed at the shipped
    bars. Leakage, said plainly: fold B's encoder was trained on fold A's questions, so A's
    questions reach the head A is measured with through B's features, though never as rows."""
    import dataclasses

    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    records = load(path)
    if any(r.passage_features is None for r in records):
        raise SystemExit(f"{path}: dumped before the passage features were kept; dump again")
    usable = lambda r: len(r.prob) > 0
    folds = sorted({r.fold for r in records})
    variants = {"answerable": ("answerable",), "answerable and story_unanswered": ("answerable", "story_unanswered")}
    print("engine as shipped: " + " ".join(f"{k} {v:.3f}" for k, v in figures(records, Bars()).items()))
    for name, categories in variants.items():
        replaced = []
        for fold in folds:
            # Not a question measured in this fold too (one about two articles): its gold would be
            # fitted on and measured.
            measured = {r.question for r in records if r.fold == fold}
            rows = [r for r in records if r.fold != fold and r.category in categories and usable(r)
                    and r.question not in measured]
            head = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000)).fit(
                np.vstack([r.passage_features for r in rows]), np.concatenate([r.gold for r in rows]).astype(int))
            replaced += [dataclasses.replace(r, prob=head.predict_proba(r.passage_features)[:, 1]) if usable(r) else r
                         for r in records if r.fold == fold]
        print(f"passage head fitted on the other folds' {name} rows: "
              + " ".join(f"{k} {v:.3f}" for k, v in figures(replaced, Bars()).items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.quote_choice")
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out", type=Path)
    d.add_argument("--plain", nargs="+", type=Path, help="these sets, without precedents, instead of the folds")
    d.add_argument("--base-encoder", action="store_true", help="the folds with the base MiniLM, not fine-tuned")
    s = sub.add_parser("sweep")
    s.add_argument("records", type=Path)
    s.add_argument("--sets", help="comma-separated parts of set paths to keep (e.g. holdout,blind1,blind2)")
    r = sub.add_parser("refit")
    r.add_argument("records", type=Path)
    args = parser.parse_args(argv)
    if args.command == "dump":
        dump(args.out, args.plain, base_encoder=args.base_encoder)
    elif args.command == "refit":
        refit(args.records)
    else:
        sweep(args.records, args.sets)
    return 0


if __name__ == "__main__":
    sys.exit(main())
