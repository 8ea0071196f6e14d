"""`storybot corpus add/list/show/check`, driven in-process as a user would type them."""
from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path

import pytest

from bot.cli import main
from retrieval import atomic_files, ingest
from retrieval.articles import load_corpus
from retrieval.cleaning import provenance_holds
from retrieval.corpus_files import LOCK_FILE
from retrieval.corpus_check import check_corpus
from retrieval.ingest import add_article
from retrieval.raw_sources import IngestError, parse_date, read_source

from conftest import DATA

PAGES = DATA / "pages"
GAZETTE = PAGES / "test-gazette-kestrel-review.html"
COURIER = PAGES / "test-courier-kestrel-reaction.txt"
GAZETTE_ID = "test-gazette-2021-06-03"
GAZETTE_PARAGRAPHS = (
    "Amnesty International published its review of the prisoner of conscience policy on 3 June 2021 and called it the Kestrel Review.",
    "The review was ordered after the organisation withdrew the label from Alexei Navalny in February, a decision it reversed in May after criticism from its own members.",
    "According to the report, the designation should in future depend on why a person is detained, not on views they expressed years before their arrest.",
    "A panel of seven outside lawyers chaired by the retired judge Miriam Oduya wrote the Kestrel Review over eleven weeks, the organisation said.",
    "“We got this wrong, and the review tells us how not to get it wrong again,” an Amnesty spokesperson told the Test Gazette.",
)



