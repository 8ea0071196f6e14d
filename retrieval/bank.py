"""The corpus's own memory: its precedents and the scorer fitted with them, in the corpus folder.

A story's labelled questions belong to its corpus, not to the package: `corpus/precedents.jsonl`
and `corpus/scorer.json`, written together by `storybot fit` (retrieval/scorer_fit.py). A new
story's folder has neither and answers with the plain scorer the package ships
(retrieval/scorer.json: heads fitted without precedents).

The two files are read together and checked against each other: the scorer records the hash
of the precedents it was fitted with. One without the other, or a bank edited since the fit,
stops the load with a message naming the file (BankMismatch): the weights of the precedent
features mean nothing for other precedents.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from retrieval.atomic_files import write_together
from retrieval.errors import StorybotError
from retrieval.precedents import Precedent, load_precedents, precedents_text
from retrieval.scorer import MODEL_FILE, Scorer, load_scorer

BANK_FILE = "precedents.jsonl"
SCORER_FILE = "scorer.json"


class BankMismatch(StorybotError, ValueError):
    """The corpus's precedents and its scorer are not the pair `storybot fit` wrote."""


@dataclass(frozen=True)
class Bank:
    precedents: tuple[Precedent, ...]  # none for a story without a bank
    scorer: Scorer  # fitted with them (or the package's plain scorer)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def load_bank(folder: Path | str) -> Bank:
    """The corpus folder's precedents and scorer, checked against each other."""
    folder = Path(folder)
    bank, weights = folder / BANK_FILE, folder / SCORER_FILE
    if not bank.exists() and not weights.exists():
        return Bank((), load_scorer(MODEL_FILE))
    if not bank.exists():
        raise BankMismatch(f"{weights} is there but {bank} is not: restore it, or remove {weights} to answer without "
                           f"precedents, or refit with `storybot fit`")
    if not weights.exists():
        raise BankMismatch(f"{bank} is there but {weights}, the scorer fitted with it, is not: restore it, or refit with "
                           f"`storybot fit`")
    scorer = load_scorer(weights)
    found = text_hash(bank.read_text(encoding="utf-8"))
    if scorer.precedents_hash != found:
        raise BankMismatch(f"{bank} (hash {found}) is not the bank {weights} was fitted with "
                           f"(hash {scorer.precedents_hash}): restore it, or refit with `storybot fit`")
    return Bank(load_precedents(bank), scorer)


def write_bank(folder: Path | str, scorer: Scorer, precedents: Sequence[Precedent]) -> Scorer:
    """Write the precedents and the scorer fitted with them into the folder, both or neither;
    the scorer records the precedents' hash."""
    folder = Path(folder)
    text = precedents_text(precedents)
    import dataclasses

    scorer = dataclasses.replace(scorer, precedents_hash=text_hash(text))
    write_together({folder / SCORER_FILE: json.dumps(scorer.to_json(), indent=1) + "\n", folder / BANK_FILE: text})
    return scorer


__all__ = ["Bank", "BankMismatch", "BANK_FILE", "SCORER_FILE", "load_bank", "write_bank", "text_hash"]
