"""The feedback page: a report card built from the grading record, then the notebook as graded.

The first tests build the record by hand (pure formatting); the rest read the pages of two
students graded for real (`nbgrader autograde`, then `nbgrader generate_feedback`: the shared
command-line class), in a browser too (axe-core, MathML drawn, nothing fetched from the internet).
"""

import re
from html import escape as html_escape

import nbformat
import pytest
from browser_check import check_page
from nbconvert.filters.highlight import Highlight2HTML

from coursepack import ASSIGNMENT
from coursepack.feedback import (
    FeedbackExporter,
    cell_labels,
    mathml,
    part_of_each_cell,
    report_card,
)
from coursepack.grade import SAMPLE_CLASS
from coursepack.guarded_execute import METADATA_KEY
from coursepack.submissions import SOURCE_NOTEBOOK

PART_LETTERS = list("ABCDEFGHIJ")


def graded_cells(scores):
    """The source notebook's cells with gradebook scores put in, as GetGrades would."""
    notebook = nbformat.read(SOURCE_NOTEBOOK, as_version=4)
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            meta["score"] = scores.get(meta["grade_id"], meta["points"])
    return notebook.cells


def verdict(grade_id, suite, points, earned, checks, status="judged", reason=""):
    return {
        "grade_id": grade_id,
        "suite": suite,
        "function": suite.split("_contract")[0].split("_accuracy")[0],
        "points": points,
        "earned": earned,
        "status": status,
        "reason": reason,
        "checks": [
            {"id": f"{suite}/{n}", "description": d, "passed": ok, "message": "" if ok else m}
            for n, (d, ok, m) in enumerate(checks, start=1)
        ],
    }


def test_parts_follow_the_notebooks_headings():
    cells = nbformat.read(SOURCE_NOTEBOOK, as_version=4).cells
    letters = {part[0] for part in part_of_each_cell(cells) if part}
    assert sorted(letters) == PART_LETTERS


def test_report_card_from_a_hand_made_record():
    grading = {
        "notices": ["repaired: the notebook was renamed"],
        "verdicts": [
            verdict(
                "test_lead_coef_hidden",
                "lead_coef",
                3.0,
                1.29,
                [
                    (
                        "lead_coef at the pre-activation 0",
                        False,
                        "lead_coef(0) returned 0, expected 0.25",
                    ),
                    ("lead_coef at the pre-activation 1.2", True, ""),
                    ("lead_coef on an array", True, ""),
                ],
            ),
            verdict(
                "test_firstNN_accuracy",
                "firstNN_accuracy",
                5.0,
                0.0,
                [],
                status="not run",
                reason="the notebook's time budget ran out",
            ),
        ],
        "not_run": {"a": "an unchanged demo cell", "b": "an unchanged demo cell", "c": "other"},
    }
    scores = {"test_lead_coef_hidden": 1.29, "test_firstNN_accuracy": 0.0, "reflection": None}
    card = report_card(graded_cells(scores), grading, waiting={"reflection"})
    parts = {part["letter"]: part for part in card["parts"]}
    assert [part["letter"] for part in card["parts"]] == PART_LETTERS
    assert parts["E"]["name"] == "lead_coef" and parts["C"]["name"] == "feed_forward"
    assert (parts["E"]["earned"], parts["E"]["points"]) == (1.29, 3.0)
    (lead,) = parts["E"]["suites"]
    assert [c["message"] for c in lead["failed"]] == ["lead_coef(0) returned 0, expected 0.25"]
    assert lead["passed"] == 2
    contract, accuracy = parts["J"]["suites"]
    assert accuracy["status"] == "not run" and "time budget" in accuracy["reason"]
    assert contract["status"] == "unknown"  # no verdict recorded: the page points to the cell
    assert (parts["J"]["earned"], parts["J"]["points"]) == (3.0, 8.0)
    assert parts["I"]["manual"] and parts["I"]["pending"] and card["pending"] == [parts["I"]]
    assert card["possible"] == 31 and card["earned"] == pytest.approx(31 - 1.71 - 5 - 3)
    assert card["not_run"] == [("An unchanged demo cell", 2), ("Other", 1)]
    assert card["notices"] == ["repaired: the notebook was renamed"]


