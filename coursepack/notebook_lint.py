"""Lint the master notebook: what an instructor's edit in JupyterLab can break.

`python -m coursepack.notebook_lint` prints every problem (and exits 1 if there is one):
outputs left in, invalid or duplicated nbgrader metadata, solution and hidden-test regions in
the wrong cells, a hidden test whose points disagree with its cell, a Part heading whose points
disagree with its tests, a graded function without an answer cell or tests.
"""

import copy
import re
import sys
from collections import Counter, defaultdict

import nbformat

from coursepack.checks import GRADED_FUNCTIONS, SUITES
from coursepack.course import repo_course
from coursepack.grade import part_of
from coursepack.hidden_tests import HIDDEN_CALL

ALLOWED_KEYS = {
    "schema_version",
    "grade",
    "locked",
    "solution",
    "task",
    "grade_id",
    "points",
    "checksum",
    "cell_type",
}
REQUIRED_KEYS = {"schema_version", "grade", "locked", "solution"}
GRADE_ID = re.compile(r"^[a-zA-Z0-9_-]+$")
PART_HEADING = re.compile(r"^### Part \w+ \((\d+) points?\): `(\w+)`", re.MULTILINE)
REGIONS = {
    "SOLUTION": ("### BEGIN SOLUTION", "### END SOLUTION"),
    "HIDDEN TESTS": ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"),
}


def _regions_balanced(source, begin, end):
    depth = 0
    for line in source.splitlines():
        if begin in line:
            depth += 1
            if depth > 1:
                return False
        elif end in line:
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def cell_problems(index, cell):
    """Problems of one cell, each a sentence naming the cell."""
    meta = cell.metadata.get("nbgrader")
    name = f"cell {index}" + (f" ({meta.get('grade_id')})" if meta and meta.get("grade_id") else "")
    problems = []
    if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None):
        problems.append(f"{name}: has outputs; clear them before committing")
    for label, (begin, end) in REGIONS.items():
        if begin in cell.source and not _regions_balanced(cell.source, begin, end):
            problems.append(f"{name}: its {label} region is not closed (or is nested)")
    has_solution_region = REGIONS["SOLUTION"][0] in cell.source
    has_hidden_region = REGIONS["HIDDEN TESTS"][0] in cell.source
    if not meta:
        if has_solution_region or has_hidden_region:
            problems.append(
                f"{name}: has a solution or hidden-test region but no nbgrader metadata"
            )
        return problems
    missing, unknown = REQUIRED_KEYS - set(meta), set(meta) - ALLOWED_KEYS
    if missing:
        problems.append(f"{name}: nbgrader metadata lacks {sorted(missing)}")
    if unknown:
        problems.append(f"{name}: nbgrader metadata has unknown keys {sorted(unknown)}")
    if meta.get("schema_version") != 3:
        problems.append(f"{name}: nbgrader schema_version must be 3")
    flagged = any(meta.get(key) for key in ("grade", "solution", "locked", "task"))
    if flagged and not GRADE_ID.match(str(meta.get("grade_id", ""))):
        problems.append(f"{name}: grade_id must match [a-zA-Z0-9_-]+")
    if meta.get("grade"):
        points = meta.get("points")
        if not isinstance(points, (int, float)) or isinstance(points, bool) or points < 0:
            problems.append(f"{name}: a graded cell needs numeric points >= 0")
        if cell.cell_type == "markdown" and not meta.get("solution"):
            problems.append(f"{name}: a graded markdown cell must also be a solution cell")
    if "demo" in cell.metadata.get("tags", []) and (meta.get("grade") or meta.get("solution")):
        problems.append(f"{name}: a demo cell (skipped when grading) cannot be graded or answered")
    if has_solution_region and not meta.get("solution"):
        problems.append(f"{name}: has a solution region but is not a solution cell")
    if has_hidden_region and not meta.get("grade"):
        problems.append(f"{name}: has hidden tests but is not a graded cell")
    call = HIDDEN_CALL.search(cell.source)
    if call:
        suite, points = call.group(1), float(call.group(2))
        if suite not in SUITES:
            problems.append(f"{name}: calls grade() with an unknown suite {suite!r}")
        if points != meta.get("points"):
            problems.append(
                f"{name}: grade() is given {points:g} points but the cell is worth"
                f" {meta.get('points')}"
            )
    return problems


def notebook_problems(notebook):
    # Before nbformat.validate, which quietly renames duplicated cell ids.
    cell_ids = Counter(cell.get("id") for cell in notebook.cells)
    problems = [f"cell id {cid!r} is used {n} times" for cid, n in cell_ids.items() if n > 1]
    try:
        nbformat.validate(copy.deepcopy(notebook))
    except nbformat.ValidationError as error:
        problems.append(f"the notebook is not valid nbformat: {error.message}")
    for index, cell in enumerate(notebook.cells):
        problems += cell_problems(index, cell)
    metas = [cell.metadata.get("nbgrader", {}) for cell in notebook.cells]
    grade_ids = Counter(meta["grade_id"] for meta in metas if meta.get("grade_id"))
    problems += [f"grade_id {gid!r} is used {n} times" for gid, n in grade_ids.items() if n > 1]

    answers = {meta.get("grade_id") for meta in metas if meta.get("solution")}
    points = defaultdict(float)
    for cell, meta in zip(notebook.cells, metas, strict=True):
        if meta.get("grade") and cell.cell_type == "code":
            try:
                points[part_of(meta["grade_id"])] += float(meta.get("points", 0))
            except ValueError as error:
                problems.append(str(error))
    for function in GRADED_FUNCTIONS:
        if function not in answers:
            problems.append(f"{function}: no answer cell with grade_id {function!r}")
        if points.get(function, 0) <= 0:
            problems.append(f"{function}: no test cell test_{function}... is worth any points")
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        for heading_points, function in PART_HEADING.findall(cell.source):
            if function in GRADED_FUNCTIONS and float(heading_points) != points.get(function):
                problems.append(
                    f"{function}: its heading says {heading_points} points, its tests give"
                    f" {points.get(function, 0):g}"
                )
    return problems


def main(path=None):
    path = path or repo_course().notebook("source")
    problems = notebook_problems(nbformat.read(path, as_version=4))
    for problem in problems:
        print(f"{path}: {problem}")
    print(f"{path}: {'no problems' if not problems else f'{len(problems)} problem(s)'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
