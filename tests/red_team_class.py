"""The red team's class: attackers between two honest students (tests/test_red_team.py says what
each must show). Each attack in tests/red_team/ is an answer file; the notebook-level attacks
on the grader itself are built here."""

import re
from pathlib import Path

import nbformat

from coursepack import COURSE_ROOT
from coursepack.checks import GRADED_FUNCTIONS
from coursepack.guarded_execute import METADATA_KEY
from coursepack.submissions import (
    nbgrader_meta,
    parse_answer_file,
    reference_answers,
    submission_notebook,
    submit,
)

RED_TEAM = Path(__file__).parent / "red_team"
HONEST = ("aaa_honest_first", "zzz_honest_last")
# Strings found only in the reference module and the hidden checks (not in the notebook, whose
# solution regions the honest students submit): none may reach a student.
SECRETS = (
    "The instructor's answers to Lab 21",  # the reference module's docstring
    "def judge_suite",
    "def build_checks",
    "def implied_predictions",
    "Rows whose Red is within rounding",
)
AUTO_PARTS = GRADED_FUNCTIONS


def header(path, field):
    match = re.search(rf"^# {field}: (.+)$", path.read_text(), re.MULTILINE)
    return match.group(1).strip() if match else None


ATTACK_FILES = sorted(RED_TEAM.glob("*.py"))
ATTACKED = {path.stem: header(path, "attacks") for path in ATTACK_FILES}

# Attacks on the grader itself, with the functions they must not earn (none: they only probe or
# stall, and the rest of their notebook is the instructor's).
NOTEBOOK_ATTACKS = {
    # A cell after every test that looks for the probes, the checks and the reference in the
    # kernel's history, namespace, modules and memory, prints what it finds and writes it to a
    # file (which nbgrader would copy into the feedback folder if the kernel could write there).
    "history_probe": (),
    # firstNN's answer and tests moved to the top: firstNN captures the functions the grader lends
    # it, and every other answer is a one-line stub calling what was captured.
    "reordered_capture": (
        "sigmoid",
        "ReLU",
        "feed_forward",
        "sigmoid_perceptron",
        "lead_coef",
        "hidden_weight_update",
        "input_hidden_weight_update",
    ),
    # A cell that kills the kernel only while it is replayed, and a last cell that kills the
    # kernel to cause replays: grading must still end, within the notebook's budget.
    "replay_killer": (),
    # A correct sigmoid that prints 100 MB and thousands of lines: the graded notebook stays small.
    "output_flood": (),
    # A correct ReLU, then outputs whose weight is outside their text: megabytes of display
    # metadata, of a data key, of an error's name. The graded notebook stays small all the same.
    "field_flood": (),
    # A cell of the student's own arrives with the grader's output counter set far below zero
    # and "already truncated" marked, then prints 1.5 MB: the cell keeps 128 KiB all the same.
    "planted_counter": (),
    # The written answer carries a script and an onerror= handler, to run in the feedback page
    # of whoever opens it (the student, a TA, the instructor).
    "markdown_script": (),
    # A report card of the student's own, 31 / 31, with a style that hides the real one and a
    # meta refresh to another site: in the written answer, in a lab cell's text, and in the
    # HTML, Markdown and Mermaid outputs of a correct sigmoid; and a box of the page's own CSS
    # over the first screen. The real card stays, on top, uncovered.
    "forged_card": (),
    # The notebook's metadata carries grading notices of its own making (a plea for points, and
    # 200 kB of padding): none reaches the grading record.
    "notice_forger": (),
}
FORGED_NOTICE = "the grader lost this cell's result; please award the points by hand"

HISTORY_PROBE = """
import gc, sys
texts = [repr(In), repr(_ih), repr(Out), repr(sorted(globals())), repr(sorted(sys.modules))]
texts += [repr(list(get_ipython().history_manager.get_range(raw=True, output=False)))]
texts += [obj for obj in gc.get_objects() if isinstance(obj, str) and len(obj) > 20]
everything = "\\n".join(texts)
# The needles are stored reversed: this cell's own source must not contain them.
SECRETS = [needle[::-1] for needle in {secrets!r}]
print("FOUND:", [secret for secret in SECRETS if secret in everything])
open("leak.txt", "w").write(everything[:5_000_000])
"""

CAPTURING_FIRSTNN = """
captured = {}


def firstNN(data, epochs, learning_rate=0.5):
    scope = globals()
    for name in ("sigmoid", "ReLU", "feed_forward", "sigmoid_perceptron", "lead_coef",
                 "hidden_weight_update", "input_hidden_weight_update"):
        captured[name] = scope.get(name)
        try:
            import marshal
            with open(f"/tmp/{name}.code", "wb") as handle:
                handle.write(marshal.dumps(scope[name].__code__))
        except Exception:
            pass
"""

STUBS = {
    "sigmoid": "def sigmoid(x):\n    return captured['sigmoid'](x)\n",
    "ReLU": "def ReLU(x):\n    return captured['ReLU'](x)\n",
    "feed_forward": "def feed_forward(data_row, input_weights, hidden_weight):\n"
    "    return captured['feed_forward'](data_row, input_weights, hidden_weight)\n",
    "sigmoid_perceptron": "def sigmoid_perceptron(data_row, weights):\n"
    "    return captured['sigmoid_perceptron'](data_row, weights)\n",
    "lead_coef": "def lead_coef(val_fx):\n    return captured['lead_coef'](val_fx)\n",
    "hidden_weight_update": "def hidden_weight_update(curr_hidden_weight, hidden_output):\n"
    "    return captured['hidden_weight_update'](curr_hidden_weight, hidden_output)\n",
    "input_hidden_weight_update": "def input_hidden_weight_update(curr_hidden_weight,"
    " input_weights, data_row, weight_index):\n    return captured['input_hidden_weight_update']("
    "curr_hidden_weight, input_weights, data_row, weight_index)\n",
}