def test_each_graded_cell_gets_its_part_in_its_label():
    cells = graded_cells({"test_sigmoid_hidden": 2.62})
    labels = cell_labels(cells, waiting={"reflection"})
    by_id = {cells[i].metadata["nbgrader"]["grade_id"]: text for i, text in labels.items()}
    assert by_id["sigmoid"] == "Part A: your answer"
    assert by_id["test_sigmoid"] == "Part A: visible tests (no points)"
    assert by_id["test_sigmoid_hidden"] == "Part A: hidden tests, 2.62 of 3 points"
    assert by_id["test_parameters_per_step_hidden"] == "Part H: hidden tests, 1 of 1 point"
    assert by_id["reflection"] == "Part I: your answer (waits for your instructor)"


def test_every_formula_of_the_notebook_becomes_mathml():
    notebook = nbformat.read(SOURCE_NOTEBOOK, as_version=4)
    text = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    formulas = re.findall(r"\$\$(.+?)\$\$", text, re.DOTALL)
    formulas += re.findall(
        r"(?<!\$)\$([^$\n]+?)\$(?!\$)", re.sub(r"\$\$.+?\$\$", "", text, flags=re.DOTALL)
    )
    assert len(formulas) > 50
    for formula in formulas:
        assert mathml(formula, display=False).startswith("<math"), formula
    assert mathml(r"\notacommand{x}", display=True).startswith('<code class="lab21-latex">')


# ----------------------------------------------------------------------------------------------
# Graded for real

STUDENTS = {
    "cleo_typical": SAMPLE_CLASS / "cleo_typical.py",  # lead_coef of the output; sign error
    "ben_untouched": SAMPLE_CLASS / "ben_untouched.py",  # the release as it came
}


@pytest.fixture(scope="module")
def feedback(by_command_line):
    """The two students' pages in the shared command-line class (tests/conftest.py)."""
    course = by_command_line.course
    return {
        student: course.notebook("feedback", student).with_suffix(".html") for student in STUDENTS
    }


def report_part(html):
    """The report card's HTML, before the notebook, with escaped apostrophes (&#39;, &#x27;)
    written as characters."""
    report = html.split("Your notebook, as it was graded")[0]
    return report.replace("&#39;", "'").replace("&#x27;", "'")


@pytest.mark.slow
def test_the_page_opens_with_the_report_card(feedback):
    html = feedback["cleo_typical"].read_text()
    report = report_part(html)
    assert "Test cell (Score" not in html  # nbgrader's stock table of contents is gone
    assert "Score: <strong>19.62 / 31</strong>" in report
    assert "Part I, 3 points, still waits for your instructor" in report
    for letter in PART_LETTERS:
        assert f'href="#lab21-part-{letter}">Part {letter}: ' in report
    # The parts that lost points list their failed checks' messages, in the report itself,
    # exactly as the grading record (the autograded notebook's verdicts) has them.
    assert "Part E: lead_coef, 0 of 3 points" in report
    assert "lead_coef(0) returned 0, expected 0.25" in report
    assert "Learning: accuracy on six training runs, 0 of 5 points" in report
    graded = feedback["cleo_typical"].parents[2].parent / "autograded" / "cleo_typical"
    record = nbformat.read(graded / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4).metadata
    failed = [
        check["message"]
        for verdict in record[METADATA_KEY]["verdicts"]
        for check in verdict["checks"]
        if not check["passed"]
    ]
    assert len(failed) >= 8
    for message in failed:
        assert html_escape(message, quote=False) in report, message


@pytest.mark.slow
def test_cells_not_run_say_so_in_one_line(feedback):
    html = feedback["cleo_typical"].read_text()
    notebook = html.split("Your notebook, as it was graded")[1]
    lines = re.findall(r'<p class="lab21-not-run" role="note">([^<]*)</p>', notebook)
    assert len(lines) >= 8  # the unchanged demo cells: pictures, examples, the loss plot
    assert all("not run when grading" in line.lower() for line in lines)


