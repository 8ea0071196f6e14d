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

`refit OUT.pkl [--sets dev]` refits the passage head on the other folds' rows and replays it;
`ranking OUT.pkl` says where gold ranks and where the wrong first quotes come from;
`answerability OUT.pkl` says how well answerable questions are told from near misses.
bench/results/new_article_levers.md has every figure these print, with the dump each came from.
"""
from __future__ import annotations

import argparse
import dataclasses
import glob
import itertools
import pickle
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retrieval.evidence import ANSWER_FEATURES, PASSAGE_FEATURES
from retrieval.policy import DEFAULT_POLICY


@dataclass(frozen=True)
class Record:
    fold: str
    source: str
    category: str
    forced: str | None  # the status the bar cannot change ("not_covered", "uncertain") or None
    answerable: float
    new: bool
    prob: np.ndarray  # P(candidate answers), per candidate
    gold: np.ndarray  # candidate holds a gold phrase
    same: np.ndarray  # candidate pairs that overlap or say the same thing
    status: str  # what the engine said, for checking the replay
    passage_features: np.ndarray  # what the passage head read, per candidate (PASSAGE_FEATURES)
    answer_features: np.ndarray | None  # what the answer head read (ANSWER_FEATURES); None: no candidate
    question: str  # its set and id: a question about two articles is measured in both folds

    def feature(self, name: str) -> np.ndarray:
        return self.passage_features[:, PASSAGE_FEATURES.index(name)] if len(self.prob) else np.zeros(0)

    @property
    def gap(self) -> np.ndarray:  # the re-rank the shown order starts from
        return self.feature("gap")

    @property
    def unlabelled(self) -> np.ndarray:  # candidate is of the article left out
        return self.feature("article_unlabelled") > 0.5


def dump(out: Path, plain: list[Path] | None = None, *, base_encoder: bool = False) -> None:
    """`plain`: instead of the folds, these sets answered by the shipped encoder without
    precedents (the plain scorer, as a new story's corpus answers), each set as a "fold".
    `base_encoder`: every fold with the base MiniLM instead of its fine-tuned encoder
    (`storybot eval --leave-out-article --encoder base`)."""
    from retrieval.answer import answer_many
    from retrieval.checks import Rule
    from retrieval.deciding import answer_features
    from retrieval.evaluation import holds_gold, load_questions
    from retrieval.finetune import train_delta, tuned_model
    from retrieval.leave_out import Fold, fold_precedents, folds
    from retrieval.quotes import _overlaps, _same_words
    from retrieval.scorer_fit import fitted, with_precedents

    from bot import engine
    from bot.cli.leave_out import FIT_SETS, HELD_OUT_SETS, _base_name
    from bot.settings import load as load_settings

    settings = load_settings()
    fit_files = [Path(p) for p in sorted(glob.glob(FIT_SETS))]
    fit = {str(p): load_questions(p) for p in fit_files}
    measured = {str(p): load_questions(p) for p in [*fit_files, *map(Path, HELD_OUT_SETS)]}
    records: list[Record] = []
    if plain:
        shipped = engine.build(settings, engine.load_model(settings.model, settings.cache), precedents=())
        runs = [(shipped, Fold(str(p), {}, tuple(qs), tuple(str(p) for _ in qs)), shipped)
                for p, qs in ((p, load_questions(p)) for p in plain)]
    else:
        base = engine.build(settings, engine.load_model(_base_name(), settings.cache), precedents=())
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
            probable = tuple(int(k) for k in np.argsort(-s.answers, kind="stable"))
            records.append(Record(fold.article, source, q.category, forced, float(s.answerable), bool(s.new_article),
                                  np.asarray(s.answers, dtype=float),
                                  np.array([q.answerable and holds_gold(p.text, q.gold) for p in passages]), same,
                                  a.status.value, np.asarray(s.evidence.features, dtype=float),
                                  answer_features(s.evidence, s.answers, probable) if probable else None,
                                  f"{source}#{q.id}"))
        print(f"{fold.article}: {len(fold.measured)} questions", file=sys.stderr, flush=True)
    out.write_bytes(pickle.dumps([vars(r) for r in records]))  # plain dicts: readable whatever imports this


@dataclass(frozen=True)
class Bars:
    """The engine's bars (retrieval/policy.py), and two it does not have, to try."""

    min_answer: float = DEFAULT_POLICY.min_answer
    min_answer_new: float = DEFAULT_POLICY.min_answer_new
    min_quote: float = DEFAULT_POLICY.min_quote
    min_quote_new: float | None = None  # None: min_quote
    probability_weight: float = DEFAULT_POLICY.probability_weight
    probability_weight_new: float | None = None  # None: probability_weight
    max_quotes: int = DEFAULT_POLICY.max_quotes


def load(path: Path) -> list[Record]:
    rows = pickle.loads(Path(path).read_bytes())
    if rows and rows[0].get("passage_features") is None:
        raise SystemExit(f"{path}: dumped before the passage features were kept; dump again")
    kept = {f.name for f in dataclasses.fields(Record)}  # an older dump's columns now derived are dropped
    return [Record(**{k: v for k, v in row.items() if k in kept}) for row in rows]


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
        print(f"new bar {bars.min_answer_new:.2f} quote {bars.min_quote:.2f} quote_new {bars.min_quote_new} "
              f"w {bars.probability_weight}: {_line(figures(chosen, bars))}")
    print(f"three quotes in every answer (both quote bars 0): {_line(figures(chosen, Bars(min_quote=0.0, min_quote_new=0.0)))}")
    for bar in (0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7):  # the bar of an article the bank knows (or of no bank)
        print(f"answer bar {bar:.2f}: {_line(figures(chosen, Bars(min_answer=bar)))}")


def _line(found: dict[str, float]) -> str:
    return " ".join(f"{k} {v:.3f}" for k, v in found.items())


def refit(path: Path, sets: str | None = None, *, new_only: bool = False) -> None:
    """The passage head refitted, for each fold, on the other folds' measured rows (features made
    by encoders that never saw the article those rows are about), then replayed at the shipped
    bars. `sets`: only rows of sets whose path holds one of these (comma-separated) are fitted on.
    `new_only`: the refitted head reads only the left-out article's candidates.
    Leakage, said plainly: fold B's encoder was trained on fold A's questions, so A's questions
    reach the head A is measured with through B's features, though never as rows."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    records = load(path)
    usable = lambda r: len(r.prob) > 0 and (sets is None or any(part in r.source for part in sets.split(",")))
    folds = sorted({r.fold for r in records})
    variants = {"answerable": ("answerable",), "answerable and story_unanswered": ("answerable", "story_unanswered")}
    print(f"engine as shipped: {_line(figures(records, Bars()))}")
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
            for r in (r for r in records if r.fold == fold):
                refitted = head.predict_proba(r.passage_features)[:, 1] if len(r.prob) else r.prob
                replaced.append(dataclasses.replace(r, prob=np.where(r.unlabelled, refitted, r.prob) if new_only else refitted))
        print(f"passage head fitted on the other folds' {name} rows{f' of {sets}' if sets else ''}"
              f"{', reading the left-out article only' if new_only else ''}: "
              f"{_line(figures(replaced, Bars()))}")


def ranking(path: Path) -> None:
    """Where gold ranks among the answerable questions' candidates (pooled over the folds, each
    overlap dropped as the quotes drop it), by the shown order at several probability weights,
    and where the first quotes that are not gold come from."""
    answerable = [r for r in load(path) if r.category == "answerable" and len(r.prob)]
    print(f"answerable questions: {len(answerable)}; gold among the candidates: "
          f"{np.mean([r.gold.any() for r in answerable]):.3f}")

    def first_gold(r: Record, key: np.ndarray) -> int | None:
        chosen: list[int] = []
        for k in np.argsort(-key, kind="stable"):
            if not any(r.same[k, c] for c in chosen):
                chosen.append(int(k))
        return next((n for n, k in enumerate(chosen, 1) if r.gold[k]), None)

    for weight in (0.0, 0.5, 1.0, 3.0, 10.0, 100.0):
        ranks = [first_gold(r, r.gap + weight * r.prob) for r in answerable]
        print(f"re-rank + {weight:g} x probability: gold first {np.mean([x == 1 for x in ranks]):.3f}, "
              + ", ".join(f"in the first {n} {np.mean([x is not None and x <= n for x in ranks]):.3f}" for n in (2, 3, 5, 10)))
    print(f"cosine alone: gold first {np.mean([r.gold[int(np.argmax(r.feature('cosine')))] for r in answerable]):.3f}")
    print(f"probability alone: gold first {np.mean([r.gold[int(np.argmax(r.prob))] for r in answerable]):.3f}")
    firsts = [(r, shown[0] if (shown := replay(r, Bars())[1]) else None) for r in answerable]
    wrong = [(r, k) for r, k in firsts if k is None or not r.gold[k]]
    elsewhere = sum(k is not None and not r.unlabelled[k] for r, k in wrong)
    print(f"first quote not gold (or none): {len(wrong)}; of another article than the one left out: {elsewhere}")


def answerability(path: Path) -> None:
    """How well answerable questions are told from story questions the articles don't answer
    (ROC AUC, mean over the folds): the engine's head, and heads refitted on the same answer
    features from the other folds; then each feature alone, on the questions whose best
    candidate is of the article left out."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    story = [r for r in load(path) if r.category in ("answerable", "story_unanswered") and r.forced is None
             and r.answer_features is not None]
    x = np.array([r.answer_features for r in story])
    y = np.array([r.category == "answerable" for r in story])
    folds = np.array([r.fold for r in story])
    heads = {"logistic": lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
             "gradient-boosted trees": lambda: HistGradientBoostingClassifier(max_depth=3, max_iter=200, learning_rate=0.05)}
    found = {"engine": [], **{name: [] for name in heads}}
    for fold in sorted(set(folds)):
        train, test = folds != fold, folds == fold
        found["engine"].append(roc_auc_score(y[test], [r.answerable for r, t in zip(story, test) if t]))
        for name, make in heads.items():
            found[name].append(roc_auc_score(y[test], make().fit(x[train], y[train]).predict_proba(x[test])[:, 1]))
    for name, aucs in found.items():
        print(f"{name}: AUC {np.mean(aucs):.3f} ({', '.join(f'{a:.3f}' for a in aucs)})")
    new = np.array([r.new for r in story])
    for n, name in enumerate(ANSWER_FEATURES):
        column = x[new, n]
        if column.std() > 0:
            print(f"  {name}: AUC {roc_auc_score(y[new], column):.3f} (new article's best candidate)")


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
    r.add_argument("--sets", help="fit only on rows of sets whose path holds one of these (e.g. /dev)")
    r.add_argument("--new-only", action="store_true", help="the refitted head reads only the left-out article's candidates")
    for name in ("ranking", "answerability"):
        sub.add_parser(name).add_argument("records", type=Path)
    args = parser.parse_args(argv)
    if args.command == "dump":
        dump(args.out, args.plain, base_encoder=args.base_encoder)
    elif args.command == "refit":
        refit(args.records, args.sets, new_only=args.new_only)
    elif args.command == "ranking":
        ranking(args.records)
    elif args.command == "answerability":
        answerability(args.records)
    else:
        sweep(args.records, args.sets)
    return 0


if __name__ == "__main__":
    sys.exit(main())
