"""The precedents' memory and the thesaurus's verb forms kept on disk, so a start reads them
instead of working them out.

Building it reads 1,910 questions into the articles' words (the thesaurus, lemminflect) and
looks for every gold phrase in the passages: about 1.7 s of a one-question `storybot ask`
that otherwise starts in about one. What it is built from is the key: the precedents, the
passages (their ids, spans and text), the thesaurus, the model's weights (the precedents'
vectors), and the source of the retrieval package (how it is built). Any of them changed,
another file is read or built.

Stored without pickle (a cache file is data, never code): arrays as they are, sparse matrices
as their three arrays, everything else as JSON. The weight function is not stored; the caller
gives it again. A field of a kind not listed here means the memory is built each time, never
stored wrong.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import zipfile
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
from scipy import sparse

from retrieval.atomic_files import replacing
from retrieval.precedents import Memory, Precedent

log = logging.getLogger(__name__)

SOURCE = Path(__file__).resolve().parent
KEPT = 4  # memories kept per folder (3 MB each): a corpus and its last few versions


def memory_key(parts: Iterable[str]) -> str:
    """A hash of what the memory is built from, with the retrieval package's source."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    for path in sorted(SOURCE.glob("*.py")):
        if path.exists():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:24]


def _packed(memory: Memory) -> dict[str, np.ndarray] | None:
    arrays: dict[str, np.ndarray] = {}
    for field in dataclasses.fields(memory):
        value = getattr(memory, field.name)
        if callable(value) and not isinstance(value, (np.ndarray, sparse.spmatrix)):
            continue
        if value is None:
            arrays[f"none:{field.name}"] = np.array(True)
            continue
        if isinstance(value, np.ndarray) and value.dtype != object:
            arrays[f"array:{field.name}"] = value
        elif isinstance(value, np.ndarray):
            arrays[f"objects:{field.name}"] = np.array(json.dumps(value.tolist()))
        elif sparse.issparse(value) and value.format in ("csr", "csc"):
            arrays[f"{value.format}:{field.name}"] = np.array(json.dumps(value.shape))
            arrays[f"{field.name}.data"], arrays[f"{field.name}.indices"] = value.data, value.indices
            arrays[f"{field.name}.indptr"] = value.indptr
        elif isinstance(value, tuple) and all(isinstance(v, Precedent) for v in value):
            arrays[f"precedents:{field.name}"] = np.array(json.dumps([v.to_json() for v in value]))
        elif isinstance(value, dict):
            arrays[f"json:{field.name}"] = np.array(json.dumps(value))
        else:
            return None
    return arrays


def _tuples(value):
    """JSON's lists as the tuples a Precedent holds (its `against` holds pairs)."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _unpacked(data, weight: Callable[[str], float]) -> Memory:
    values: dict[str, object] = {}
    for key in data.files:
        if ":" not in key:
            continue
        kind, name = key.split(":", 1)
        if kind == "array":
            values[name] = data[key]
        elif kind == "objects":
            values[name] = np.array(json.loads(str(data[key])), dtype=object)
        elif kind in ("csr", "csc"):
            shape = tuple(json.loads(str(data[key])))
            parts = (data[f"{name}.data"], data[f"{name}.indices"], data[f"{name}.indptr"])
            values[name] = (sparse.csr_matrix if kind == "csr" else sparse.csc_matrix)(parts, shape=shape)
        elif kind == "precedents":
            rows = json.loads(str(data[key]))
            values[name] = tuple(Precedent(**{k: _tuples(v) for k, v in r.items()}) for r in rows)
        elif kind == "none":
            values[name] = None
        elif kind == "json":
            values[name] = json.loads(str(data[key]))
    missing = [f.name for f in dataclasses.fields(Memory) if f.name not in values]
    if missing != ["weight"]:
        raise ValueError(f"holds no {', '.join(m for m in missing if m != 'weight')}")
    return Memory(**values, weight=weight)


def cached_memory(folder: Path | None, key: str, build: Callable[[], Memory | None],
                  weight: Callable[[str], float]) -> Memory | None:
    """The memory stored under `key` in `folder`, else `build()`'s (stored for the next start).
    None (no passage answers a precedent) is stored too."""
    if folder is None:
        return build()
    path = folder / f"{key}.npz"
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as data:
                if "none" in data.files:
                    return None
                return _unpacked(data, weight)
        except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as exc:
            log.warning("precedents cache %s cannot be used (%s); it is rebuilt", path, exc)
    memory = build()
    arrays = {"none": np.array(True)} if memory is None else _packed(memory)
    if arrays is None:
        return memory
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for old in sorted(folder.glob("*.npz"), key=lambda p: p.stat().st_mtime)[:-KEPT + 1]:
            old.unlink(missing_ok=True)
        with replacing(path) as handle:
            np.savez(handle, **arrays)
    except OSError:
        pass  # an unwritable cache costs a build at the next start, not an answer
    return memory


def cached_forms(folder: Path | None, groups: tuple[tuple[str, ...], ...]) -> dict[tuple[str, str], str]:
    """The thesaurus's verb forms (retrieval/thesaurus.py, verb_forms) stored under a key of its
    groups and lemminflect's version in `folder`, else worked out (and stored for the next start)."""
    from importlib.metadata import version

    from retrieval.thesaurus import verb_forms

    if folder is None or not groups:
        return {}
    path = folder / f"{memory_key([json.dumps(groups), version('lemminflect')])}.json"
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
        return {(article, asked): form for article, asked, form in rows}
    except FileNotFoundError:
        pass
    except (OSError, ValueError, TypeError) as exc:
        log.warning("thesaurus forms cache %s cannot be used (%s); it is rebuilt", path, exc)
    forms = verb_forms(groups)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for old in sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime)[:-KEPT + 1]:
            old.unlink(missing_ok=True)
        with replacing(path, "w", encoding="utf-8") as handle:
            json.dump([[a, b, f] for (a, b), f in forms.items()], handle)
    except OSError:
        pass
    return forms
