"""The master notebook passes the lint, and the lint catches what an edit can break."""

import copy

import nbformat
import pytest

from coursepack.notebook_lint import notebook_problems
from coursepack.submissions import SOURCE_NOTEBOOK

MASTER = nbformat.read(SOURCE_NOTEBOOK, as_version=4)


def cell(notebook, grade_id):
    return next(
        c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id
    )


def test_the_master_notebook_is_clean():
    assert notebook_problems(MASTER) == []


def left_output(nb):
    cell(nb, "sigmoid").outputs = [nbformat.v4.new_output("stream", text="hi")]


def duplicate_grade_id(nb):
    cell(nb, "ReLU").metadata.nbgrader.grade_id = "sigmoid"


def duplicate_cell_id(nb):
    nb.cells[1].id = nb.cells[0].id


def string_points(nb):
    cell(nb, "test_sigmoid_hidden").metadata.nbgrader.points = "3"


def unknown_key(nb):
    cell(nb, "sigmoid").metadata.nbgrader["color"] = "red"


def wrong_call_points(nb):
    target = cell(nb, "test_lead_coef_hidden")
    target.source = target.source.replace("points=3", "points=2")


def solution_outside_solution_cell(nb):
    nb.cells[0].source += "\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION"


def unclosed_hidden_region(nb):
    target = cell(nb, "test_ReLU_hidden")
    target.source = target.source.replace("### END HIDDEN TESTS", "")


def heading_disagrees(nb):
    cell(nb, "test_firstNN_accuracy").metadata.nbgrader.points = 6
    target = cell(nb, "test_firstNN_accuracy")
    target.source = target.source.replace("points=5", "points=6")


def deleted_answer(nb):
    nb.cells.remove(cell(nb, "lead_coef"))


@pytest.mark.parametrize(
    "damage, words",
    [
        (left_output, "has outputs"),
        (duplicate_grade_id, "grade_id 'sigmoid' is used 2 times"),
        (duplicate_cell_id, "is used 2 times"),
        (string_points, "numeric points"),
        (unknown_key, "unknown keys"),
        (wrong_call_points, "grade() is given 2 points"),
        (solution_outside_solution_cell, "not a solution cell"),
        (unclosed_hidden_region, "not closed"),
        (heading_disagrees, "heading says 8 points"),
        (deleted_answer, "lead_coef: no answer cell"),
    ],
)
def test_the_lint_catches(damage, words):
    notebook = copy.deepcopy(MASTER)
    damage(notebook)
    assert any(words in problem for problem in notebook_problems(notebook))
