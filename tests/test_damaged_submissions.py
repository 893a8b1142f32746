"""Structurally damaged submissions, graded by the real `nbgrader autograde`.

Every damaged notebook here holds right answers: each must earn them wherever they can be
found, keep every cell the student wrote, be graded in the release's order, say what was
repaired, and leave the rest of the class graded. One student moves cells to capture what the
grader lends while probing: the release's order takes that away.
"""

import json

import nbformat
import pytest

from coursepack import ASSIGNMENT
from coursepack.build import run_nbgrader
from coursepack.checks import GRADED_FUNCTIONS, TRAINING_PARTS
from coursepack.course import Course, copy_course
from coursepack.grade import scores_by_part
from coursepack.preflight import repair_layout, reset_auto_scores
from coursepack.submissions import answer_cells, nbgrader_meta, submission_notebook, submit

AUTO_PARTS = GRADED_FUNCTIONS  # every automatically graded part


def perfect():
    return submission_notebook({})


def cell_index(notebook, grade_id):
    cells = enumerate(notebook.cells)
    return next(i for i, c in cells if nbgrader_meta(c).get("grade_id") == grade_id)


def copy_of(cell):
    return nbformat.from_dict(json.loads(json.dumps(cell)))


def stripped_metadata():
    notebook = perfect()
    for cell in notebook.cells:
        cell.metadata.pop("nbgrader", None)
    return notebook


def deleted_test_cell():
    notebook = perfect()
    del notebook.cells[cell_index(notebook, "test_sigmoid_hidden")]
    return notebook


def deleted_answer_cell():
    notebook = perfect()
    del notebook.cells[cell_index(notebook, "ReLU")]
    return notebook


def duplicated_answer_cell():
    notebook = perfect()
    index = cell_index(notebook, "sigmoid")
    first_draft = nbformat.from_dict(json.loads(json.dumps(notebook.cells[index])))
    first_draft.source = "def sigmoid(x):\n    return x  # first draft, replaced below\n"
    notebook.cells.insert(index, first_draft)
    return notebook


def edited_test_cell():
    notebook = perfect()
    cell = notebook.cells[cell_index(notebook, "test_lead_coef_hidden")]
    cell.source = "3.0"
    cell.metadata["nbgrader"]["points"] = 100
    return notebook


def helper_beside_a_duplicate():
    """The issue's student: a helper function in a cell of its own, and sigmoid's answer cell
    duplicated (a first draft left above the answer), which forces a repair."""
    notebook = perfect()
    index = cell_index(notebook, "sigmoid")
    answer = notebook.cells[index]
    draft = copy_of(answer)
    draft.source = "def sigmoid(x):\n    return x  # first draft\n"
    answer.source = "def sigmoid(x):\n    return logistic(x)\n"
    helper = nbformat.v4.new_code_cell("def logistic(z):\n    return 1 / (1 + np.exp(-z))\n")
    notebook.cells[index:index] = [helper, draft]
    return notebook


def reordered_with_notes():
    """Part A (sigmoid's answer and tests) moved below Part B, with the student's own import,
    helper and note cells among them."""
    notebook = perfect()
    start, end = cell_index(notebook, "sigmoid"), cell_index(notebook, "test_sigmoid_hidden")
    block = notebook.cells[start : end + 1]
    answer = block[0]
    answer.source = "def sigmoid(x):\n    return squash(x)\n"
    block[1:1] = [
        nbformat.v4.new_markdown_cell("My note: squash is the logistic function."),
        nbformat.v4.new_code_cell(
            "import math\n\n\ndef squash(z):\n    return 1 / (1 + np.exp(-z))\n"
        ),
    ]
    del notebook.cells[start : end + 1]
    after_relu = cell_index(notebook, "test_ReLU_hidden") + 1
    notebook.cells[after_relu:after_relu] = block
    return notebook


def foreign_grade_cell():
    """A cell the student added with nbgrader metadata of its own: a graded cell worth 10
    points that calls the hidden tests."""
    notebook = perfect()
    extra = nbformat.v4.new_code_cell('grade("sigmoid", globals(), points=10)\n')
    extra.metadata["nbgrader"] = {
        "grade": True, "grade_id": "test_sigmoid_bonus", "locked": True, "points": 10,
        "schema_version": 3, "solution": False,
    }  # fmt: skip
    notebook.cells.insert(cell_index(notebook, "test_sigmoid_hidden") + 1, extra)
    return notebook


# What the grader lends firstNN while probing it: reference versions of the functions it calls.
LENT = list(TRAINING_PARTS)


