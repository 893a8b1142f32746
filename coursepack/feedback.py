"""The feedback page a student gets: a report card first, then their notebook as it was graded.

nbgrader's `generate_feedback` builds it through `nbgrader_config.py`: `ReportCard` (a
preprocessor, after nbgrader's GetGrades) reads the grading record that autograde left in the
notebook (`lab21_grading`: one verdict per hidden test cell, the cells not run) and the scores
in the gradebook; `FeedbackExporter` renders the page with `templates/lab21_feedback`.

The report card names each part with its points and lists the messages of the checks it
missed, before anything else. In the notebook below it, each graded cell says which part it
belongs to, and each cell that was not run when grading says so in one line.

The page needs no internet: LaTeX in the notebook's text is turned into MathML when the page
is made (latex2mathml; browsers render MathML natively and screen readers read it), and none
of the CDN scripts of nbconvert's templates (MathJax, require.js, mermaid) are loaded.
"""

import html
import re
from collections import Counter
from contextlib import suppress
from functools import cache, lru_cache
from pathlib import Path

import bleach
import jinja2
import nbformat
from jinja2 import pass_context
from latex2mathml.converter import convert as latex_to_mathml
from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters import strip_ansi
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbconvert.preprocessors import Preprocessor
from nbgrader import utils
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import default, validate

from coursepack.course import repo_course
from coursepack.guarded_execute import METADATA_KEY
from coursepack.submissions import nbgrader_meta

TEMPLATES = Path(__file__).resolve().parent / "templates"
# What each hidden suite of a part with several is about, for the report card.
SUITE_TITLES = {
    "firstNN_contract": "The contract: what it returns and how it trains",
    "firstNN_accuracy": "Learning: accuracy on six training runs",
}
UNKNOWN_COMMAND = re.compile(r">\\[A-Za-z]+<")
# What nbconvert's HTMLExporter marks up after rendering, with BeautifulSoup: the cell inputs and
# outputs the keyboard can reach, and images with no alt text. Neither pattern looks past the
# tag it starts in (no "<" or ">") or rescans what it matched, so any page costs linear time: a
# lookahead to the next ">" once made one student's page take minutes.
DIV_CLASS = re.compile(r'<div (?:[a-z-]+="[^"<>]*" )*class="([^"<>]*)"')
FOCUSABLE = {"jp-Cell-inputWrapper", "jp-OutputArea-output"}
IMAGE_WITHOUT_ALT = re.compile(r"<img\b(?![^<>]*\salt=)")
NO_ALT = "No description has been provided for this image"  # nbconvert's words
PART_HEADING = re.compile(r"^#+ Part (\w+) \((\d+(?:\.\d+)?) points?\): (.+)$", re.MULTILINE)


# ----------------------------------------------------------------------------------------------
# Student-written HTML: kept as text, structure and maths; nothing that runs, restyles or moves

# The page shows HTML a student wrote: markdown the release does not have (their answer, or a
# lab cell they edited), HTML and Markdown outputs, raw cells. The content security policy
# stops scripts; this also removes styles, classes, forms, frames and meta refreshes, so that a
# student cannot draw a report card of their own over the real one or send the reader elsewhere.
MATHML_TAGS = (
    "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msup", "msub", "msubsup",
    "mfrac", "msqrt", "mroot", "mover", "munder", "munderover", "mstyle", "mpadded", "mphantom",
    "menclose", "mtable", "mtr", "mtd", "semantics", "annotation",
)  # fmt: skip
STUDENT_TAGS = (
    *bleach.ALLOWED_TAGS, "p", "div", "span", "pre", "br", "hr", "h1", "h2", "h3", "h4", "h5",
    "h6", "table", "thead", "tbody", "tfoot", "tr", "th", "td", "img", "sub", "sup", "del",
    *MATHML_TAGS,
)  # fmt: skip
STUDENT_ATTRIBUTES = {
    "title", "alt", "width", "border", "colspan", "rowspan", "alttext", "display", "xmlns",
    "mathvariant", "stretchy", "displaystyle", "scriptlevel", "minsize", "maxsize", "fence",
    "separator", "accent", "lspace", "rspace", "movablelimits", "columnalign",
}  # fmt: skip
# (No class either: the page's own classes can draw boxes over the report card.)
STUDENT_MARKDOWN_CHARACTERS = 10_000  # per cell or output; a written answer is a paragraph or two
SHOWN_OUTPUTS = (
    "text/html", "text/markdown", "image/svg+xml", "text/latex", "image/png", "image/jpeg",
    "text/plain",
)  # fmt: skip
INERT_BLOCK = re.compile(r"<(style|script)\b[^<>]*>[^<]*</\1\s*>", re.IGNORECASE)


