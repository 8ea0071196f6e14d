"""The wheel built from the checkout holds everything the engine needs and answers as the checkout does.

Slow (a wheel build and two model loads): marked `slow`, and still run by bin/test. The wheel
is built once for the session and installed, without its dependencies (they are the test
venv's, reached through a .pth file), into a fresh venv of its own: so what is imported there
is the wheel's files only, never the checkout's.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from conftest import CORPUS, ROOT

pytestmark = pytest.mark.slow

QUESTIONS = [
    "why was the status revoked?",
    "when was the status restored",
    "who is julie verhaar",
    "which hospital in berlin treated navalny",
    "write me a poem about the sea",
]


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # Built from a copy: a build writes build/ and *.egg-info beside the sources.
    source = out / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".venv", ".git", ".cache", "build", "*.egg-info", "__pycache__",
                                                                ".pytest_cache", "bench"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w", str(out),
                    str(source)], check=True, capture_output=True, text=True)
    (found,) = out.glob("storybot-*.whl")
    return found


@pytest.fixture(scope="session")
def installed(wheel, tmp_path_factory) -> Path:
    """A venv holding the wheel's files, the test venv's packages reachable for its dependencies."""
    venv = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    # A path line in a .pth file adds the folder without running its own .pth files, so the
    # checkout's editable install there is not seen.
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, text=True)
    return python


def _answers(python: Path, workdir: Path) -> list[dict]:
    # The checkout's cache (the exported model, the vectors, keyed by what they were made from),
    # shared as every test shares it: the copies' corpora are the same text, the answers are what differs.
    env = {**os.environ, "STORYBOT_CORPUS": str(workdir / "corpus"), "STORYBOT_CACHE": str(CORPUS / ".cache"),
           "STORYBOT_DB": str(workdir / "audit.db")}
    env.pop("PYTHONPATH", None)
    done = subprocess.run([str(python), "-m", "bot", "ask", "--json", "--no-audit", "-"], input="\n".join(QUESTIONS) + "\n",
                          cwd=workdir, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def _shown(answer: dict) -> tuple:
    return answer["status"], answer["reason"], [(p["doc_id"], p["start"], p["end"]) for p in answer["passages"]]


def test_the_wheel_holds_the_package_data_the_engine_reads(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"retrieval/scorer.json", "retrieval/encoder_delta.safetensors"} <= names
    # The story's bank is the corpus's, not the package's.
    assert not any(n.endswith("precedents.jsonl") for n in names)


def test_the_installed_wheel_answers_as_the_checkout_does(installed, tmp_path):
    where = subprocess.run([str(installed), "-c", "import retrieval, bot; print(retrieval.__file__, bot.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert str(ROOT) not in where and "site-packages" in where
    for side in ("wheel", "checkout"):
        shutil.copytree(CORPUS, tmp_path / side / "corpus", ignore=shutil.ignore_patterns(".cache"))
    from_wheel = _answers(installed, tmp_path / "wheel")
    from_checkout = _answers(Path(sys.executable), tmp_path / "checkout")
    assert [_shown(a) for a in from_wheel] == [_shown(a) for a in from_checkout]
    assert from_wheel[0]["status"] == "answered" and from_wheel[-1]["status"] == "not_covered"
    assert from_wheel[0]["model"] == from_checkout[0]["model"] and "+" in from_wheel[0]["model"]  # the tuned encoder