def captured_callees():
    """firstNN's answer and tests moved to the top: probed first, firstNN keeps the reference
    versions lent to it, and one-line stubs of the other functions call those."""
    notebook = perfect()
    firstNN_ids = ("firstNN", "test_firstNN", "test_firstNN_contract", "test_firstNN_accuracy")
    moved = [notebook.cells[cell_index(notebook, grade_id)] for grade_id in firstNN_ids]
    for cell in moved:
        notebook.cells.remove(cell)
    moved[0].source = "\n".join([
        "LENT = {}",
        moved[0].source.replace("def firstNN(", "def trained(", 1),
        "",
        "def firstNN(data, epochs, learning_rate=0.5):",
        f"    LENT.update({{n: globals()[n] for n in {LENT!r} if n in globals()}})",
        "    return trained(data, epochs, learning_rate)",
    ])
    notebook.cells[0:0] = moved
    for name in LENT:
        stub = f"def {name}(*args):\n    return LENT[{name!r}](*args)\n"
        answer_cells(notebook)[name].source = stub
    return notebook


def moved_answer():
    """sigmoid written in ReLU's cell, sigmoid's own cell left as released."""
    notebook = perfect()
    released = submission_notebook({}, base="release")
    sigmoid_cell = notebook.cells[cell_index(notebook, "sigmoid")]
    relu_cell = notebook.cells[cell_index(notebook, "ReLU")]
    relu_cell.source = sigmoid_cell.source + "\n\n" + relu_cell.source
    sigmoid_cell.source = answer_cells(released)["sigmoid"].source
    del sigmoid_cell.metadata["nbgrader"]  # and the metadata damaged, so it is rebuilt
    return notebook


