"""Writing a sentence-transformers model's transformer as an ONNX file (torch, once per weights).

    python -m retrieval.onnx_export MODEL_DIR OUT.onnx

The answer path runs the exported file on ONNX Runtime and never imports torch
(retrieval/onnx_encoder.py); this module is the one place that does, and it runs in a child
process (`export_in_child`) so the process that answers never holds torch's 300 MB either.

torch.onnx's TorchScript exporter (dynamo=False) rather than sentence-transformers' own export or
optimum: both go through optimum, which pins transformers' versions; the TorchScript exporter
ships with the torch we already install and traces MiniLM's BERT as it runs. Only the
transformer is exported (input ids, attention mask, token types -> last hidden state): the
pooling and normalising the model's modules.json names are done in numpy, where the same
pass also gives the word-piece vectors.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

# 14: the first opset with the ops BERT's attention traces to in one piece; ONNX Runtime
# 1.18+ runs it on every CPU provider.
OPSET = 14


class ExportFailed(RuntimeError):
    """The child process that exports the model failed; the message holds its last words."""


def export(model_dir: Path, out: Path) -> None:
    """Export the transformer of the sentence-transformers model in `model_dir` to `out`,
    written aside and renamed so a reader never sees half a file."""
    import torch
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(str(model_dir), local_files_only=True, attn_implementation="eager")
    bert.eval()

    class Transformer(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert  # a submodule, so its weights are the graph's parameters

        # Keyword arguments: the positional order of forward() changes between transformers versions.
        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    model = Transformer()
    sample = torch.ones((2, 8), dtype=torch.long)
    inputs = (sample, sample, torch.zeros_like(sample))
    axes = {0: "batch", 1: "pieces"}
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".onnx.tmp")
    os.close(fd)
    try:
        with torch.no_grad():
            torch.onnx.export(
                model, inputs, tmp, dynamo=False, opset_version=OPSET,
                input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
                dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "last_hidden_state": axes},
            )
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def export_in_child(model_dir: Path, out: Path) -> None:
    """export() in a child process: torch is imported, and its memory held, only there."""
    done = subprocess.run([sys.executable, "-m", "retrieval.onnx_export", str(model_dir), str(out)],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent,
                          env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    if done.returncode != 0 or not out.exists():
        raise ExportFailed(f"exporting {model_dir} to ONNX failed: {done.stderr.strip()[-1000:]}")


if __name__ == "__main__":
    export(Path(sys.argv[1]), Path(sys.argv[2]))