def _student_attribute(tag, name, value):
    if name in STUDENT_ATTRIBUTES:
        return True
    if name == "href" and tag == "a":
        return value.startswith(("https://", "http://", "mailto:", "#"))
    return name == "src" and tag == "img" and value.startswith("data:image/")


STUDENT_HTML = bleach.Cleaner(
    tags=STUDENT_TAGS,
    attributes=_student_attribute,
    protocols=["https", "http", "mailto", "data"],
    strip=True,
    strip_comments=True,
)


def sanitize(fragment):
    """Student-written HTML with only what reads: text, structure, links, images, maths. A style
    or script block goes whole (its text too); any other tag goes, its text stays."""
    return STUDENT_HTML.clean(INERT_BLOCK.sub("", str(fragment)))


def is_released_text(cell):
    """True for a markdown cell whose text is the released lab's own, word for word."""
    return cell.get("cell_type") == "markdown" and cell.get("source") in released_markdown()


def released_markdown():
    """The markdown cells of the released lab: the course's own text, shown as it is."""
    return released_sources()["markdown"]


@cache
def released_sources():
    """The released lab's cell sources ({"markdown": ..., "code": ...}, frozensets) and the
    Pygments lexers its code is highlighted with ("lexers")."""
    notebook = nbformat.read(repo_course().notebook("release"), as_version=4)
    language = notebook.metadata.get("language_info", {})
    sources = {
        kind: frozenset(cell.source for cell in notebook.cells if cell.cell_type == kind)
        for kind in ("markdown", "code")
    }
    # A notebook saved by Jupyter names the lexer ipython3; the release, python.
    return {**sources, "lexers": frozenset({notebook_lexer(language), "python", "ipython3"})}


def notebook_lexer(language_info):
    """The Pygments lexer a notebook's code is highlighted with (HTMLExporter's choice)."""
    return language_info.get("pygments_lexer", language_info.get("name", None)) or "ipython3"


# Every page shows the released lab's own cells again: their HTML is made once per process.
# Only the release's own sources are kept, highlighted the release's way, so the cache is
# bounded by the release, and each result is a function of its key alone: no student's page
# can hold anything of another's. The keys' other parts are the exporter's configuration.
@lru_cache(maxsize=512)
def _released_markdown_html(source, anchor_link_text, exclude_anchor_links, lexer_options):
    return render_markdown(
        source, {}, False, "", anchor_link_text, exclude_anchor_links, dict(lexer_options)
    )


def render_markdown(
    source, attachments, embed_images, path, anchor_link_text, exclude_anchor_links, lexer_options
):
    """A markdown cell's HTML, its maths as MathML (MathMLRenderer, below)."""
    renderer = MathMLRenderer(
        escape=False,
        attachments=attachments,
        embed_images=embed_images,
        path=path,
        anchor_link_text=anchor_link_text,
        exclude_anchor_links=exclude_anchor_links,
        **lexer_options,
    )
    return MarkdownWithMath(renderer=renderer).render(source)


@lru_cache(maxsize=512)
def _released_code_html(source, pygments_lexer, formatter_options):
    highlighter = Highlight2HTML(
        pygments_lexer=pygments_lexer, extra_formatter_options=dict(formatter_options)
    )
    return highlighter(source)


class ReleasedCodeHighlighter(Highlight2HTML):
    """nbconvert's code highlighting, made once per process for the released lab's code cells
    (as the release has them: a Python lexer, no cell language of their own)."""

    def __call__(self, source, language=None, metadata=None):
        released = released_sources()
        if (
            source in released["code"]
            and language is None
            and "magics_language" not in (metadata or {})
            and self.pygments_lexer in released["lexers"]
        ):
            options = tuple(sorted(self.extra_formatter_options.items()))
            with suppress(TypeError):  # options that cannot key a cache: highlight below
                return _released_code_html(source, self.pygments_lexer, options)
        return super().__call__(source, language, metadata)


# ----------------------------------------------------------------------------------------------
# Maths without a network: LaTeX to MathML when the page is made


def mathml(latex, display):
    """MathML for one formula; the LaTeX source itself (as code) if it cannot be converted."""
    try:
        converted = latex_to_mathml(latex.strip(), display="block" if display else "inline")
    except Exception:  # a malformed formula: show the source rather than lose it
        converted = None
    # latex2mathml passes a command it does not know through as text (<mi>\foo</mi>).
    if converted is None or UNKNOWN_COMMAND.search(converted):
        return f'<code class="lab21-latex">{html.escape(latex)}</code>'
    # Screen readers announce MathML; the LaTeX is kept as its text alternative too.
    return converted.replace("<math ", f'<math alttext="{html.escape(latex.strip())}" ', 1)


