"""The committed release is what nbgrader makes of the master notebook now, and leaks nothing."""

import filecmp

import nbformat
import pytest

from coursepack.course import Course, copy_course, repo_course
from coursepack.submissions import SOURCE_NOTEBOOK, answer_cells

RELEASE = repo_course().folder("release")
RELEASED = nbformat.read(repo_course().notebook("release"), as_version=4)
FORBIDDEN = [
    "BEGIN SOLUTION",
    "END SOLUTION",
    "HIDDEN TESTS",
    "coursepack",
    "lab21_reference",
    "solutions/",
    "Model answer",
]


def cell_view(notebook):
    return [(c.cell_type, c.source, c.metadata.get("nbgrader")) for c in notebook.cells]


@pytest.mark.slow  # runs nbgrader generate_assignment
def test_the_release_is_fresh(tmp_path):
    course = Course.at(copy_course(tmp_path / "course"))
    regenerated = course.folder("release")
    fresh = nbformat.read(course.notebook("release"), as_version=4)
    assert cell_view(fresh) == cell_view(RELEASED), "run `make release` and commit release/"
    names = sorted(p.name for p in RELEASE.iterdir())
    assert names == sorted(p.name for p in regenerated.iterdir())
    _, mismatch, errors = filecmp.cmpfiles(RELEASE, regenerated, names, shallow=False)
    assert mismatch == [] and errors == []


@pytest.mark.parametrize("path", sorted(RELEASE.iterdir()), ids=lambda p: p.name)
def test_no_release_file_names_a_solution_or_a_hidden_test(path):
    text = path.read_text()
    assert [word for word in FORBIDDEN if word in text] == []


def test_no_line_of_a_solution_reaches_the_release():
    master = nbformat.read(SOURCE_NOTEBOOK, as_version=4)
    released_text = "\n".join(cell.source for cell in RELEASED.cells)
    leaked = []
    for cell in answer_cells(master).values():
        if "### BEGIN SOLUTION" not in cell.source:
            continue
        region = cell.source.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0]
        for line in region.splitlines():
            # Lines that say something (not `return s * (1 - s)`-sized fragments shared by chance).
            if len(line.strip()) > 25 and line.strip() in released_text:
                leaked.append(line.strip())
    assert leaked == []


def test_hidden_test_cells_are_released_without_their_tests():
    """A released hidden test cell keeps its visible part (a note, and for Part H a visible
    check) and loses the call to the grader; nothing in it prints a docstring for validate to
    warn about."""
    for cell in RELEASED.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and meta["grade_id"].endswith(("_hidden", "_contract", "_accuracy")):
            assert "grade(" not in cell.source and not cell.source.lstrip().startswith('"""')
            assert cell.source.splitlines()[-1].startswith("# Hidden tests"), meta["grade_id"]