@pytest.mark.slow
def test_graded_cells_are_labelled_by_part(feedback):
    html = feedback["cleo_typical"].read_text()
    labels = re.findall(r'<p class="lab21-cell-label">([^<]*)</p>', html)
    assert "Part E: hidden tests, 0 of 3 points" in labels
    assert "Part A: visible tests (no points)" in labels
    assert labels.count("Part J: your answer") == 1


@pytest.mark.slow
def test_an_untouched_notebook_gets_no_for_every_part(feedback):
    report = report_part(feedback["ben_untouched"].read_text())
    assert "Score: <strong>0 / 31</strong>" in report
    assert "This answer was left blank." in report
    assert report.count("raised NotImplementedError") >= 9


def test_formgraders_template_setting_does_not_win():
    """Formgrader sets HTMLExporter.template_name to "feedback"; our exporter keeps its own."""
    from traitlets.config import Config

    config = Config()
    config.HTMLExporter.template_name = "feedback"
    config.FeedbackExporter.template_name = "lab21_feedback"
    assert FeedbackExporter(config=config).template_name == "lab21_feedback"


@pytest.mark.slow
@pytest.mark.parametrize("student", sorted(STUDENTS))
def test_the_feedback_page_has_no_serious_accessibility_problem(feedback, student, tmp_path):
    page = check_page(feedback[student], screenshot=tmp_path / f"{student}.png")
    assert page.blocking() == [], page.report()
    assert page.external_requests() == []
    assert page.maths["count"] > 50 and page.maths["drawn"] == page.maths["count"]


def test_markup_in_code_and_output_stays_text_and_the_page_stays_navigable():
    """The page's own rendering (no BeautifulSoup pass, no sanitizer over highlighted code):
    markup in a code cell or its printed output is shown as text (markdown is the student's
    HTML, kept inert by the page's content security policy), every input and output can take
    the keyboard's focus, and an image without alt text gets nbconvert's placeholder."""
    from coursepack.feedback import NO_ALT, OfflineHTMLExporter

    hostile = '</div></pre><script>alert(1)</script><img src=x onerror="alert(2)">'
    notebook = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell(f"text = '{hostile}'", metadata={"magics_language": "html"})
    code.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=hostile),
        nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo="}),
    ]
    notebook.cells = [nbformat.v4.new_markdown_cell("My answer."), code]
    page, _ = OfflineHTMLExporter().from_notebook_node(notebook)
    assert "<script>alert" not in page and "<img src=x" not in page
    text = re.sub(r"</?span[^>]*>", "", page)  # Pygments' token colours
    assert text.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 2  # the code, the output
    assert page.count('<div class="jp-Cell-inputWrapper" tabindex="0">') == 2
    outputs = re.findall(r'<div [^>]*class="[^"]*jp-OutputArea-output[^"]*"[^>]*>', page)
    assert len(outputs) == 2 and all('tabindex="0"' in tag for tag in outputs)
    assert page.count(f'<img alt="{NO_ALT}"') == 1


def test_the_pages_substitutions_take_linear_time_on_unclosed_tags():
    """A page full of `<img` or `<div class="` with no end, or one tag of a million characters
    (a student's markdown can hold them), costs its length, not its length squared (red team,
    rounds 4 and 5: a minute or more for one page)."""
    import signal

    from coursepack.feedback import DIV_CLASS, IMAGE_WITHOUT_ALT, focusable

    def too_slow(signum, frame):
        raise TimeoutError("a substitution is not linear")

    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(20)  # the quadratic versions took minutes on this input
    try:
        for text in (
            "<img " * 60_000,
            '<div class="x ' * 60_000,
            '<div a="b" ' * 60_000,
            '<div class="' + "jp-OutputArea-output " * 60_000 + '>"',  # one tag, many words
        ):
            IMAGE_WITHOUT_ALT.subn("<img alt=''", text)
            DIV_CLASS.sub(focusable, text)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