def focusable(match):
    """A div the keyboard can reach if its classes say it is a cell's input or an output."""
    tag = match.group(0)
    return tag + ' tabindex="0"' if FOCUSABLE & set(match.group(1).split()) else tag


class MathMLRenderer(IPythonRenderer):
    """nbconvert's Markdown renderer, with $...$ and $$...$$ written as MathML."""

    def block_math(self, body):
        return mathml(body, display=True)

    def inline_math(self, body):
        return mathml(body, display=False)

    def latex_environment(self, name, body):
        return mathml(f"\\begin{{{name}}}{body}\\end{{{name}}}", display=True)


class PlainTracebacks(Preprocessor):
    """Tracebacks without terminal colours: IPython's colours fail the contrast WCAG asks for
    on the pink background of an error, and plain text reads the same for everyone."""

    def preprocess_cell(self, cell, resources, index):
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                output.traceback = [strip_ansi(line) for line in output.traceback]
        return cell, resources


class _CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates kept in memory for the life of the process. nbgrader makes a new
    exporter (so a new Jinja environment) for every feedback page, and compiling nbconvert's
    templates again took about a third of a second a page. Jinja checks each template's source
    against its checksum, so an edited template is compiled afresh."""

    def __init__(self):
        self.compiled = {}

    def load_bytecode(self, bucket):
        code = self.compiled.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket):
        self.compiled[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = _CompiledTemplates()


class OfflineHTMLExporter(HTMLExporter):
    """nbconvert's HTML (lab template) that loads nothing from the internet: maths as MathML.

    Code is highlighted with Pygments' "xcode" style, whose colours all keep a contrast of at
    least 4.5:1 on the code background (the default style's comments and numbers do not).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.register_preprocessor(PlainTracebacks, enabled=True)

    def _create_environment(self):
        environment = super()._create_environment()
        environment.bytecode_cache = COMPILED_TEMPLATES
        return environment

    @property
    def default_config(self):
        config = super().default_config
        config.CSSHTMLHeaderPreprocessor.style = "xcode"
        # Only these kinds of output are drawn (the first a display has, in this order): what
        # the lab makes, each escaped or sanitized. Not nbconvert's others: its Mermaid block
        # writes a student's text raw into the page; JavaScript and widgets cannot run here.
        config.NbConvertBase.display_data_priority = list(SHOWN_OUTPUTS)
        return config

    @default("template_name")
    def _template_name_default(self):
        return "lab21_offline"

    @default("extra_template_basedirs")
    def _extra_template_basedirs_default(self):
        return [str(TEMPLATES)]

    @validate("extra_template_basedirs")
    def _keep_our_templates(self, proposal):
        # nbgrader's GenerateFeedback configures HTMLExporter's folders with its own: add ours.
        folders = list(proposal["value"])
        return folders if str(TEMPLATES) in folders else [str(TEMPLATES), *folders]

    @pass_context
    def markdown2html(self, context, source):
        cell = context.get("cell", {})
        if len(source) > STUDENT_MARKDOWN_CHARACTERS and not is_released_text(cell):
            # Markdown's and maths' parsers and the sanitizer take more than linear time on
            # some texts: a student's long markdown is shown as text, not rendered.
            return (
                f'<p class="lab21-not-run">This text is longer than'
                f" {STUDENT_MARKDOWN_CHARACTERS:,} characters: shown as written, cut there.</p>"
                f"<pre>{html.escape(source[:STUDENT_MARKDOWN_CHARACTERS])}</pre>"
            )
        if is_released_text(cell) and not cell.get("attachments") and not self.embed_images:
            options = tuple(sorted(self.lexer_options.items()))
            with suppress(TypeError):  # lexer options that cannot key a cache: render below
                return _released_markdown_html(
                    source, self.anchor_link_text, self.exclude_anchor_links, options
                )
        return render_markdown(
            source,
            cell.get("attachments", {}),
            self.embed_images,
            context.get("resources", {}).get("metadata", {}).get("path", ""),
            self.anchor_link_text,
            self.exclude_anchor_links,
            self.lexer_options,
        )

    @default("sanitize_html")
    def _sanitize_html_default(self):
        return True

    @pass_context
    def clean_html(self, context, fragment):
        """The lab template's sanitizer (on markdown, HTML and Markdown outputs, raw cells):
        the release's own markdown as it is, everything else through `sanitize`."""
        if is_released_text(context.get("cell") or {}):
            return fragment
        return sanitize(fragment)

    def default_filters(self):
        ours = {"markdown2html": self.markdown2html, "clean_html": self.clean_html}
        for name, function in super().default_filters():
            yield name, ours.get(name, function)

    def from_notebook_node(self, nb, resources=None, **kw):
        """HTMLExporter's rendering, with its BeautifulSoup pass over the finished page (parse
        and re-serialise: half a feedback page's cost) done by two substitutions instead."""
        lexer = notebook_lexer(nb.metadata.get("language_info", {}))
        self.register_filter(
            "highlight_code",
            self.filters.get(
                "highlight_code", ReleasedCodeHighlighter(pygments_lexer=lexer, parent=self)
            ),
        )
        resources = self._init_resources(resources)
        self.register_filter(
            "filter_data_type",
            WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources
            ),
        )
        page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        page, missing_alt = IMAGE_WITHOUT_ALT.subn(f'<img alt="{NO_ALT}"', page)
        if missing_alt:
            self.log.warning("Alternative text is missing on %s image(s).", missing_alt)
        return DIV_CLASS.sub(focusable, page), resources