def run(capsys, *argv, stdin: str | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def listing(folder: Path) -> dict[str, str]:
    """Every file and folder under the corpus, with a hash of each file's bytes; the writers'
    lock file (empty, and left in place by design: deleting a lock file races) aside."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(folder.rglob("*"))
        if p.name != LOCK_FILE
    }


# --- adding -------------------------------------------------------------------------------


def test_add_a_saved_web_page_keeps_only_the_article(workdir, capsys):
    code, out, err = run(capsys, "corpus", "add", GAZETTE)
    assert code == 0, err
    assert f"added {GAZETTE_ID}" in out and "(5 paragraphs)" in out

    article = load_corpus(workdir / "corpus").article(GAZETTE_ID)
    assert article.paragraphs == GAZETTE_PARAGRAPHS
    assert (article.title, article.outlet, article.author, article.published, article.url, article.kind) == (
        "Amnesty publishes 'Kestrel Review' of its prisoner of conscience policy",
        "Test Gazette",
        "Harriet Quill",
        "2021-06-03",
        "https://www.test-gazette.example/world/2021/06/03/amnesty-kestrel-review",
        "news",
    )
    for furniture in ("cookies", "Advertisement", "weekend cruise", "energy supplier", "Related stories",
                      "cup final", "Morning Briefing", "All rights reserved", "Photograph", "Share on", "Privacy"):
        assert furniture not in article.body


def test_a_web_page_is_kept_as_received_and_its_quotes_stand_in_the_extracted_text(workdir, capsys):
    assert run(capsys, "corpus", "add", GAZETTE)[0] == 0
    corpus = workdir / "corpus"
    article = load_corpus(corpus).article(GAZETTE_ID)
    stem = f"005_{hashlib.sha256(GAZETTE.read_bytes()).hexdigest()[:16]}"
    assert (corpus / "raw" / f"{stem}.html").read_bytes() == GAZETTE.read_bytes()
    assert article.raw == f"raw/{stem}.extracted.txt"
    extracted = (corpus / article.raw).read_text(encoding="utf-8")
    assert all(provenance_holds(p, extracted) for p in article.paragraphs)
    assert run(capsys, "corpus", "check")[:2] == (0, "corpus OK: 6 articles\n")


def test_add_a_text_file_with_options(workdir, capsys):
    code, out, err = run(capsys, "corpus", "add", COURIER, "--outlet", "Test Courier", "--author", "Tomasz Wren",
                         "--published", "4 June 2021", "--kind", "Analysis", "--url", "https://courier.example/kestrel")
    assert code == 0, err
    article = load_corpus(workdir / "corpus").article("test-courier-2021-06-04")
    assert (article.title, article.outlet, article.author, article.published, article.kind, article.url) == (
        "Navalny's allies welcome Amnesty's Kestrel Review but want an apology",
        "Test Courier", "Tomasz Wren", "2021-06-04", "analysis", "https://courier.example/kestrel",
    )
    assert len(article.paragraphs) == 4 and article.paragraphs[0].startswith("Allies of the jailed Kremlin critic")
    assert not any(word in article.body for word in ("08:15", "By Tomasz", "Read more", "Advertisement"))
    assert (workdir / "corpus" / article.raw).read_bytes() == COURIER.read_bytes()
    assert article.raw.startswith("raw/005_") and article.raw.endswith(".txt")


def test_what_the_user_says_overrides_the_page_and_what_nobody_says_stays_empty(workdir, capsys):
    code, _, err = run(capsys, "corpus", "add", GAZETTE, "--outlet", "Gazette Weekly", "--title", "The Kestrel Review")
    assert code == 0, err
    article = load_corpus(workdir / "corpus").article("gazette-weekly-2021-06-03")
    assert (article.title, article.outlet, article.author) == ("The Kestrel Review", "Gazette Weekly", "Harriet Quill")
    # A text file says nothing of its outlet, date or address.
    assert run(capsys, "corpus", "add", COURIER)[0] == 0
    courier = load_corpus(workdir / "corpus").article("unknown-undated")
    assert (courier.outlet, courier.published, courier.url, courier.author) == (None, None, None, None)


@pytest.mark.parametrize(
    ("page", "options", "expected_id", "ext"),
    [(GAZETTE, [], GAZETTE_ID, "html"), (COURIER, ["--outlet", "Test Courier"], "test-courier-undated", "txt")],
)
def test_add_from_standard_input(workdir, capsys, monkeypatch, page, options, expected_id, ext):
    code, out, err = run(capsys, "corpus", "add", "-", *options, stdin=page.read_text(encoding="utf-8"), monkeypatch=monkeypatch)
    assert code == 0, err
    article = load_corpus(workdir / "corpus").article(expected_id)
    assert "Kestrel Review" in article.body
    [raw] = (workdir / "corpus" / "raw").glob(f"005_*.{ext}")
    assert raw.read_bytes() == page.read_bytes()


def test_a_page_whose_text_starts_with_the_body_keeps_its_first_paragraph(workdir):
    page = workdir / "no-headline.html"
    page.write_text(
        "<html><head><title>Amnesty names its review | Test Gazette</title>"
        "<meta property='og:title' content='Amnesty names its review'></head><body>"
        "<nav><a href='/'>Home</a> <a href='/world'>World</a></nav><article>"
        "<p>Amnesty International named its policy review the Kestrel Review on Thursday, its spokesperson said.</p>"
        "<p>The review had been promised in May, when the organisation restored Alexei Navalny's status.</p>"
        "<p>Its seven authors are lawyers from outside the organisation, the statement added.</p>"
        "</article><footer>© Test Gazette</footer></body></html>",
        encoding="utf-8",
    )
    result = add_article(workdir / "corpus", read_source(page))
    assert result.article.title == "Amnesty names its review"
    assert result.article.paragraphs[0].startswith("Amnesty International named its policy review")
    assert len(result.article.paragraphs) == 3


def test_markdown_front_matter_fills_metadata_and_markup_is_not_quoted(workdir):
    page = workdir / "members.md"
    page.write_text(
        "---\ntitle: Amnesty members debate the **Kestrel Review** at an online meeting\noutlet: Test Courier\ndate: June 5, 2021\n"
        "tags: [amnesty]\n---\nWorld › Russia\n\n# Amnesty members debate the Kestrel Review at an online meeting\n\n"
        "Members of **Amnesty International** met online to discuss the [Kestrel Review](https://example.org/k), "
        "which was published two days earlier.\n\n"
        "> \"The review is a fair account of a bad week,\" said one member from *Leeds*, who asked not to be named.\n\n"
        "![The meeting](meeting.jpg)\n\n"
        "Several members said the review_panel should have heard from Russian activists first.\n",
        encoding="utf-8",
    )
    result = add_article(workdir / "corpus", read_source(page))
    article = result.article
    assert (article.title, article.outlet, article.published) == (
        "Amnesty members debate the Kestrel Review at an online meeting", "Test Courier", "2021-06-05")
    assert article.paragraphs == (
        "Members of Amnesty International met online to discuss the Kestrel Review, which was published two days earlier.",
        "\"The review is a fair account of a bad week,\" said one member from Leeds, who asked not to be named.",
        "Several members said the review_panel should have heard from Russian activists first.",
    )
    assert result.raw_path.read_bytes() == page.read_bytes()
    assert article.raw == f"raw/{result.text_path.name}" and check_corpus(workdir / "corpus") == []


def test_ask_quotes_the_new_article_word_for_word(workdir, capsys):
    assert run(capsys, "corpus", "add", GAZETTE)[0] == 0
    code, out, err = run(capsys, "ask", "--json", "--no-audit", "who chaired the Kestrel Review panel?")
    assert code == 0, err
    answer = json.loads(out)
    article = load_corpus(workdir / "corpus").article(GAZETTE_ID)
    [passage, *_] = answer["passages"]
    assert passage["doc_id"] == GAZETTE_ID and "Miriam Oduya" in passage["quote"]
    assert passage["quote"] == article.body[passage["start"]:passage["end"]]


# --- refusing -----------------------------------------------------------------------------


def _seed_copy(workdir: Path) -> str:
    # The RFI seed with Windows line ends: other bytes, the same paragraphs.
    seed = next((workdir / "corpus" / "raw").glob("001_*.txt"))
    copy = workdir / "rfi-again.txt"
    copy.write_bytes(seed.read_bytes().replace(b"\n", b"\r\n"))
    return copy.name


BAD_INPUTS = {
    "binary": (lambda w: _write(w, "report.txt", b"PK\x03\x04\x14\x00\x00\x00\x08\x00word/document.xml"), [], 1,
               "not a text or HTML file"),
    "not utf-8": (lambda w: _write(w, "latin.txt", "Caf\u00e9 story.\n".encode("latin-1")), [], 1, "not a text or HTML file"),
    "empty file": (lambda w: _write(w, "empty.html", b"  \n"), [], 1, "the file is empty"),
    "empty page": (lambda w: _write(w, "blank.html", b"<html><head><title>Blank</title></head><body></body></html>"),
                   [], 1, "no article text"),
    "all boilerplate": (lambda w: str(PAGES / "test-gazette-boilerplate-only.html"), [], 1, "page furniture"),
    "too short": (lambda w: _write(w, "teaser.html", b"<html><head><title>Kestrel</title></head><body><article>"
                                   b"<p>Amnesty published the Kestrel Review today.</p></article></body></html>"),
                  [], 1, "at least 2 sentences"),
    "seed again": (lambda w: str(next((w / "corpus" / "raw").glob("001_*.txt"))), [], 1,
                   "already in the corpus as raw/001_f500f3e44c3c2987.txt (article rfi-2021-02-24)"),
    "seed reformatted": (_seed_copy, [], 1, "duplicate of article rfi-2021-02-24"),
    "bad front matter": (lambda w: _write(w, "broken.md", b"---\ntitle: [unclosed\n---\nSome text.\n"), [], 1,
                         "front matter is not valid YAML"),
    "unclosed front matter": (lambda w: _write(w, "open.md", b"---\ntitle: Open\n\nSome text.\n"), [], 1, "never closed"),
    "bad date in front matter": (lambda w: _write(w, "when.md", b"---\ntitle: T\ndate: sometime in June\n---\nText.\n"),
                                 [], 1, "'sometime in June' is not a date"),
    "unknown date format": (lambda w: str(COURIER), ["--published", "24/02/2021"], 2,
                            "--published '24/02/2021' is not a date I can read; use YYYY, YYYY-MM, YYYY-MM-DD"),
    "unknown kind": (lambda w: str(COURIER), ["--kind", "blog"], 2, "unknown kind 'blog'; expected one of: news"),
    "no title": (lambda w: _write(w, "headless.txt", COURIER.read_text(encoding="utf-8").split("By Tomasz Wren\n\n")[1].encode()),
                 [], 1, "no title"),
    "missing file": (lambda w: "nowhere.html", [], 1, "no such file"),
}


def _write(workdir: Path, name: str, data: bytes) -> str:
    (workdir / name).write_bytes(data)
    return name


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_a_bad_input_is_refused_by_name_and_nothing_is_written(workdir, capsys, case):
    make, options, status, message = BAD_INPUTS[case]
    path = make(workdir)
    before = listing(workdir / "corpus")
    code, out, err = run(capsys, "corpus", "add", path, *options)
    assert (code, out) == (status, ""), err
    assert err.startswith(f"storybot: {path}: ") and message in err, err
    assert "Traceback" not in err and len(err.splitlines()) == 1
    assert listing(workdir / "corpus") == before


def test_a_missing_path_is_a_usage_error(workdir, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["corpus", "add"])
    assert exit_.value.code == 2 and "required: path" in capsys.readouterr().err


# --- all or nothing -----------------------------------------------------------------------


def test_a_failed_rename_leaves_nothing_behind(workdir, monkeypatch):
    real_replace = atomic_files.os.replace

    def replace(src, dst):
        if str(dst).endswith(".md"):
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(atomic_files.os, "replace", replace)
    before = listing(workdir / "corpus")
    with pytest.raises(OSError, match="No space left"):
        add_article(workdir / "corpus", read_source(GAZETTE))
    assert listing(workdir / "corpus") == before


def test_a_corpus_that_no_longer_loads_after_writing_is_rolled_back(workdir, monkeypatch):
    calls = []

    def load_once(folder):
        calls.append(folder)
        if len(calls) > 1:  # the check after writing
            raise ingest.MalformedArticle(folder, "changed under our feet")
        return load_corpus(folder)

    monkeypatch.setattr(ingest, "load_corpus", load_once)
    before = listing(workdir / "corpus")
    with pytest.raises(IngestError, match="does not load with the new article"):
        add_article(workdir / "corpus", read_source(GAZETTE))
    assert listing(workdir / "corpus") == before


# --- listing, showing, checking -----------------------------------------------------------


def test_list_shows_every_article_by_date(workdir, capsys):
    run(capsys, "corpus", "add", GAZETTE)
    code, out, _ = run(capsys, "corpus", "list")
    ids = [line.split()[0] for line in out.splitlines()]
    assert code == 0 and ids[0] == "unknown-2021-02" and ids[-1] == GAZETTE_ID and len(ids) == 6
    assert re.search(r"^test-gazette-2021-06-03 +2021-06-03 +Test Gazette +Amnesty publishes .*\(5 paragraphs\)$", out, re.M)


def test_show_prints_metadata_and_body(workdir, capsys):
    code, out, _ = run(capsys, "corpus", "show", "rfi-2021-02-24")
    assert code == 0 and "outlet: RFI" in out and "raw: raw/001_f500f3e44c3c2987.txt" in out
    assert "Amnesty International no longer considers Alexei Navalny" in out
    code, _, err = run(capsys, "corpus", "show", "nope")
    assert code == 1 and "no article with id 'nope'" in err


def test_check_passes_on_the_seed_corpus(workdir, capsys):
    assert run(capsys, "corpus", "check")[:2] == (0, "corpus OK: 5 articles\n")


def test_check_reports_a_paragraph_that_is_not_in_its_raw_file(workdir, capsys):
    path = workdir / "corpus" / "rfi-2021-02-24.md"
    path.write_text(path.read_text(encoding="utf-8").replace("no longer considers", "no longer regards"), encoding="utf-8")
    code, out, _ = run(capsys, "corpus", "check")
    assert code == 1
    assert "rfi-2021-02-24.md: paragraph 1 is not word for word in raw/001_f500f3e44c3c2987.txt" in out


def test_check_reports_a_malformed_file_a_missing_raw_file_and_a_duplicate(workdir, capsys):
    corpus = workdir / "corpus"
    (corpus / "broken.md").write_text("---\nid: [\n---\nbody\n", encoding="utf-8")
    lbc = (corpus / "lbc-2021-02-25.md").read_text(encoding="utf-8")
    (corpus / "lbc-copy.md").write_text(lbc.replace("id: lbc-2021-02-25", "id: lbc-copy"), encoding="utf-8")
    next((corpus / "raw").glob("000_*.txt")).unlink()
    code, out, _ = run(capsys, "corpus", "check")
    assert code == 1
    assert "broken.md, line 3: front matter is not valid YAML" in out
    assert "the-moscow-times-2021-05-07.md: its raw file raw/000_9ef8cfac5fd004f0.txt does not exist" in out
    assert re.search(r"lbc-(2021-02-25|copy)\.md: duplicate of article lbc-", out)


def test_check_reports_an_extracted_text_whose_page_is_gone(workdir, capsys):
    result = add_article(workdir / "corpus", read_source(GAZETTE))
    result.raw_path.unlink()
    code, out, _ = run(capsys, "corpus", "check")
    assert code == 1 and "was extracted from a file that is not beside it" in out


@pytest.mark.parametrize(
    ("given", "iso"),
    [("2021", "2021"), ("2021-06", "2021-06"), ("2021-06-03", "2021-06-03"), ("24 February 2021", "2021-02-24"),
     ("February 24, 2021", "2021-02-24"), ("2021/02/24", "2021-02-24"), ("Feb 2021", "2021-02"),
     ("Thursday, 3rd June 2021", "2021-06-03"), ("2021-06-03T09:30:00+01:00", "2021-06-03")],
)
def test_dates_are_read_in_common_forms_and_kept_as_precise_as_given(given, iso):
    assert parse_date(given) == iso


@pytest.mark.parametrize("bad", ["someday", "24/02/2021", "2021-02-30", "2021-13"])
def test_an_unreadable_date_is_refused_by_value(bad):
    with pytest.raises(ValueError, match=re.escape(repr(bad))):
        parse_date(bad)


def test_check_reports_a_malformed_thesaurus_line(workdir, capsys):
    (workdir / "corpus" / "thesaurus.txt").write_text("status, title\nguns\n", encoding="utf-8")
    code, out, _ = run(capsys, "corpus", "check")
    assert code == 1 and "thesaurus.txt, line 2:" in out and "names one term" in out
