"""Progress for long work, shown on a terminal and silent when the output is piped (tqdm's
`disable=None`): a cold index build, `corpus add` of many files, `eval`."""
from __future__ import annotations

import dataclasses
import sys
from typing import Callable, Iterable, Sequence, TypeVar

from tqdm import tqdm

from retrieval.embeddings import Encoder

T = TypeVar("T")
# Texts per model call while a bar is shown: small enough that the bar moves every second or
# two on 2 CPU cores (about 100 passages a second), large enough to keep the model's batches full.
CHUNK = 256


def bar(total: int | None, what: str, unit: str = "it") -> tqdm:
    return tqdm(total=total, desc=what, unit=unit, disable=None, file=sys.stderr, dynamic_ncols=True)


def iterate(items: Sequence[T], what: str, unit: str = "it") -> Iterable[T]:
    with bar(len(items), what, unit) as shown:
        for item in items:
            yield item
            shown.update()


def counted(work: Callable[..., T], total: int, what: str, unit: str = "question") -> tuple[Callable[..., T], tqdm]:
    """`work`, moving a bar by one per call; close the bar when done."""
    shown = bar(total, what, unit)

    def step(*args, **kwargs):
        try:
            return work(*args, **kwargs)
        finally:
            shown.update()

    return step, shown


def _chunked(encode: Callable, what: str, merge: Callable) -> Callable:
    def run(texts: Sequence[str], *args):
        if len(texts) <= CHUNK:
            return encode(texts, *args)
        parts = []
        with bar(len(texts), what, "passage") as shown:
            for start in range(0, len(texts), CHUNK):
                parts.append(encode(texts[start:start + CHUNK], *args))
                shown.update(len(texts[start:start + CHUNK]))
        return merge(parts)

    return run


def _stack(parts):
    import numpy as np

    return np.concatenate(parts)


def _pairs(parts):
    import numpy as np

    return np.concatenate([p[0] for p in parts]), [row for p in parts for row in p[1]]


def with_progress(encoder: Encoder | None, what: str = "embedding passages") -> Encoder | None:
    """The same encoder, its long calls made in chunks with a bar (same vectors: each text is
    padded within its batch, so the vectors agree to rounding)."""
    if encoder is None:
        return None
    return dataclasses.replace(
        encoder,
        encode=_chunked(encoder.encode, what, _stack),
        encode_tokens=encoder.encode_tokens and _chunked(encoder.encode_tokens, what, _pairs),
        encode_spans=encoder.encode_spans and _chunked(encoder.encode_spans, what, _pairs),
    )
