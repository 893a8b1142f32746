"""Structurally damaged submissions, graded by the real `nbgrader autograde`.

Every damaged notebook here holds right answers: each must earn them wherever they can be
found, say what was repaired, and leave the rest of the class graded.
"""

import json

import nbformat
import pytest

from coursepack import ASSIGNMENT
from coursepack.build import run_nbgrader
from coursepack.checks import GRADED_FUNCTIONS
from coursepack.grade import scores_by_part
from coursepack.preflight import reset_auto_scores
from coursepack.submissions import answer_cells, submission_notebook, write_submission

AUTO_PARTS = GRADED_FUNCTIONS  # every automatically graded part


def perfect():
    return submission_notebook({})


def cell_index(notebook, grade_id):
    return next(
        i
        for i, c in enumerate(notebook.cells)
        if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id
    )


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
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    from coursepack.course import copy_course

    course = copy_course(tmp_path_factory.mktemp("damaged") / "course")
    submitted = course / "submitted"
    for student, make in DAMAGED.items():
        write_submission(submitted / student / ASSIGNMENT, make())
    write_submission(submitted / "honest" / ASSIGNMENT, perfect())
    write_submission(submitted / "deleted_answer_cell" / ASSIGNMENT, deleted_answer_cell())
    # Saved under another name, and no lab21.ipynb.
    renamed = submitted / "renamed" / ASSIGNMENT
    write_submission(renamed, perfect())
    (renamed / f"{ASSIGNMENT}.ipynb").rename(renamed / f"{ASSIGNMENT}-Copy1.ipynb")
    # Broken JSON: the file was cut off while saving.
    broken = submitted / "broken_json" / ASSIGNMENT
    write_submission(broken, perfect())
    text = (broken / f"{ASSIGNMENT}.ipynb").read_text()
    (broken / f"{ASSIGNMENT}.ipynb").write_text(text[: len(text) - 300])
    done = run_nbgrader("autograde", ASSIGNMENT, "--force", course_root=course)
    return course, scores_by_part(course), done.stdout + done.stderr


def notices(course, student):
    path = course / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    return nbformat.read(path, as_version=4).metadata["lab21_grading"]["notices"]


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
    ],
)
def test_each_repair_is_reported(graded, student, words):
    course, _, log = graded
    assert any(words in line for line in notices(course, student))
    assert student in log  # and in nbgrader's own output, for whoever runs it


def test_the_original_is_kept(graded):
    course, _, _ = graded
    kept = course / "submitted" / "broken_json" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb.as-submitted"
    assert kept.exists()
    with pytest.raises(json.JSONDecodeError):
        json.loads(kept.read_text())


def test_regrading_clears_old_autograded_scores(graded):
    course, scores, _ = graded
    assert scores["honest"]["sigmoid"][0] == 3
    reset_auto_scores(course, ASSIGNMENT, "honest")
    assert scores_by_part(course, {"honest"})["honest"]["sigmoid"][0] == 0