class FeedbackExporter(OfflineHTMLExporter):
    """The feedback page: the report card, then the notebook (templates/lab21_feedback)."""

    @default("template_name")
    def _template_name_default(self):
        return "lab21_feedback"


# ----------------------------------------------------------------------------------------------
# The report card: plain data, built from the grading record and the gradebook's scores


def part_of_each_cell(cells):
    """[(letter, title, points) or None] per cell: the Part whose heading comes before it."""
    current, parts = None, []
    for cell in cells:
        if cell.cell_type == "markdown":
            headings = PART_HEADING.findall(cell.source)
            if headings:
                letter, points, title = headings[-1]
                current = (letter, title.replace("`", "").strip(), float(points))
        parts.append(current)
    return parts


def plural(count, word):
    return f"{count:g} {word}" + ("" if count == 1 else "s")


def _score(meta):
    score = meta.get("score")
    return None if score is None else float(score)


def report_card(cells, grading, total=None, late_penalty=0.0, waiting=()):
    """The report card's data: parts in the notebook's order, with points and check results.

    cells: the graded notebook's cells, after nbgrader's GetGrades (each grade cell carries its
    `score` and `points`); grading: the notebook's `lab21_grading` record (may lack verdicts);
    waiting: grade ids of the answers that still wait for a person to grade them.
    """
    verdicts = {v.get("grade_id"): v for v in grading.get("verdicts", [])}
    parts, order = {}, []
    for cell, part in zip(cells, part_of_each_cell(cells), strict=True):
        meta = nbgrader_meta(cell)
        if part is None or not (meta.get("grade") or meta.get("solution")):
            continue
        letter, title, heading_points = part
        if letter not in parts:
            order.append(letter)
            parts[letter] = {
                "letter": letter,
                "name": title,
                "points": 0.0,
                "earned": 0.0,
                "pending": False,
                "suites": [],
                "manual": False,
                "blank": False,
            }
        entry = parts[letter]
        if meta.get("solution") and cell.cell_type == "code":
            entry["name"] = meta.get("grade_id") or title
        if not meta.get("grade") or not float(meta.get("points") or 0):
            continue
        points, score = float(meta["points"]), _score(meta)
        entry["points"] += points
        if meta.get("solution"):  # a written answer, graded by hand
            entry["manual"] = True
            entry["pending"] = score is None or meta.get("grade_id") in waiting
            # nbgrader gives 0 itself when the answer cell was left as released.
            entry["blank"] = utils.determine_grade(cell)[0] == 0
            entry["earned"] += score or 0.0
            continue
        verdict = verdicts.get(meta.get("grade_id"))
        earned = score if score is not None else float((verdict or {}).get("earned", 0.0))
        entry["earned"] += earned
        entry["suites"].append(_suite(meta, verdict, points, earned))
    part_list = [parts[letter] for letter in order]
    possible = sum(part["points"] for part in part_list)
    earned = sum(part["earned"] for part in part_list) - late_penalty
    return {
        "parts": part_list,
        "earned": earned if total is None else total,
        "possible": possible,
        "pending": [part for part in part_list if part["pending"]],
        "late_penalty": late_penalty,
        "notices": list(grading.get("notices", [])),
        "not_run": not_run_summary(grading.get("not_run", {})),
    }