FORGED_CARD = """<style>section.lab21-report { display: none !important; }</style>
<section class="lab21-report" id="lab21-part-A"><p class="lab21-total">Score: 31 / 31</p></section>
<meta http-equiv="refresh" content="0; url=https://example.org/regrade">
<form action="https://example.org"><input name="password"></form><iframe src="x"></iframe>
<base href="https://example.org/"><b style="color: red">bold</b><div class="jp-Spinner">.</div>

The loss is $x^2$."""


def test_html_a_student_writes_keeps_its_text_and_loses_what_styles_runs_or_moves(monkeypatch):
    """Markdown the release does not have, and HTML or Markdown outputs and raw cells, are
    sanitized: no style, script, meta, form, frame or base, no style attributes, none of the
    page's own classes or ids; the text, the structure and the maths stay. The release's own
    markdown is shown as it is."""
    from coursepack import feedback

    notebook = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("show()")
    code.outputs = [
        nbformat.v4.new_output("display_data", data={"text/html": FORGED_CARD}),
        nbformat.v4.new_output("display_data", data={"text/markdown": FORGED_CARD}),
    ]
    notebook.cells = [
        nbformat.v4.new_markdown_cell(FORGED_CARD),
        code,
        nbformat.v4.new_raw_cell(FORGED_CARD),
    ]
    page, _ = feedback.OfflineHTMLExporter().from_notebook_node(notebook)
    body = page.split("<main>", 1)[1]
    for banned in ("<style", "<meta", "<form", "<input", "<iframe", "<base", "style=", "refresh"):
        assert banned not in body, banned
    assert "lab21-report" not in body and 'id="lab21-part-A"' not in body
    assert "jp-Spinner" not in body  # no class at all: the page's own could cover the card
    assert body.count("Score: 31 / 31") == 4  # the text stays, as text
    assert body.count("<b>bold</b>") == 4
    assert '<math alttext="x^2"' in body  # the markdown cell's maths

    # The same markdown, were it the release's own text, is shown as it is.
    monkeypatch.setattr(feedback, "released_markdown", lambda: {FORGED_CARD})
    page, _ = feedback.OfflineHTMLExporter().from_notebook_node(notebook)
    body = page.split("<main>", 1)[1]
    assert body.count('<b style="color: red">bold</b>') == 1


PAYLOAD = '</pre></div><style>main { display: none }</style><meta http-equiv="refresh" content="0">'


def test_every_kind_of_output_is_escaped_sanitized_or_not_drawn():
    """One output of every kind a kernel can send, each carrying markup: only the kinds the lab
    makes are drawn, each escaped or sanitized (nbconvert's Mermaid block wrote its text raw:
    red team, round 5)."""
    from coursepack.feedback import SHOWN_OUTPUTS, OfflineHTMLExporter

    kinds = [
        *SHOWN_OUTPUTS, "text/vnd.mermaid", "application/javascript", "application/pdf",
        "application/vnd.jupyter.widget-view+json", "application/json", "text/x-unknown",
    ]  # fmt: skip
    code = nbformat.v4.new_code_cell("show()")
    for kind in kinds:
        binary = kind.startswith("image/") and kind != "image/svg+xml"
        data = "iVBORw0KGgo=" if binary else PAYLOAD
        if kind.endswith("json"):
            data = {"model_id": PAYLOAD, "text": PAYLOAD}
        code.outputs.append(nbformat.v4.new_output("display_data", data={kind: data}))
    code.outputs.append(nbformat.v4.new_output("stream", name="stdout", text=PAYLOAD))
    code.outputs.append(
        nbformat.v4.new_output("error", ename=PAYLOAD, evalue=PAYLOAD, traceback=[PAYLOAD])
    )
    page, _ = OfflineHTMLExporter().from_notebook_node(nbformat.v4.new_notebook(cells=[code]))
    body = page.split("<main>", 1)[1]
    assert "<style" not in body and "<meta" not in body and "<script" not in body
    assert "</pre></div><style>" not in body and 'class="mermaid"' not in body


