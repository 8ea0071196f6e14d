"""Feasibility: does a small cross-encoder help on an article the engine has never seen?

    nice -n 19 .venv/bin/python -m bench.cross_encoder --articles unknown-2021-02 lbc-2021-02-25

For each named leave-out fold (retrieval/leave_out.py's folds, so the split is exactly
`storybot eval --leave-out-article`'s):

1. a cross-encoder (sentence_transformers.CrossEncoder, num_labels=1, from the base MiniLM
   folder) is trained for one bounded epoch on the fold's fitting questions only: (question,
   passage) pairs, positive when the passage holds a gold phrase, negatives the question's
   other top candidates as the fold's engine ranks them, and story_unanswered questions with
   their top candidates;
2. the fold's measured questions (about the left-out article) are answered by the fold's
   engine (run_fold's steps: its encoder, scorer and precedents); the top 10 candidates in the
   engine's shown order are re-ranked by the cross-encoder, and by a blend with the engine's
   own key; hit@1 / hit@3 over the candidate list before and after;
3. how well the best cross-encoder score of a question separates answerable from
   story_unanswered questions (ROC AUC), against the engine's P(answerable), and answered /
   hedged at a bar chosen on the OTHER fold (never on the fold itself);
4. the cost: the cross-encoder on 10 pairs per question (torch, and ONNX Runtime if the export
   works) against one bare forward pass of the question on the engine's ONNX encoder.

A measurement, not the engine: nothing here changes a shipped file. Measured sets are dev*
(their questions about the article, which the fold never fits on) and holdout*; blind sets
are not read at all. Writes its figures as JSON to --out and a table to stdout.
"""
from __future__ import annotations

import argparse
import glob
import json
import pickle
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from bench.common import quiet

FIT_SETS = "tests/data/dev*.jsonl"
HELD_OUT = ("tests/data/holdout.jsonl", "tests/data/holdout2.jsonl")
TOP = 10  # candidates re-ranked per question
NEGATIVES = 4  # hard negatives per answerable question
UNANSWERED_NEGATIVES = 3  # top candidates of a story question the articles don't answer
MAX_PAIRS = 7000  # bounds the epoch (about 5 min under nice on the shared 2-core machine)
MAX_LENGTH = 160
BATCH = 16
RATE = 3e-5
SEED = 18
BLENDS = (0.5, 1.0, 2.0, 4.0)  # weight of the cross-encoder's probability added to the engine's key


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def engine_run(index, fold, questions):
    """The fold's engine (as run_fold builds it) answering `questions`: Scored and Answer per question."""
    from retrieval.answer import answer_many
    from retrieval.leave_out import fold_precedents
    from retrieval.scorer_fit import fitted, with_precedents

    precedents = fold_precedents(index, fold)
    scorer = fitted(index, fold.fit, precedents)
    remembering = with_precedents(index, precedents)
    reading = remembering.reading(remembering.memory, scorer)
    scored: list = []
    answers = answer_many(reading, [q.question for q in questions], scored_out=scored)
    return reading, scored, answers


def engine_key(scored) -> np.ndarray:
    """The key the engine shows candidates by (deciding.shown_order)."""
    from retrieval.evidence import PASSAGE_FEATURES
    from retrieval.policy import DEFAULT_POLICY

    return scored.evidence.features[:, PASSAGE_FEATURES.index("gap")] + DEFAULT_POLICY.probability_weight * scored.answers


def top_candidates(scored, n: int = TOP) -> list[int]:
    """Positions (into evidence.candidates) of the first n in the engine's shown order."""
    return list(scored.order[:n])