def _suite(meta, verdict, points, earned):
    """One hidden test cell's result: what was checked and what failed."""
    if verdict is None:  # graded before verdicts were recorded: the cell's output says it all
        return {
            "grade_id": meta.get("grade_id"),
            "title": meta.get("grade_id"),
            "points": points,
            "earned": earned,
            "status": "unknown",
            "reason": "the details are in the notebook below",
            "checks": [],
            "failed": [],
            "passed": 0,
        }
    checks = verdict.get("checks", [])
    return {
        "grade_id": meta.get("grade_id"),
        "suite": verdict.get("suite"),
        "title": SUITE_TITLES.get(verdict.get("suite"), verdict.get("suite")),
        "points": points,
        "earned": earned,
        "status": verdict.get("status", "judged"),
        "reason": verdict.get("reason", ""),
        "checks": checks,
        "failed": [check for check in checks if not check.get("passed")],
        "passed": sum(bool(check.get("passed")) for check in checks),
    }


def not_run_summary(not_run):
    """[(reason, how many cells)] for the cells not run when grading, most common first."""
    return [
        (capitalised(reason), count) for reason, count in Counter(not_run.values()).most_common()
    ]


def capitalised(text):
    return text[:1].upper() + text[1:]


def one_line(reason):
    """A reason as a sentence: capital first letter, full stop at the end."""
    reason = reason.strip()
    if not reason:
        return ""
    reason = reason[0].upper() + reason[1:]
    return reason if reason.endswith((".", "!", "?")) else reason + "."


def cell_labels(cells, waiting=()):
    """{cell index: label} for every graded or answer cell: which part it is and what it does."""
    labels = {}
    for index, (cell, part) in enumerate(zip(cells, part_of_each_cell(cells), strict=True)):
        meta = nbgrader_meta(cell)
        if part is None or not (meta.get("grade") or meta.get("solution")):
            continue
        letter = part[0]
        points, score = float(meta.get("points") or 0), _score(meta)
        if meta.get("solution"):
            label = f"Part {letter}: your answer"
            if meta.get("grade"):
                label += (
                    " (waits for your instructor)"
                    if score is None or meta.get("grade_id") in waiting
                    else (f" ({score:g} of {plural(points, 'point')})")
                )
        elif points == 0:
            label = f"Part {letter}: visible tests (no points)"
        else:
            got = "not graded" if score is None else f"{score:g} of {plural(points, 'point')}"
            label = f"Part {letter}: hidden tests, {got}"
        labels[index] = label
    return labels


class ReportCard(NbGraderPreprocessor):
    """Put the report card's data in the resources, and a label on each graded cell.

    Runs in `generate_feedback`, after GetGrades (which puts each grade cell's score in the
    cell's metadata) and ClearHiddenTests.
    """

    def preprocess(self, nb, resources):
        grading = nb.metadata.get(METADATA_KEY, {})
        info = resources.get("nbgrader", {})
        waiting = self._waiting_for_a_person(nb, info)
        resources["lab21_report"] = report_card(
            nb.cells,
            grading,
            total=info.get("score"),
            late_penalty=float(info.get("late_penalty") or 0.0),
            waiting=waiting,
        )
        resources["lab21_report"]["student"] = info.get("student", "")
        not_run = grading.get("not_run", {})
        labels = cell_labels(nb.cells, waiting)
        for index, cell in enumerate(nb.cells):
            if index in labels:
                cell.metadata["lab21_label"] = labels[index]
            reason = not_run.get(cell.get("id"))
            if reason:
                cell.metadata["lab21_not_run"] = one_line(reason)
            elif cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell):
                # The number that nbgrader reads as a hidden test cell's score is in the label.
                cell.outputs = [o for o in cell.outputs if o.output_type != "execute_result"]
        return nb, resources

    @staticmethod
    def _waiting_for_a_person(nb, info):
        """Grade ids of manually graded cells not graded yet (the gradebook knows; a score of
        0 in the cell does not tell "not graded yet" from "graded 0")."""
        if not info.get("db_url"):
            return set()
        waiting = set()
        with Gradebook(info["db_url"]) as gradebook:
            for cell in nb.cells:
                meta = nbgrader_meta(cell)
                if meta.get("grade") and meta.get("solution"):
                    grade = gradebook.find_grade(
                        meta["grade_id"], info["notebook"], info["assignment"], info["student"]
                    )
                    if grade.needs_manual_grade:
                        waiting.add(meta["grade_id"])
        return waiting