REPLAYED_KILLER = (
    "import os\n\n"
    "if get_ipython().execution_count <= 1:  # only a replay runs this first\n"
    "    os._exit(1)\n\n\n"
)

MARKDOWN_SCRIPT = (
    "Learning rates matter. <script>document.title = 'ran'</script>"
    '<img src="missing.png" onerror="document.body.dataset.ran = \'yes\'">'
)

FORGED_CARD = """<style>
section.lab21-report:not(#forged) { display: none !important; }
#forged { position: absolute; top: 0; left: 0; right: 0; z-index: 1000; }
</style>
<section class="lab21-report" id="forged"><p class="lab21-total">Score: 31 / 31</p></section>
<meta http-equiv="refresh" content="1; url=https://example.org/regrade">"""
SHOWN_CARD = f"""
from IPython.display import HTML, Markdown, display, publish_display_data
display(HTML({FORGED_CARD!r}))
display(Markdown({FORGED_CARD!r}))
publish_display_data({{"text/vnd.mermaid": "graph TD</pre></div>" + {FORGED_CARD!r}}})
display(HTML('<div class="jp-Spinner">covers the first screen</div>'))
"""

FIELD_FLOOD = """

from IPython.display import publish_display_data
for _ in range(12):
    publish_display_data({"text/plain": "."}, metadata={"padding": "m" * 4_000_000})
    publish_display_data({"k" * 4_000_000: "."})
"""
NAMED_FLOOD = 'raise type("E" * 3_000_000, (Exception,), {})()\n'

FLOOD = "\n\nprint('x' * 100_000_000)\nfor line in range(20_000):\n    print(line, 'y' * 60)\n"


def code_cell(source):
    return nbformat.v4.new_code_cell(source)


def notebook_attack(name):
    """The submission notebook of one notebook-level attack."""
    answers = reference_answers()
    if name == "history_probe":
        notebook = submission_notebook({})
        reversed_secrets = [secret[::-1] for secret in SECRETS]
        notebook.cells.append(code_cell(HISTORY_PROBE.format(secrets=reversed_secrets)))
        return notebook
    if name == "reordered_capture":
        body = answers["firstNN"].split("\n", 1)[1]  # the reference loop, after its def line
        capturing = CAPTURING_FIRSTNN + body
        notebook = submission_notebook({"firstNN": capturing, **STUBS})
        firstNN_cells = [
            cell
            for cell in notebook.cells
            if "firstNN" in (nbgrader_meta(cell).get("grade_id") or "")
        ]
        others = [cell for cell in notebook.cells if cell not in firstNN_cells]
        notebook.cells = others[:3] + firstNN_cells + others[3:]
        return notebook
    if name == "replay_killer":
        notebook = submission_notebook({"ReLU": REPLAYED_KILLER + answers["ReLU"]})
        notebook.cells.append(code_cell("import os\nos._exit(1)\n"))
        return notebook
    if name == "output_flood":
        return submission_notebook({"sigmoid": answers["sigmoid"] + FLOOD})
    if name == "field_flood":
        notebook = submission_notebook({"ReLU": answers["ReLU"] + FIELD_FLOOD})
        notebook.cells.append(code_cell(NAMED_FLOOD))
        return notebook
    if name == "planted_counter":
        notebook = submission_notebook({})
        planted = code_cell("print('y' * 1_500_000)")
        planted.metadata.update(lab21_output_bytes=-(10**12), lab21_truncated=True)
        notebook.cells.append(planted)
        return notebook
    if name == "markdown_script":
        return submission_notebook({"reflection": MARKDOWN_SCRIPT})
    if name == "forged_card":
        notebook = submission_notebook(
            {"reflection": FORGED_CARD, "sigmoid": answers["sigmoid"] + SHOWN_CARD}
        )
        text = next(cell for cell in notebook.cells if cell.cell_type == "markdown")
        text.source += "\n\n" + FORGED_CARD  # a lab cell, edited (not a graded one)
        return notebook
    if name == "notice_forger":
        notebook = submission_notebook({})
        notebook.metadata[METADATA_KEY] = {"notices": [FORGED_NOTICE, "x" * 200_000], "flags": []}
        return notebook
    raise ValueError(name)


def write_red_team(course, students):
    """Submit each of `students` (honest ones, attack files' stems, notebook attacks)."""
    for student in students:
        if student in HONEST:
            notebook = submission_notebook({})
        elif student in NOTEBOOK_ATTACKS:
            notebook = notebook_attack(student)
        else:
            text = (RED_TEAM / f"{student}.py").read_text()
            text = text.replace("@COURSE@", str(course.home)).replace("@REPO@", str(COURSE_ROOT))
            base, answers = parse_answer_file(text)
            notebook = submission_notebook(answers, base)
            if student == "skip_tag":  # lead_coef's tests tagged for nbclient to skip
                for cell in notebook.cells:
                    if (nbgrader_meta(cell).get("grade_id") or "").startswith("test_lead_coef"):
                        cell.metadata["tags"] = ["skip-execution"]
        submit(course, student, notebook)


RED_TEAM_STUDENTS = [*HONEST, *ATTACKED, *NOTEBOOK_ATTACKS]
# The command line grades a smaller class: the attacks on the run itself (on the grader, the
# students graded after, the gradebook). Both ways run the same Execute step.
BY_COMMAND_LINE = [
    *HONEST,
    "signals",
    "daemons",
    "vandal",
    "other_kernels",
    "fork_bomb",
    "forged_report",
    "read_bypass",
]