def training_pairs(index, fold, scored_fit, fit_questions, rng, limit: int = MAX_PAIRS):
    from retrieval.evaluation import _folded

    folded = [_folded(p.text) for p in index.passages]
    pairs: list[tuple[str, str, float]] = []
    for q, s in zip(fit_questions, scored_fit):
        tops = [s.evidence.candidates[k] for k in top_candidates(s)]
        read = s.evidence.read
        if q.category == "answerable":
            gold = [_folded(g) for g in q.gold if g.strip()]
            holding = [p for p, text in enumerate(folded) if any(g in text for g in gold)]
            if not holding:
                continue
            positives = {p for p in tops if p in holding}
            positives.add(min(holding, key=lambda p: len(index.passages[p].text)))
            negatives = [p for p in tops if p not in holding][:NEGATIVES]
            pairs += [(read, index.passages[p].text, 1.0) for p in sorted(positives)]
            pairs += [(read, index.passages[p].text, 0.0) for p in negatives]
        elif q.category == "story_unanswered":
            pairs += [(read, index.passages[p].text, 0.0) for p in tops[:UNANSWERED_NEGATIVES]]
    return [pairs[i] for i in rng.permutation(len(pairs))[:limit]]


def train_cross_encoder(base: Path, pairs, seconds: float, *, rate: float = RATE, frozen: int = 0):
    """One epoch of binary cross-entropy on the pairs, stopped at `seconds`. `frozen`: the word
    embeddings and this many lowest transformer layers are not trained (each step is cheaper)."""
    import torch
    from sentence_transformers import CrossEncoder

    torch.manual_seed(SEED)
    ce = CrossEncoder(str(base), num_labels=1, max_length=MAX_LENGTH, device="cpu", local_files_only=True,
                      # eager attention: what retrieval/onnx_export.py traces (sdpa's padding test traces to a constant)
                      model_kwargs={"attn_implementation": "eager"})
    model, tokenizer = ce.model, ce.tokenizer
    if frozen:
        for name, parameter in model.named_parameters():
            if name.startswith("bert.embeddings.") or any(name.startswith(f"bert.encoder.layer.{i}.") for i in range(frozen)):
                parameter.requires_grad = False
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=rate)
    steps = (len(pairs) + BATCH - 1) // BATCH
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (steps - step) / max(1, steps - warmup))))
    loss_fn = torch.nn.BCEWithLogitsLoss()
    started = time.perf_counter()
    done = 0
    for step in range(steps):
        batch = pairs[step * BATCH:(step + 1) * BATCH]
        features = tokenizer([q for q, _, _ in batch], [p for _, p, _ in batch], padding=True, truncation=True,
                             max_length=MAX_LENGTH, return_tensors="pt")
        logits = model(**features).logits.view(-1)
        loss = loss_fn(logits, torch.tensor([y for _, _, y in batch], dtype=torch.float32))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        done += len(batch)
        if step % 50 == 0:
            log(f"  step {step}/{steps} loss {loss.item():.3f}")
        if time.perf_counter() - started > seconds:
            log(f"  stopped at the time bound after {done} pairs")
            break
    model.eval()
    return ce, {"pairs": len(pairs), "trained_pairs": done, "seconds": round(time.perf_counter() - started, 1),
                "rate": rate, "frozen_layers": frozen, "max_length": MAX_LENGTH, "batch": BATCH}


def ce_scores(ce, pairs) -> np.ndarray:
    """Logits of the cross-encoder for (question, passage) pairs."""
    import torch

    with torch.no_grad():
        return np.asarray(ce.predict(pairs, batch_size=64, activation_fn=torch.nn.Identity(), show_progress_bar=False),
                          dtype=np.float64).reshape(-1)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def auc(positive: list[float], negative: list[float]) -> float:
    """ROC AUC: the chance a random positive scores above a random negative (ties count half)."""
    if not positive or not negative:
        return float("nan")
    p, n = np.asarray(positive)[:, None], np.asarray(negative)[None, :]
    return float(((p > n).sum() + 0.5 * (p == n).sum()) / (p.size * n.size))


