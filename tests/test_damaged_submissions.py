"""Structurally damaged submissions, graded by the real `nbgrader autograde`.

Every damaged notebook here holds right answers: each must earn them wherever they can be
found, keep every cell the student wrote, be graded in the release's order, say what was
repaired, and leave the rest of the class graded. One student moves cells to capture what the
grader lends while probing: the release's order takes that away.
"""

import json

import nbformat
import pytest
from damaged_class import DAMAGED, LENT, cell_index, perfect

from coursepack import ASSIGNMENT
from coursepack.checks import GRADED_FUNCTIONS
from coursepack.grade import scores_by_part
from coursepack.preflight import repair_layout, reset_auto_scores
from coursepack.submissions import nbgrader_meta, submission_notebook

pytestmark = pytest.mark.slow  # grades for real (make test-fast leaves it out)

AUTO_PARTS = GRADED_FUNCTIONS  # every automatically graded part


@pytest.fixture(scope="module")
def graded(by_command_line):
    """(course, scores, what nbgrader printed) of the class the command line grades, which
    holds every damaged submission (tests/damaged_class.py)."""
    return by_command_line.course, by_command_line.scores, by_command_line.output


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
    extra = [
        c
        for c in graded_notebook(course, "foreign_grade_cell").cells
        if c.source.startswith('grade("sigmoid", globals(), points=10)')
    ]
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
