"""Make student submissions from short answer files (the sample class, and test fixtures).

An answer file is Python in "percent" format: a header line `# base: reference` (unlisted
answers are the instructor's) or `# base: release` (unlisted answers are left untouched), then
one section per answer cell, introduced by `# %% <grade_id>`:

    # base: reference
    # %% lead_coef
    def lead_coef(val_fx):
        return val_fx * (1 - val_fx)   # the classic mistake: the output, not the input
"""

import copy
import re
import shutil
from pathlib import Path

import nbformat

from coursepack.course import repo_course

SECTION = re.compile(r"^# %% (\S+)\s*$", re.MULTILINE)
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def __getattr__(name):
    """SOURCE_NOTEBOOK and RELEASE_FOLDER: the repo's master notebook and release folder, read
    through the course's CourseDirectory when first asked for (not at import: nbgrader_config.py
    imports this package, so the config cannot be loaded while it is being imported)."""
    if name == "SOURCE_NOTEBOOK":
        return repo_course().notebook("source")
    if name == "RELEASE_FOLDER":
        return repo_course().folder("release")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def nbgrader_meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def answer_cells(notebook):
    """grade_id -> cell, for every cell a student answers in."""
    return {
        nbgrader_meta(c)["grade_id"]: c for c in notebook.cells if nbgrader_meta(c).get("solution")
    }


def reference_answers(source_notebook=None):
    """The master notebook's answers, solution markers removed: a perfect student's cells."""
    notebook = nbformat.read(source_notebook or repo_course().notebook("source"), as_version=4)
    return {
        grade_id: "\n".join(
            line for line in cell.source.splitlines() if line.strip() not in SOLUTION_MARKERS
        )
        for grade_id, cell in answer_cells(notebook).items()
    }


def parse_answer_file(text):
    """Return (base, {grade_id: source}) from an answer file's text."""
    header, *sections = SECTION.split(text)
    match = re.search(r"^# base: (reference|release)\s*$", header, re.MULTILINE)
    if not match:
        raise ValueError("an answer file starts with '# base: reference' or '# base: release'")
    answers = {
        grade_id: body.strip("\n")
        for grade_id, body in zip(sections[::2], sections[1::2], strict=True)
    }
    return match.group(1), answers


def submission_notebook(answers, base="reference", release_notebook=None):
    """The released notebook with its answer cells filled in."""
    release_notebook = release_notebook or repo_course().notebook("release")
    notebook = copy.deepcopy(nbformat.read(release_notebook, as_version=4))
    filled = dict(reference_answers()) if base == "reference" else {}
    filled.update(answers)
    unknown = set(answers) - set(answer_cells(notebook))
    if unknown:
        raise ValueError(f"no answer cell has the grade_id {sorted(unknown)}")
    for grade_id, cell in answer_cells(notebook).items():
        if grade_id in filled:
            cell.source = filled[grade_id]
    return notebook


def write_submission(folder, notebook, course=None):
    """Lay out one student's submission as nbgrader expects: the release's files, then theirs.

    `folder` is a student's submitted folder (`course.folder("submitted", student)`); the
    notebook is written under the assignment's name.
    """
    course = course or repo_course()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for path in course.folder("release").iterdir():
        if path.suffix != ".ipynb":
            shutil.copy(path, folder / path.name)
    nbformat.write(notebook, folder / course.notebook("release").name)
    return folder


def submit(course, student, notebook):
    """Write `student`'s submission into the course's submitted folder; return the folder."""
    folder = course.folder("submitted", student)
    shutil.rmtree(folder, ignore_errors=True)
    return write_submission(folder, notebook, course)


def write_from_answer_file(answer_file, course):
    """Write the submission of the answer file <student>.py into the course."""
    answer_file = Path(answer_file)
    base, answers = parse_answer_file(answer_file.read_text())
    return submit(course, answer_file.stem, submission_notebook(answers, base))