DAMAGED = {
    "stripped_metadata": stripped_metadata,
    "deleted_test_cell": deleted_test_cell,
    "duplicated_answer_cell": duplicated_answer_cell,
    "edited_test_cell": edited_test_cell,
    "moved_answer": moved_answer,
    "helper_beside_a_duplicate": helper_beside_a_duplicate,
    "reordered_with_notes": reordered_with_notes,
    "foreign_grade_cell": foreign_grade_cell,
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = Course.at(copy_course(tmp_path_factory.mktemp("damaged") / "course"))
    for student, make in DAMAGED.items():
        submit(course, student, make())
    submit(course, "honest", perfect())
    submit(course, "deleted_answer_cell", deleted_answer_cell())
    submit(course, "captured_callees", captured_callees())
    # Saved under another name, and no lab21.ipynb.
    renamed = submit(course, "renamed", perfect())
    (renamed / f"{ASSIGNMENT}.ipynb").rename(renamed / f"{ASSIGNMENT}-Copy1.ipynb")
    # Broken JSON: the file was cut off while saving.
    broken = course.notebook("submitted", submit(course, "broken_json", perfect()).parent.name)
    text = broken.read_text()
    broken.write_text(text[: len(text) - 300])
    done = run_nbgrader("autograde", ASSIGNMENT, "--force", course_root=course)
    return course, scores_by_part(course), done.stdout + done.stderr


def graded_notebook(course, student):
    return nbformat.read(course.notebook("autograded", student), as_version=4)


def notices(course, student):
    return graded_notebook(course, student).metadata["lab21_grading"]["notices"]


@pytest.mark.parametrize("student", [*DAMAGED, "renamed", "broken_json", "honest"])
def test_right_answers_earn_full_marks_despite_the_damage(graded, student):
    _, scores, _ = graded
    lost = [part for part in AUTO_PARTS if scores[student][part][0] != scores[student][part][1]]
    assert lost == []


def test_a_deleted_answer_costs_only_that_function(graded):
    _, scores, _ = graded
    relu, relu_max, _ = scores["deleted_answer_cell"]["ReLU"]
    assert relu == 0 and relu_max == 2
    assert all(
        scores["deleted_answer_cell"][p][0] == scores["deleted_answer_cell"][p][1]
        for p in AUTO_PARTS
        if p != "ReLU"
    )


@pytest.mark.parametrize(
    "student, words",
    [
        ("stripped_metadata", "Rebuilt from the release"),
        ("deleted_test_cell", "test_sigmoid_hidden is missing"),
        ("duplicated_answer_cell", "sigmoid appears 2 times"),
        ("renamed", "graded lab21-Copy1.ipynb as lab21.ipynb"),
        ("broken_json", "not a valid notebook"),
        ("helper_beside_a_duplicate", "sigmoid appears 2 times"),
        ("reordered_with_notes", "out of the release's order"),
        ("foreign_grade_cell", "'test_sigmoid_bonus') that the release does not have"),
        ("captured_callees", "out of the release's order"),
    ],
)
def test_each_repair_is_reported(graded, student, words):
    course, _, log = graded
    assert any(words in line for line in notices(course, student))
    assert student in log  # and in nbgrader's own output, for whoever runs it


def test_the_original_is_kept(graded):
    course, _, _ = graded
    kept = course.folder("submitted", "broken_json") / f"{ASSIGNMENT}.ipynb.as-submitted"
    assert kept.exists()
    with pytest.raises(json.JSONDecodeError):
        json.loads(kept.read_text())


def test_regrading_clears_old_autograded_scores(graded):
    course, scores, _ = graded
    assert scores["honest"]["sigmoid"][0] == 3
    reset_auto_scores(course, "honest")
    assert scores_by_part(course, {"honest"})["honest"]["sigmoid"][0] == 0


def release_order(notebook):
    return [nbgrader_meta(c)["grade_id"] for c in notebook.cells if nbgrader_meta(c)]


@pytest.mark.parametrize("student", [*DAMAGED, "captured_callees", "broken_json"])
def test_graded_in_the_release_order_with_nothing_foreign(graded, student):
    course, _, _ = graded
    release = nbformat.read(course.notebook("release"), as_version=4)
    assert release_order(graded_notebook(course, student)) == release_order(release)


def test_every_cell_the_student_wrote_is_kept_in_its_place(graded):
    course, _, _ = graded
    cells = graded_notebook(course, "reordered_with_notes").cells
    sources = [cell.source for cell in cells]
    answer = next(i for i, c in enumerate(cells) if nbgrader_meta(c).get("grade_id") == "sigmoid")
    # The note and the helper still follow the answer they followed, and Part A (moved below
    # Part B in the submission) is graded before Part B again.
    assert sources[answer + 1] == "My note: squash is the logistic function."
    assert sources[answer + 2].startswith("import math")
    relu = next(i for i, c in enumerate(cells) if nbgrader_meta(c).get("grade_id") == "ReLU")
    assert answer < relu
    helper_cells = graded_notebook(course, "helper_beside_a_duplicate").cells
    assert any(c.source.startswith("def logistic(z)") for c in helper_cells)
    assert any("first draft" in c.source and not nbgrader_meta(c) for c in helper_cells)


def test_a_cell_with_foreign_nbgrader_metadata_earns_nothing(graded):
    course, scores, _ = graded
    extra = [c for c in graded_notebook(course, "foreign_grade_cell").cells
             if c.source.startswith('grade("sigmoid", globals(), points=10)')]
    assert len(extra) == 1 and "nbgrader" not in extra[0].metadata
    possible = sum(max_score for _, max_score, _ in scores["foreign_grade_cell"].values())
    assert possible == sum(max_score for _, max_score, _ in scores["honest"].values())


def test_moving_cells_captures_nothing_the_grader_lends(graded):
    """Graded in the release's order, the stubs run before firstNN is ever probed."""
    _, scores, _ = graded
    assert {name: scores["captured_callees"][name][0] for name in LENT} == dict.fromkeys(LENT, 0)
    assert scores["captured_callees"]["parameters_per_step"][0] == 1
    assert all(scores["honest"][part][0] == scores["honest"][part][1] for part in AUTO_PARTS)


# -- the layout repair on its own (no kernel) -----------------------------------------------------


def test_a_sound_notebook_is_left_as_it_is():
    cells = perfect().cells
    repaired, problems = repair_layout(cells, submission_notebook({}, base="release"))
    assert problems == [] and repaired == cells


def test_a_repair_keeps_the_students_cells_and_order_of_release():
    release = submission_notebook({}, base="release")
    notebook = perfect()
    mine = nbformat.v4.new_code_cell("def helper():\n    return 1\n")
    notebook.cells.insert(cell_index(notebook, "ReLU") + 1, mine)
    # Swap Part B's answer and hidden test: out of order.
    a, b = cell_index(notebook, "ReLU"), cell_index(notebook, "test_ReLU_hidden")
    notebook.cells[a], notebook.cells[b] = notebook.cells[b], notebook.cells[a]
    repaired, problems = repair_layout(notebook.cells, release)
    assert any("out of the release's order" in p for p in problems)
    order = [nbgrader_meta(c)["grade_id"] for c in repaired if nbgrader_meta(c)]
    assert order == release_order(release)
    assert sum(c.source == mine.source for c in repaired) == 1
    assert len({c.id for c in repaired}) == len(repaired)
