"""The course hub's term, shared by the hub tests of both exchanges (filesystem and ngshare):
answers for the simulated students, the points they deserve, and the whole term in one call.
"""

import copy
import json
import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "hub"))
import course_hub  # noqa: E402 (found through the line above)

from coursepack.submissions import answer_cells, reference_answers  # noqa: E402

INSTRUCTOR = course_hub.INSTRUCTOR
ALICE, BOB, CAROL = course_hub.STUDENTS
NOTEBOOK = "lab21/lab21.ipynb"
SOURCE = json.loads((REPO / "source" / "lab21" / "lab21.ipynb").read_text())


def answered(released, overrides=()):
    """The released notebook with every code answer taken from the source notebook (the
    written answer stays blank), except the cells named in `overrides`: those get the given
    text instead."""
    released_answers = answer_cells(nbformat.from_dict(released))
    solutions = {
        grade_id: text
        for grade_id, text in reference_answers().items()
        if released_answers[grade_id].cell_type == "code"
    }
    notebook = copy.deepcopy(released)
    for cell in notebook["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in overrides:
            cell["source"] = overrides[grade_id]
        elif grade_id in solutions:
            cell["source"] = solutions[grade_id]
    return notebook


def points(grade_ids=None):
    """Points of the source notebook's autograded (code) test cells."""
    total = 0
    for cell in SOURCE["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if cell["cell_type"] == "code" and meta.get("grade"):
            if grade_ids is None or meta["grade_id"] in grade_ids:
                total += meta["points"]
    return total


REFLECTION = "A hidden layer lets the network bend its boundary; ours has one node, so..."
UNANSWERED = "def ReLU(x):\n    raise NotImplementedError()"
WRONG_COUNT = "def parameters_per_step(n_inputs):\n    return -1"
# Bob leaves ReLU unanswered and gets parameters_per_step wrong: he deserves every point but
# those of their test cells (the hidden tests give other functions the reference ReLU).
BOB_LOSES = points({"test_ReLU", "test_ReLU_hidden", "test_parameters_per_step_hidden"})


def run_notebook_code(server, notebook):
    """Run the notebook's code cells in a kernel of the student's server; return the errors."""
    kernel = server.kernel(NOTEBOOK)
    errors = []
    try:
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code":
                source = "".join(cell["source"])
                status, text, error = kernel.run(source)
                if status != "ok":
                    errors.append((cell["metadata"].get("nbgrader", {}).get("grade_id"), text))
    finally:
        kernel.close()
    return errors


def whole_term(instructor, alice, bob):
    """Release, fetch, answer, run, submit, collect, autograde, feedback: the scores are right
    and each student gets their feedback back through the exchange."""
    instructor.formgrader("POST", "assignment/lab21/assign")
    instructor.formgrader("POST", "assignment/lab21/release")

    alice.assignment_action("fetch", "lab21")
    released = alice.read_notebook(NOTEBOOK)
    alice_answers = answered(released, {"reflection": REFLECTION})
    alice.write_notebook(NOTEBOOK, alice_answers)
    # Alice runs her notebook as she would before submitting: every visible test passes.
    assert run_notebook_code(alice, alice.read_notebook(NOTEBOOK)) == []
    alice.assignment_action("submit", "lab21")

    bob.assignment_action("fetch", "lab21")
    bob.write_notebook(
        NOTEBOOK,
        answered(
            bob.read_notebook(NOTEBOOK), {"ReLU": UNANSWERED, "parameters_per_step": WRONG_COUNT}
        ),
    )
    bob.assignment_action("submit", "lab21")

    instructor.formgrader("POST", "assignment/lab21/collect")
    for student in (ALICE, BOB):
        instructor.formgrader("POST", f"submission/lab21/{student}/autograde")
    scores = {s["student"]: s for s in instructor.formgrader("GET", "submissions/lab21")}
    full = points()
    assert (scores[ALICE]["score"], scores[ALICE]["max_score"]) == (full, full + 3)
    assert scores[BOB]["score"] == full - BOB_LOSES
    assert BOB_LOSES == 3
    # Alice's written answer (Part I) waits for the instructor; Bob left his blank (0 points).
    assert scores[ALICE]["needs_manual_grade"] and not scores[BOB]["needs_manual_grade"]

    instructor.formgrader("POST", "assignment/lab21/generate_feedback")
    instructor.formgrader("POST", "assignment/lab21/release_feedback")
    for server, score in ((alice, full), (bob, full - BOB_LOSES)):
        server.assignment_action("fetch_feedback", "lab21")
        (timestamp,) = server.list_folder("lab21/feedback")
        report = server.request(
            "GET", f"/api/contents/lab21/feedback/{timestamp}/lab21.html?content=1"
        ).json()["content"]
        assert f"Score: {score:g}" in report.replace(".0 ", " ") or f"{score:g} / " in report