def engine_rows(index, fold, scored, answers):
    """Per measured question: the engine's top candidates (texts, gold flags, key) and decision."""
    from retrieval.evaluation import gold_rank, holds_gold

    rows = []
    for q, s, a in zip(fold.measured, scored, answers):
        if q.category not in ("answerable", "story_unanswered"):
            continue
        tops = top_candidates(s)
        passages = [s.evidence.candidates[k] for k in tops]
        key = engine_key(s)[tops] if tops else np.zeros(0)
        rows.append({"id": q.id, "category": q.category, "status": a.status.value, "answerable_p": s.answerable,
                     "engine_rank": gold_rank(a, q.gold) if q.category == "answerable" else None,
                     "read": s.evidence.read, "texts": [index.passages[p].text for p in passages],
                     "gold": [bool(q.category == "answerable" and holds_gold(index.passages[p].text, q.gold)) for p in passages],
                     "key": key.tolist()})
    return rows


def with_scores(ce, rows):
    return [{**r, "ce": ce_scores(ce, [(r["read"], t) for t in r["texts"]]).tolist() if r["texts"] else []} for r in rows]


def hits(rows, order_of) -> dict[str, float]:
    answerable = [r for r in rows if r["category"] == "answerable"]
    ranks = []
    for r in answerable:
        order = order_of(r)
        ranked = [r["gold"][k] for k in order]
        ranks.append(ranked.index(True) + 1 if True in ranked else None)
    n = max(len(ranks), 1)
    return {"hit@1": sum(x == 1 for x in ranks) / n, "hit@3": sum(x is not None and x <= 3 for x in ranks) / n,
            "gold in top 10": sum(x is not None for x in ranks) / n}


def orders(blend: float | None):
    def engine(r):
        return list(range(len(r["gold"])))

    def cross(r):
        return list(np.argsort(-np.asarray(r["ce"]), kind="stable"))

    def blended(r):
        return list(np.argsort(-(np.asarray(r["key"]) + blend * sigmoid(np.asarray(r["ce"]))), kind="stable"))

    return engine if blend is None else (cross if blend == float("inf") else blended)


def separation(rows) -> dict:
    best = {r["id"] + r["category"]: (max(r["ce"]) if r["ce"] else -1e9) for r in rows}
    pos = [r for r in rows if r["category"] == "answerable"]
    neg = [r for r in rows if r["category"] == "story_unanswered"]
    return {
        "auc_cross_encoder": auc([best[r["id"] + r["category"]] for r in pos], [best[r["id"] + r["category"]] for r in neg]),
        "auc_engine": auc([r["answerable_p"] for r in pos], [r["answerable_p"] for r in neg]),
        "engine_answered": sum(r["status"] == "answered" for r in pos) / max(len(pos), 1),
        "engine_hedged": sum(r["status"] != "answered" for r in neg) / max(len(neg), 1),
    }


def best_score(r) -> float:
    return max(r["ce"]) if r["ce"] else -1e9


def at_bar(rows, bar: float) -> dict:
    pos = [r for r in rows if r["category"] == "answerable"]
    neg = [r for r in rows if r["category"] == "story_unanswered"]
    return {"bar": bar, "answered": sum(best_score(r) >= bar for r in pos) / max(len(pos), 1),
            "hedged": sum(best_score(r) < bar for r in neg) / max(len(neg), 1)}


def choose_bar(rows) -> float:
    """The bar on the best cross-encoder logit maximising min(answered, hedged) on `rows`."""
    values = sorted({best_score(r) for r in rows})
    candidates = [(a + b) / 2 for a, b in zip(values, values[1:])] or values
    return max(candidates, key=lambda t: (min(at_bar(rows, t)["answered"], at_bar(rows, t)["hedged"]),
                                          at_bar(rows, t)["answered"] + at_bar(rows, t)["hedged"]))


