"""Structurally damaged submissions (tests/test_damaged_submissions.py says what each must show).

Every damaged notebook here holds right answers, hidden in some damage: stripped or foreign
nbgrader metadata, deleted, duplicated, edited or moved cells, a renamed file, broken JSON.
"""

import json

import nbformat

from coursepack import ASSIGNMENT
from coursepack.checks import TRAINING_PARTS
from coursepack.submissions import answer_cells, nbgrader_meta, submission_notebook, submit


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
    moved[0].source = "\n".join(
        [
            "LENT = {}",
            moved[0].source.replace("def firstNN(", "def trained(", 1),
            "",
            "def firstNN(data, epochs, learning_rate=0.5):",
            f"    LENT.update({{n: globals()[n] for n in {LENT!r} if n in globals()}})",
            "    return trained(data, epochs, learning_rate)",
        ]
    )
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


DAMAGED_STUDENTS = [
    *DAMAGED,
    "honest",
    "deleted_answer_cell",
    "captured_callees",
    "renamed",
    "broken_json",
]


def write_damaged(course):
    """Submit every damaged notebook, and an honest one, to `course`."""
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
