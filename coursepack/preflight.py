"""Repair damaged submissions before nbgrader grades them, and clear stale scores.

Wired into `nbgrader autograde` as its pre-convert hook (nbgrader_config.py), so the command
line, formgrader and the course's own grading command all get it. For each submission:

- a notebook saved under another name (`lab21-Copy1.ipynb`) is graded as `lab21.ipynb` when
  that is missing; extra notebooks beside `lab21.ipynb` are left out of grading;
- a notebook nbgrader could not grade as it is (invalid JSON, stripped or edited nbgrader
  metadata, deleted or duplicated answer or test cells) is rebuilt from the released notebook:
  each answer cell gets the student's last code that defines that function, wherever it was;
- the student's autograded scores from an earlier run are cleared, so a re-grade that fails
  shows no points rather than old ones (manual scores, a grader's work, are kept).

A rewritten notebook's original is kept beside it as `<name>.ipynb.as-submitted`. What was done
is recorded in the notebook's metadata (`lab21_grading.notices`) and in nbgrader's log.
"""

import ast
import json
import logging
import re
import shutil
from collections import Counter
from pathlib import Path

import nbformat

from coursepack.guarded_execute import METADATA_KEY
from coursepack.submissions import nbgrader_meta

log = logging.getLogger("coursepack.preflight")
JSON_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def nbgrader_id(cell):
    return nbgrader_meta(cell).get("grade_id")


def _flags(cell):
    meta = nbgrader_meta(cell)
    return (bool(meta.get("grade")), bool(meta.get("solution")), bool(meta.get("locked")))


