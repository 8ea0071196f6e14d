"""Articles as people paste them: one paragraph a line, bylines, datelines, photo credits and
"Read: ..." lines, through `storybot corpus add` as an operator types it."""
from __future__ import annotations

import pytest

from bot.cli import main
from retrieval.articles import load_corpus
from retrieval.cleaning import clean, provenance_holds

STORY = (
    "Jailed Kremlin critic Alexei Navalny said on Friday he was ending a hunger strike after doctors warned he could die.",
    "Navalny began refusing food on 31 March to demand proper medical care for back pain and numbness in his legs.",
    "His doctors said tests showed he could suffer cardiac arrest at any moment.",
)
HEADLINE = "Navalny ends hunger strike after 24 days"

# Each layout: the file as pasted. None of the lines around STORY is story text.
LAYOUTS = {
    "one paragraph a line": "\n".join([HEADLINE, *STORY]) + "\n",
    "a line each, with a byline, a dateline, a credit and a Read: line": "\n".join([
        HEADLINE,
        "By Megan White, Evening Standard",
        "Moscow, 23 April 2021 (Reuters) - " + STORY[0],
        "Photo: Navalny in court in Moscow / Getty Images",
        STORY[1],
        "Read: Navalny moved to prison hospital as health worsens",
        STORY[2],
    ]) + "\n",
    "blank lines between, with furniture": "\n\n".join([
        HEADLINE,
        "By Megan White",
        "MOSCOW (AFP) — " + STORY[0],
        "(Photo by Kirill Kudryavtsev/AFP via Getty Images)",
        STORY[1],
        "Read more: Navalny's doctors demand access",
        STORY[2],
    ]) + "\n",
    "a line each, CRLF and a trailing Read also: line": "\r\n".join([
        HEADLINE, *STORY, "Read also: What we know about Navalny's health"]) + "\r\n",
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_a_pasted_article_keeps_its_paragraphs_and_nothing_else(workdir, capsys, layout):
    pasted = workdir / "pasted.txt"
    pasted.write_bytes(LAYOUTS[layout].encode("utf-8"))
    code = main(["corpus", "add", str(pasted), "--outlet", "Pasted News", "--published", "2021-04-23"])
    out, err = capsys.readouterr()
    assert code == 0, err
    article = load_corpus(workdir / "corpus").article("pasted-news-2021-04-23")
    assert (article.title, article.paragraphs) == (HEADLINE, STORY)
    # Provenance: every curated paragraph is word for word in the raw file as received.
    raw = (workdir / "corpus" / article.raw).read_text(encoding="utf-8")
    assert raw == LAYOUTS[layout].replace("\r\n", "\n") or raw.encode() == LAYOUTS[layout].encode()
    assert all(provenance_holds(p, raw) for p in article.paragraphs)
    assert main(["corpus", "check"]) == 0


@pytest.mark.parametrize(
    "paragraph",
    [
        "By Friday, Amnesty had withdrawn the status, a spokesman said.",  # "By" opening a sentence
        "Read the statement in full, Navalny's team urged supporters.",
        "Photographs of the protest were shared widely: thousands marched.",
    ],
)
def test_story_text_that_looks_like_furniture_stays(paragraph):
    raw = f"Headline of the piece\n\nThe first paragraph of the story tells what happened.\n\n{paragraph}\n"
    assert paragraph in clean(raw).paragraphs


def test_a_hard_wrapped_paragraph_is_not_read_as_one_paragraph_a_line():
    wrapped = ("Amnesty International said on Tuesday that it had decided to stop\n"
               "referring to Alexei Navalny as a prisoner of conscience after\n"
               "reviewing comments he made in the mid-2000s, some of which\n"
               "amount to advocacy of hatred, the organisation said.\n")
    assert clean("Headline\n\n" + wrapped).paragraphs == (" ".join(wrapped.split()),)
