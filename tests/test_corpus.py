"""The curated corpus: made by code from the raw files, and not a word changed."""
from __future__ import annotations

import hashlib

import pytest

from retrieval.articles import article_files, load_corpus, parse_article
from retrieval.cleaning import clean, provenance_holds
from retrieval.errors import CorpusNotFound, MalformedArticle

from conftest import CORPUS, ROOT, write_corpus


def raw_text(article) -> str:
    return (CORPUS / article.raw).read_text(encoding="utf-8")


# sha256 of each seed as received (../shared/seeds, 2026): a clean clone in CI has no seeds
# beside it, and the raw files must still be shown to be the seeds byte for byte.
SEEDS = {
    "000_9ef8cfac5fd004f0.txt": "6c904dac6affb92709c90dd51bfd9d03d7e8b11f35f170b9ebde96a92b3768c6",
    "001_f500f3e44c3c2987.txt": "e98c33a9a8b0114e3d409092f70a9cef069312f7cd254fcb7d7ad3d189c22028",
    "002_4feb74a3e0370336.txt": "e0397b624d52864259839d5c8e9d2b2580308833a9690f48736d06308712d019",
    "003_563102e87307c002.txt": "eeb6ff460a120718014c72a06f55645279137b548ee8b968ab6b2e0da4ab4b49",
    "004_305ff1c156151daa.txt": "85a5b894b36099634d1be331c7c6c6523393e6ce0d5cea632f7b6a678b58a4e3",
}


def test_raw_files_are_the_seeds_unchanged():
    held = {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in (CORPUS / "raw").glob("*.txt")}
    assert held == SEEDS
    seeds = ROOT.parent / "shared" / "seeds"
    for seed in sorted(seeds.glob("*.txt")):  # beside the checkout on a developer's machine
        assert (CORPUS / "raw" / seed.name).read_bytes() == seed.read_bytes(), seed.name


def test_every_curated_paragraph_occurs_in_its_raw_file(corpus):
    for article in corpus.articles:
        for paragraph in article.paragraphs:
            assert provenance_holds(paragraph, raw_text(article)), (article.id, paragraph[:80])


def test_curated_bodies_are_what_the_cleaning_code_makes(corpus):
    for article in corpus.articles:
        assert article.body == clean(raw_text(article)).body, article.id


@pytest.mark.parametrize(
    "furniture",
    [
        "Mike Tyson",  # the LBC sidebar
        "Arctic blast",
        "largest air attack",
        "Chris Wright",
        "Picture: PA",  # a photo credit
        "Read more",
        "I subscribe",
        "Show comments",
        "Advertisement",
        "https://",
        "Zemlianichenko",  # a caption's credit
        "Navalny Live / YouTube",
        "By Megan White",
    ],
)
def test_page_furniture_is_not_in_any_curated_body(corpus, furniture):
    assert not any(furniture in article.body for article in corpus.articles)


def test_a_quotation_split_over_several_lines_is_one_paragraph_again(corpus):
    rfi = corpus.article("rfi-2021-02-24")
    [paragraph] = [p for p in rfi.paragraphs if "of a ruthless campaign" in p]
    assert paragraph.startswith("The NGO then considers that the opponent is the victim")
    assert paragraph.endswith("his right to freedom of expression")


def test_a_caption_repeated_under_a_photo_appears_once(corpus):
    lbc = corpus.article("lbc-2021-02-25")
    assert lbc.body.count("did not disclose what Mr Navalny's offending comments were") == 1


def test_metadata_follows_sources_and_leaves_the_unknown_empty(corpus):
    unknown = corpus.article("unknown-2021-02")
    assert (unknown.outlet, unknown.author, unknown.url, unknown.published) == (None, None, None, "2021-02")
    assert corpus.article("the-spectator-2021-02-24").kind == "opinion"
    assert corpus.article("lbc-2021-02-25").author == "Megan White"
    assert {a.url for a in corpus.articles} == {None}


def test_hard_wrapped_lines_are_rejoined_with_hyphenated_words_whole():
    cleaned = clean("Headline\n\nHe spoke of anti-\nimmigrant rhetoric and\nmore.\n")
    assert cleaned.paragraphs == ("He spoke of anti-immigrant rhetoric and more.",)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("no front matter\n", "no front matter"),
        ("---\ntitle: [unclosed\n---\nbody\n", "not valid YAML"),
        ("---\nid: a\ntitle: T\nkind: news\ncolour: red\n---\nbody\n", "unknown field"),
        ("---\nid: a\nkind: news\n---\nbody\n", "missing required field 'title'"),
        ("---\nid: a\ntitle: T\nkind: rumour\n---\nbody\n", "unknown kind 'rumour'"),
        ("---\nid: a\ntitle: T\nkind: news\npublished: 24/02/2021\n---\nbody\n", "is not YYYY"),
        ("---\nid: a\ntitle: T\nkind: news\n---\n\n", "no body"),
    ],
)
def test_a_malformed_article_is_refused_naming_the_file_and_problem(text, problem):
    with pytest.raises(MalformedArticle, match=problem) as caught:
        parse_article(text, "corpus/bad.md")
    assert "corpus/bad.md" in str(caught.value)


def test_two_articles_with_one_id_are_refused(tmp_path, tiny_articles):
    from dataclasses import replace

    folder = write_corpus(tmp_path / "c", tiny_articles[0])
    (folder / "copy.md").write_text((folder / f"{tiny_articles[0].id}.md").read_text(), encoding="utf-8")
    with pytest.raises(MalformedArticle, match="already used"):
        load_corpus(folder)


def test_a_missing_or_empty_corpus_folder_says_so(tmp_path):
    with pytest.raises(CorpusNotFound, match="does not exist"):
        load_corpus(tmp_path / "nowhere")
    with pytest.raises(CorpusNotFound, match="holds no curated article"):
        load_corpus(tmp_path)


def test_corpus_version_changes_with_any_file(tmp_path, tiny_articles):
    folder = write_corpus(tmp_path / "c", *tiny_articles)
    before = load_corpus(folder).version
    path = article_files(folder)[0]
    path.write_text(path.read_text(encoding="utf-8") + "\nOne more sentence here.\n", encoding="utf-8")
    assert load_corpus(folder).version != before