def test_a_students_long_markdown_is_shown_as_text():
    """Markdown's and the maths' parsers take more than linear time on some texts (an unclosed
    \\begin, thousands of formulas): past 10,000 characters a student's markdown is shown as
    written (escaped, cut), not rendered."""
    from coursepack.feedback import STUDENT_MARKDOWN_CHARACTERS, OfflineHTMLExporter

    text = "\\begin{x} $a$ <b>" * 5_000
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text)])
    page, _ = OfflineHTMLExporter().from_notebook_node(notebook)
    body = page.split("<main>", 1)[1]
    assert f"longer than {STUDENT_MARKDOWN_CHARACTERS:,} characters" in body
    assert "<math" not in body and "<b>" not in body and "&lt;b&gt;" in body
    assert len(body) < 3 * STUDENT_MARKDOWN_CHARACTERS


def test_the_released_cells_html_is_made_once_and_a_students_own_cells_every_time():
    """Each page shows the released lab's text and code again: their HTML is made once per
    process and reused. Only the release's own sources are reused; a student's changed text or
    code, or a released cell with the student's attachment or cell language, is rendered from
    what that student handed in, and leaves the next page as it was."""
    from coursepack import feedback
    from coursepack.course import repo_course

    release = nbformat.read(repo_course().notebook("release"), as_version=4)
    feedback._released_markdown_html.cache_clear()
    feedback._released_code_html.cache_clear()

    def page(notebook):
        return feedback.OfflineHTMLExporter().from_notebook_node(notebook)[0]

    def counts():
        return [
            (c.hits, c.misses)
            for c in (
                feedback._released_markdown_html.cache_info(),
                feedback._released_code_html.cache_info(),
            )
        ]

    first = page(release)
    made = counts()
    assert all(misses > 20 for _, misses in made)
    assert page(release) == first
    # The second page made nothing: every released cell came from the first.
    assert counts() == [(hits + hits + misses, misses) for hits, misses in made]

    changed = nbformat.from_dict(release)
    text = next(c for c in changed.cells if c.cell_type == "markdown" and "$" in c.source)
    code = next(c for c in changed.cells if c.cell_type == "code" and "def " in c.source)
    text.source += "\n\nMY OWN NOTE on $w_9$"
    code.source = code.source.replace("def ", "def my_own_", 1)
    students_page = page(changed)
    assert "MY OWN NOTE" in students_page and 'alttext="w_9"' in students_page
    assert "my_own_" in students_page
    # The next page, the release's own again, has nothing of that student's.
    assert page(release) == first

    # A released cell that the student's notebook gives a language of its own, or a lexer the
    # release does not use, is highlighted as nbconvert would, and nothing of it is kept
    # (red team round 7: "" as the cell's language was once taken for no language at all).
    source = next(c.source for c in release.cells if c.cell_type == "code" and "def " in c.source)
    kept = feedback._released_code_html.cache_info().currsize
    for lexer, metadata in [
        ("ipython3", {"magics_language": "bash"}),
        ("ipython3", {"magics_language": ""}),
        ("ipython3", {"magics_language": None}),
        ("not-a-lexer-" * 50, {}),
    ]:
        ours = feedback.ReleasedCodeHighlighter(pygments_lexer=lexer)
        nbconverts = Highlight2HTML(pygments_lexer=lexer)
        assert ours(source, metadata=metadata) == nbconverts(source, metadata=metadata)
    assert feedback._released_code_html.cache_info().currsize == kept


def test_a_released_cells_attachment_is_each_students_own(monkeypatch):
    """Were the lab's text to show an attachment, each student's notebook carries its own copy:
    such a cell is rendered from the student's notebook, never from the cache."""
    from coursepack import feedback

    text = "A figure: ![plot](attachment:plot.png)"
    released = {"markdown": frozenset({text}), "code": frozenset()}
    monkeypatch.setattr(feedback, "released_sources", lambda: released)
    for data in ("iVBORw0KGgoAAAA=", "iVBORw0KGgoBBBB="):
        cell = nbformat.v4.new_markdown_cell(text, attachments={"plot.png": {"image/png": data}})
        notebook = nbformat.v4.new_notebook(cells=[cell])
        page, _ = feedback.OfflineHTMLExporter().from_notebook_node(notebook)
        assert f'src="data:image/png;base64,{data}"' in page