def costs(encode, ce, rows, folder: Path) -> dict:
    """Median ms per question: bare ONNX pass of the question (the engine's encoder); the
    cross-encoder on its 10 pairs (torch, ONNX Runtime)."""
    import torch

    sample = [r for r in rows if len(r["texts"]) >= TOP][:40]
    groups = [[(r["read"], t) for t in r["texts"]] for r in sample]

    def median_ms(fn, items) -> float:
        for item in items[:3]:
            fn(item)
        times = []
        for item in items:
            t = time.perf_counter()
            fn(item)
            times.append((time.perf_counter() - t) * 1000)
        return round(statistics.median(times), 2)

    threads = torch.get_num_threads()
    out = {"questions": len(sample), "torch_threads": threads,
           "bare_pass_onnx_ms": median_ms(lambda r: encode([r["read"]]), sample)}
    torch.set_num_threads(1)
    out["ce_torch_10_pairs_ms_1_thread"] = median_ms(lambda g: ce_scores(ce, g), groups)
    torch.set_num_threads(threads)
    out["ce_torch_10_pairs_ms"] = median_ms(lambda g: ce_scores(ce, g), groups)
    try:
        session, tokenizer = export_onnx(ce, folder)
        out["ce_onnx_10_pairs_ms_1_thread"] = median_ms(lambda g: onnx_scores(session, tokenizer, g), groups)
        diff = max(float(np.max(np.abs(onnx_scores(session, tokenizer, g) - ce_scores(ce, g)))) for g in groups[:5])
        out["ce_onnx_vs_torch_max_abs_diff"] = diff
    except Exception as exc:  # a feasibility figure: say why it is missing rather than stop
        out["ce_onnx_error"] = f"{type(exc).__name__}: {exc}"[:300]
    return out


def export_onnx(ce, folder: Path):
    import onnxruntime
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "cross_encoder.onnx"
    model = ce.model

    class Logits(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).logits

    sample = torch.ones((2, 8), dtype=torch.long)
    axes = {0: "batch", 1: "pieces"}
    with torch.no_grad():
        torch.onnx.export(Logits(), (sample, sample, torch.zeros_like(sample)), str(path), dynamo=False, opset_version=14,
                          input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["logits"],
                          dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "logits": {0: "batch"}})
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"]), ce.tokenizer


def onnx_scores(session, tokenizer, pairs) -> np.ndarray:
    features = tokenizer([q for q, _ in pairs], [p for _, p in pairs], padding=True, truncation=True,
                         max_length=MAX_LENGTH, return_tensors="np")
    feed = {k: features[k].astype(np.int64) for k in ("input_ids", "attention_mask", "token_type_ids")}
    return session.run(["logits"], feed)[0].reshape(-1).astype(np.float64)


