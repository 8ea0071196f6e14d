"""`storybot eval`'s figures with the encoder on ONNX Runtime and on torch, side by side.

    .venv/bin/python -m bench.runtimes tests/data/holdout2.jsonl tests/data/blind8.jsonl [--int8]

Each set is answered from two indexes built from the same corpus and caches, one whose vectors
come from the ONNX file (what every answering process uses) and one from sentence-transformers
on torch (the path before ONNX). Every figure but latency should agree; the answers that differ
are listed. `--int8` adds ONNX Runtime's dynamic int8 quantisation of the same file.
"""
from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

from bench.common import ROOT, quiet


def _encoders(settings, int8: bool) -> dict[str, object]:
    from retrieval.embeddings import load_encoder
    from retrieval import onnx_encoder

    found = {"onnx": load_encoder(settings.model, cache=settings.cache), "torch": load_encoder(settings.model, runtime="torch")}
    if int8:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        from retrieval.embeddings import resolve_model

        onnx = found["onnx"]
        source = settings.cache / "onnx" / onnx.weights / "model.onnx"
        out = Path(tempfile.mkdtemp()) / "int8.onnx"
        quantize_dynamic(str(source), str(out), weight_type=QuantType.QInt8)
        model = onnx_encoder.OnnxModel(out, Path(resolve_model(settings.model)))
        found["int8"] = onnx_encoder.onnx_encoder(onnx.name, model, weights=onnx.weights + "-int8")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--int8", action="store_true")
    args = parser.parse_args()
    quiet()
    from retrieval.answer import answer
    from retrieval.evaluation import evaluate, load_questions

    from bot import engine
    from bot.settings import load

    settings = load(ROOT)
    engine.one_blas_thread()
    indexes = {name: engine.build(settings, encoder) for name, encoder in _encoders(settings, args.int8).items()}
    for path in args.sets:
        questions = load_questions(path)
        reports, answers = {}, {}
        for name, index in indexes.items():
            answers[name] = [answer(index, q.question) for q in questions]
            given = dict(zip((q.question for q in questions), answers[name]))
            reports[name] = evaluate(lambda q: given[q], index.corpus, questions)
        print(f"== {path}")
        latency = re.compile(r"^latency|^misses")
        lines = {name: [l for l in r.lines() if not latency.match(l)] for name, r in reports.items()}
        for name, shown in lines.items():
            same = shown == lines["torch"]
            print(f"-- {name}: {'every figure as torch' if same and name != 'torch' else ''}")
            if name == "torch" or not same:
                print("\n".join(f"   {l}" for l in shown))
        for name in answers:
            if name == "torch":
                continue
            differ = [q.id for q, a, b in zip(questions, answers[name], answers["torch"])
                      if (a.status, [(p.doc_id, p.start) for p in a.passages])
                      != (b.status, [(p.doc_id, p.start) for p in b.passages])]
            print(f"   {name}: {len(differ)} of {len(questions)} answers differ from torch's (status or quotes): {' '.join(differ)}")


if __name__ == "__main__":
    main()