def defined_functions(source):
    """Names of the functions a cell's code defines at top level (none if it does not parse)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        tree = None
    if tree is not None:
        return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    return set(re.findall(r"^def (\w+)\s*\(", source, re.MULTILINE))


def salvage_sources(raw_text):
    """Code cells' sources from a notebook file that is not valid JSON.

    Reads every JSON string literal in the text; consecutive source lines (each ending in a
    newline) are joined back into one cell's text.
    """
    cells, current = [], []
    for literal in JSON_STRING.findall(raw_text):
        try:
            text = json.loads(f'"{literal}"')
        except json.JSONDecodeError:
            continue
        current.append(text)
        if not text.endswith("\n"):
            cells.append("".join(current))
            current = []
    if current:
        cells.append("".join(current))
    return [text for text in cells if defined_functions(text)]


def expected_layout(release):
    """(grade_id, cell_type, flags) of every nbgrader cell in the released notebook."""
    return [(nbgrader_id(c), c.cell_type, _flags(c)) for c in release.cells if nbgrader_id(c)]


def layout_problems(notebook, release):
    """What keeps nbgrader from grading this notebook as it is; empty when nothing does."""
    ids = Counter(nbgrader_id(cell) for cell in notebook.cells if nbgrader_id(cell))
    present = {
        (nbgrader_id(cell), cell.cell_type, _flags(cell))
        for cell in notebook.cells
        if nbgrader_id(cell)
    }
    problems = [f"cell {grade_id} appears {n} times" for grade_id, n in ids.items() if n > 1]
    for grade_id, cell_type, flags in expected_layout(release):
        if (grade_id, cell_type, flags) not in present:
            what = "missing" if grade_id not in ids else "has changed nbgrader metadata"
            problems.append(f"cell {grade_id} is {what}")
    return problems


def rebuild(release, code_sources, markdown_answer=None):
    """The released notebook with each answer cell filled from the student's code.

    code_sources: the student's code cells, in order; the last one defining a function wins,
    as it would when the notebook runs.
    """
    rebuilt = nbformat.from_dict(json.loads(json.dumps(release)))
    found = {}
    for source in code_sources:
        for name in defined_functions(source):
            found[name] = source
    for cell in rebuilt.cells:
        grade_id = nbgrader_id(cell)
        if not nbgrader_meta(cell).get("solution"):
            continue
        if cell.cell_type == "code" and grade_id in found:
            cell.source = found[grade_id]
        elif cell.cell_type == "markdown" and markdown_answer:
            cell.source = markdown_answer
    return rebuilt, sorted(set(found) & {nbgrader_id(c) for c in rebuilt.cells})


def student_cells(notebook, release):
    """The student's own code (cells not identical to a released instructor cell), and the
    written answer: the markdown cell after the reflection prompt, if there is one."""
    released = {cell.source for cell in release.cells if nbgrader_meta(cell).get("locked")}
    code = [c.source for c in notebook.cells if c.cell_type == "code" and c.source not in released]
    answer = None
    for index, cell in enumerate(notebook.cells[:-1]):
        if cell.cell_type == "markdown" and "Part I" in cell.source:
            follower = notebook.cells[index + 1]
            if follower.cell_type == "markdown" and follower.source not in released:
                answer = follower.source
    return code, answer


def repair_notebook(path, release_path):
    """Rewrite `path` into a notebook nbgrader can grade, if it is not one; return notices."""
    release = nbformat.read(release_path, as_version=4)
    raw = Path(path).read_text(errors="replace")
    try:
        notebook = nbformat.reads(raw, as_version=4)
    except Exception:
        code, answer = salvage_sources(raw), None
        problems = ["the file is not a valid notebook (broken JSON)"]
    else:
        problems = layout_problems(notebook, release)
        if not problems:
            return []
        code, answer = student_cells(notebook, release)
    rebuilt, recovered = rebuild(release, code, answer)
    shutil.copy(path, f"{path}.as-submitted")
    notices = [
        f"{Path(path).name}: {'; '.join(problems)}. Rebuilt from the release with the student's"
        f" answers for {', '.join(recovered) or 'no function'} (original kept as"
        f" {Path(path).name}.as-submitted)."
    ]
    rebuilt.metadata[METADATA_KEY] = {"notices": notices, "flags": [], "restarts": 0}
    nbformat.write(rebuilt, path)
    return notices


def choose_notebooks(notebooks, assignment):
    """Grade `<assignment>.ipynb`; a lone notebook under another name is renamed to it."""
    wanted = f"{assignment}.ipynb"
    paths = [Path(p) for p in notebooks]
    if any(p.name == wanted for p in paths):
        extra = [p.name for p in paths if p.name != wanted]
        notices = [f"not graded (only {wanted} is): {', '.join(extra)}"] if extra else []
        return [str(p) for p in paths if p.name == wanted], notices
    newest = max(paths, key=lambda p: p.stat().st_mtime)
    target = newest.with_name(wanted)
    shutil.copy(newest, target)
    return [str(target)], [f"{wanted} was missing: graded {newest.name} as {wanted}"]


def reset_auto_scores(course_root, assignment, student):
    """Clear the autograded scores of an earlier run, so a failed re-grade leaves no old points."""
    from nbgrader.api import Gradebook, MissingEntry

    database = Path(course_root) / "gradebook.db"
    if not database.exists():
        return
    with Gradebook(f"sqlite:///{database}") as gradebook:
        try:
            submission = gradebook.find_submission(assignment, student)
        except MissingEntry:
            return
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.auto_score = None
        gradebook.db.commit()


def pre_convert_hook(assignment, student, notebooks):
    """nbgrader's hook: called with the notebooks of one submission before they are graded.

    nbgrader passes the list it will grade; it is changed in place when a notebook is renamed.
    """
    if not notebooks:
        return
    try:
        _preflight(notebooks)
    except Exception:
        # nbgrader logs a failing hook at INFO level only; an instructor must see it.
        log.warning("could not check %s before grading", notebooks[0], exc_info=True)


def _preflight(notebooks):
    folder = Path(notebooks[0]).parent
    course_root, student_id, assignment_id = folder.parents[2], folder.parent.name, folder.name
    chosen, notices = choose_notebooks(notebooks, assignment_id)
    notebooks[:] = chosen
    release = course_root / "release" / assignment_id / f"{assignment_id}.ipynb"
    for path in chosen:
        notices += repair_notebook(path, release)
    if notices:
        _record(chosen[0], notices)
    reset_auto_scores(course_root, assignment_id, student_id)
    for notice in notices:
        log.warning("%s: %s", student_id, notice)


def _record(path, notices):
    """Leave the notices in the notebook for the grading step to carry on."""
    notebook = nbformat.read(path, as_version=4)
    record = notebook.metadata.setdefault(METADATA_KEY, {"notices": [], "flags": [], "restarts": 0})
    record["notices"] = list(dict.fromkeys(record.get("notices", []) + notices))
    nbformat.write(notebook, path)