def main(argv=None) -> int:
    global MAX_LENGTH
    quiet()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", nargs="+", default=["unknown-2021-02", "lbc-2021-02-25"])
    parser.add_argument("--train-seconds", type=float, default=300.0)
    parser.add_argument("--max-pairs", type=int, default=MAX_PAIRS, help="pairs of the one epoch (a random subset)")
    parser.add_argument("--rate", type=float, default=RATE)
    parser.add_argument("--frozen-layers", type=int, default=0)
    parser.add_argument("--max-length", type=int, default=MAX_LENGTH, help="word pieces of a (question, passage) pair")
    parser.add_argument("--reuse-engine", action="store_true",
                        help="read the fold's engine candidates from bench/.work/cross_encoder/ when a run left them")
    parser.add_argument("--out", type=Path, default=Path("bench/.work/cross_encoder.json"))
    args = parser.parse_args(argv)
    MAX_LENGTH = args.max_length

    from bot import engine
    from bot.settings import load as load_settings
    from retrieval.embeddings import BASE_MODEL, resolve_model
    from retrieval.evaluation import load_questions
    from retrieval.finetune import train_delta, tuned_model
    from retrieval.answer import answer_many
    from retrieval.leave_out import folds

    settings = load_settings(Path.cwd())
    fit_files = sorted(glob.glob(FIT_SETS))
    fit = {p: load_questions(Path(p)) for p in fit_files}
    measured = {p: load_questions(Path(p)) for p in [*fit_files, *HELD_OUT]}
    base_folder = Path(resolve_model(BASE_MODEL))
    base = engine.build(settings, engine.load_model(BASE_MODEL, settings.cache), precedents=())
    results: dict[str, dict] = {}
    all_rows: dict[str, list] = {}
    for fold in folds(base, fit, measured):
        if fold.article not in args.articles:
            continue
        log(f"fold {fold.article}: {len(fold.measured)} measured questions")
        cached = Path("bench/.work/cross_encoder") / fold.article / "engine.pkl"
        if cached.is_file() and args.reuse_engine:
            rows, all_pairs = pickle.loads(cached.read_bytes())
        else:
            delta = settings.cache / "leave-out" / f"{fold.article}.safetensors"
            train_delta(base, fold.fit, delta, reuse=True)
            index = engine.build(settings, engine.load_model(str(tuned_model(delta, settings.cache / "models")), settings.cache),
                                 precedents=())
            fit_questions = [q for qs in fold.fit.values() for q in qs if q.category in ("answerable", "story_unanswered")]
            started = time.perf_counter()
            reading, scored, answers = engine_run(index, fold, list(fold.measured))
            # The fold's fitting questions through the same engine, for their top candidates (hard negatives).
            scored_fit: list = []
            answer_many(reading, [q.question for q in fit_questions], scored_out=scored_fit)
            log(f"  engine: {time.perf_counter() - started:.0f} s")
            rows = engine_rows(index, fold, scored, answers)
            all_pairs = training_pairs(index, fold, scored_fit, fit_questions, np.random.default_rng(SEED), 10**9)
            cached.parent.mkdir(parents=True, exist_ok=True)
            cached.write_bytes(pickle.dumps((rows, all_pairs)))
        pairs = [all_pairs[i] for i in np.random.default_rng(SEED).permutation(len(all_pairs))[:args.max_pairs]]
        log(f"  {len(pairs)} training pairs of {len(all_pairs)} ({sum(y for _, _, y in pairs):.0f} positive)")
        ce, info = train_cross_encoder(base_folder, pairs, args.train_seconds, rate=args.rate,
                                       frozen=args.frozen_layers)
        rows = with_scores(ce, rows)
        all_rows[fold.article] = rows
        figures = {"training": info, "answerable": sum(r["category"] == "answerable" for r in rows),
                   "unanswered": sum(r["category"] == "story_unanswered" for r in rows),
                   "engine_reported": {
                       "hit@1": sum(r["engine_rank"] == 1 for r in rows if r["category"] == "answerable") / max(1, sum(r["category"] == "answerable" for r in rows)),
                       "hit@3": sum(r["engine_rank"] is not None and r["engine_rank"] <= 3 for r in rows if r["category"] == "answerable") / max(1, sum(r["category"] == "answerable" for r in rows))},
                   "rerank": {"engine top 10 order": hits(rows, orders(None)), "cross-encoder": hits(rows, orders(float("inf"))),
                              **{f"blend {w}": hits(rows, orders(w)) for w in BLENDS}},
                   "separation": separation(rows)}
        figures["cost"] = costs(base.dense.encoder.encode, ce, rows, Path("bench/.work/cross_encoder") / fold.article)
        results[fold.article] = figures
        log(json.dumps(figures))
        del ce
    # Bars chosen on the other fold (never on the fold itself).
    names = list(results)
    for name in names:
        others = [n for n in names if n != name]
        if others:
            bar = choose_bar([r for n in others for r in all_rows[n]])
            results[name]["separation"]["cross_encoder_at_other_fold_bar"] = at_bar(all_rows[name], bar)
        results[name]["separation"]["cross_encoder_at_own_bar_NOT_EVIDENCE"] = at_bar(all_rows[name], choose_bar(all_rows[name]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"results": results, "rows": all_rows}, indent=1))
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
