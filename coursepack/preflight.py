"""Repair damaged submissions before nbgrader grades them, and clear stale scores.

Wired into `nbgrader autograde` as its pre-convert hook (nbgrader_config.py), so the command
line, formgrader and the course's own grading command all get it. The course's folders and
gradebook are those of the nbgrader command that is running (coursepack.course). For each
submission:

- a notebook saved under another name (`lab21-Copy1.ipynb`) is graded as `lab21.ipynb` when
  that is missing; extra notebooks beside `lab21.ipynb` are left out of grading;
- a notebook whose layout is not the release's is repaired (`repair_layout`): the release's
  graded, answer and instructor cells in the release's order, whatever order the submission
  has them in; missing ones put back, duplicated ones reduced to one, lost or edited nbgrader
  metadata restored, and nbgrader metadata that the release does not have removed. Every cell
  the student wrote (helpers, imports, notes) is kept, after the same release cell it followed
  in the submission. A notebook that is not valid JSON is rebuilt from the code it still holds;
- grading data that a submission brings along in its own metadata is dropped;
- the student's autograded scores from an earlier run are cleared, so a re-grade that fails
  shows no points rather than old ones, and the scores a person gave (manual scores, extra
  credit) are noted, so that grading cannot leave any other (coursepack.manual_scores).

A rewritten notebook's original is kept beside it as `<name>.ipynb.as-submitted`. What was done
is recorded in the notebook's metadata (`lab21_grading.notices`) and in nbgrader's log.
"""

import ast
import copy
import json
import logging
import re
import shutil
import uuid
from pathlib import Path

import nbformat

from coursepack import manual_scores
from coursepack.course import Course
from coursepack.guarded_execute import METADATA_KEY
from coursepack.submissions import nbgrader_meta

log = logging.getLogger("coursepack.preflight")
JSON_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
# The nbgrader metadata that decides how a cell is graded; a change to any is repaired.
GRADING_KEYS = ("grade_id", "grade", "solution", "locked", "points")


def nbgrader_id(cell):
    return nbgrader_meta(cell).get("grade_id")


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


# ----------------------------------------------------------------------------------------------
# The layout repair


def _plain(cell):
    """The cell without nbgrader metadata: an ordinary cell that earns and loses nothing."""
    cell = copy.deepcopy(cell)
    cell.metadata.pop("nbgrader", None)
    return cell


def _grading_view(meta):
    return {key: meta.get(key) for key in GRADING_KEYS}


def _listed(ids, what, limit=6):
    """'cell a is missing' / 'cells a, b are missing' / '9 cells are missing (a, b, ...)'."""
    if not ids:
        return []
    if len(ids) == 1:
        return [f"cell {ids[0]} {what[0]}"]
    if len(ids) <= limit:
        return [f"cells {', '.join(ids)} {what[1]}"]
    return [f"{len(ids)} cells {what[1]} ({', '.join(ids[:limit])}, ...)"]


def repair_layout(cells, release):
    """(repaired cells, problems): `cells` laid out as the release, every student cell kept.

    cells: the submission's cells, in its order. Problems are empty when nothing needed doing
    (the cells are then returned as they are).
    """
    released = [cell for cell in release.cells if nbgrader_id(cell)]
    order = {nbgrader_id(cell): index for index, cell in enumerate(released)}
    by_id = {nbgrader_id(cell): cell for cell in released}
    foreign, duplicated, lost, missing, elsewhere = [], [], [], [], []

    # 1. Which of the student's cells stand for a release cell. nbgrader metadata the release
    # does not have is removed; the cell itself is kept (it may hold the student's helpers).
    candidates, plain = {}, []
    for position, cell in enumerate(cells):
        grade_id = nbgrader_id(cell)
        if grade_id in by_id and cell.cell_type == by_id[grade_id].cell_type:
            candidates.setdefault(grade_id, []).append(position)
            continue
        if "nbgrader" in cell.metadata:
            foreign.append(f"{grade_id!r}" if grade_id else "no grade_id")
        plain.append(position)

    # 2. A cell that appears more than once: one copy is the graded one (for an answer, the
    # last that defines the function, as running the notebook would use); the other copies
    # stay as ordinary cells, except untouched copies of an instructor's cell (dropped).
    anchors = {}
    for grade_id, positions in candidates.items():
        release_cell = by_id[grade_id]
        meta = nbgrader_meta(release_cell)
        if len(positions) == 1:
            chosen = positions[0]
        elif meta.get("solution") and release_cell.cell_type == "code":
            defining = [p for p in positions if grade_id in defined_functions(cells[p].source)]
            chosen = (defining or positions)[-1]
        elif meta.get("solution"):
            answered = [p for p in positions if cells[p].source != release_cell.source]
            chosen = (answered or positions)[-1]
        else:
            same = [p for p in positions if cells[p].source == release_cell.source]
            chosen = (same or positions)[0]
        anchors[grade_id] = chosen
        if len(positions) > 1:
            duplicated.append(f"cell {grade_id} appears {len(positions)} times")
        for position in positions:
            copy_of_instructor = (
                meta.get("locked") and cells[position].source == release_cell.source
            )
            if position != chosen and not copy_of_instructor:
                plain.append(position)
    plain.sort()
    changed = [
        grade_id
        for grade_id, position in anchors.items()
        if _grading_view(nbgrader_meta(cells[position]))
        != _grading_view(nbgrader_meta(by_id[grade_id]))
    ]

    # 3. Instructor cells whose metadata was lost are found again by their text.
    for grade_id, release_cell in by_id.items():
        if grade_id in anchors or not nbgrader_meta(release_cell).get("locked"):
            continue
        for position in plain:
            cell = cells[position]
            if cell.cell_type == release_cell.cell_type and cell.source == release_cell.source:
                anchors[grade_id] = position
                plain.remove(position)
                lost.append(grade_id)
                break

    # 4. A missing answer cell takes the student's answer from wherever it is: the last cell
    # that defines the function (an ordinary cell becomes the answer cell; another answer cell
    # is copied); for the written answer, the student's markdown cell right after the question.
    sources = {cell.source for cell in release.cells}
    copied = {}
    for grade_id, release_cell in by_id.items():
        if grade_id in anchors:
            continue
        found = None
        if not nbgrader_meta(release_cell).get("solution"):
            pass
        elif release_cell.cell_type == "code":
            defining = [
                p
                for p in sorted([*plain, *anchors.values()])
                if grade_id in defined_functions(cells[p].source)
            ]
            found = defining[-1] if defining else None
        elif order[grade_id] > 0:
            question = anchors.get(nbgrader_id(released[order[grade_id] - 1]))
            if question is not None and question + 1 in plain:
                follower = cells[question + 1]
                if follower.cell_type == "markdown" and follower.source not in sources:
                    found = question + 1
        if found is None:
            missing.append(grade_id)
        elif found in plain:
            anchors[grade_id] = found
            plain.remove(found)
            lost.append(grade_id)
        else:
            copied[grade_id] = cells[found].source
            elsewhere.append(grade_id)

    # 5. The release's order: each student cell travels with the release cell before it.
    in_student_order = sorted(anchors, key=anchors.get)
    moved = [in_student_order[i] for i in _out_of_order([order[g] for g in in_student_order])]

    problems = [
        *(
            f"a cell carries nbgrader metadata ({what}) that the release does not have: kept"
            " as an ordinary cell, without it"
            for what in foreign
        ),
        *duplicated,
        *_listed(lost, ("had lost its nbgrader metadata", "had lost their nbgrader metadata")),
        *_listed(missing, ("is missing", "are missing")),
        *_listed(elsewhere, ("is missing (its function was found in another cell)",
                             "are missing (their functions were found in other cells)")),
        *_listed(changed, ("has changed nbgrader metadata", "have changed nbgrader metadata")),
        *_listed(moved, ("was out of the release's order", "were out of the release's order")),
    ]
    if not problems:
        return list(cells), []

    owners = {position: grade_id for grade_id, position in anchors.items()}
    following, owner = {None: []}, None
    for position, cell in enumerate(cells):
        if position in owners:
            owner = owners[position]
        elif position in plain:
            following.setdefault(owner, []).append(_plain(cell))
    repaired = list(following[None])
    for release_cell in released:
        repaired.append(_release_slot(release_cell, cells, anchors, copied))
        repaired.extend(following.get(nbgrader_id(release_cell), []))
    return _unique_ids(repaired), problems


def _release_slot(release_cell, cells, anchors, copied):
    """The repaired notebook's copy of a release cell: the release's metadata and, for an
    answer, the student's text."""
    grade_id = nbgrader_id(release_cell)
    cell = copy.deepcopy(release_cell)
    if nbgrader_meta(release_cell).get("solution"):
        if grade_id in anchors:
            student = cells[anchors[grade_id]]
            cell.source = student.source
            if cell.cell_type == "code":
                cell.outputs = copy.deepcopy(student.get("outputs", []))
        elif grade_id in copied:
            cell.source = copied[grade_id]
    return cell


def _out_of_order(sequence):
    """Indexes of the items to move so that `sequence` becomes increasing (the complement of a
    longest increasing subsequence): the cells the student moved."""
    if not sequence:
        return []
    best = [1] * len(sequence)
    previous = [-1] * len(sequence)
    for i in range(len(sequence)):
        for j in range(i):
            if sequence[j] < sequence[i] and best[j] + 1 > best[i]:
                best[i], previous[i] = best[j] + 1, j
    end = max(range(len(sequence)), key=best.__getitem__)
    keep = set()
    while end != -1:
        keep.add(end)
        end = previous[end]
    return [i for i in range(len(sequence)) if i not in keep]


def _unique_ids(cells):
    """Every cell with an id of its own (copies of a cell share one; nbformat requires it)."""
    seen = set()
    for cell in cells:
        if not cell.get("id") or cell.id in seen:
            cell["id"] = uuid.uuid4().hex[:8]
        seen.add(cell.id)
    return cells


def repair_notebook(path, release_path):
    """Rewrite `path` into a notebook laid out as the release, if it is not one; return
    notices."""
    release = nbformat.read(release_path, as_version=4)
    raw = Path(path).read_text(errors="replace")
    try:
        notebook = nbformat.reads(raw, as_version=4)
    except Exception:
        notebook = copy.deepcopy(release)
        notebook.cells = [nbformat.v4.new_code_cell(text) for text in salvage_sources(raw)]
        broken = ["the file is not a valid notebook (broken JSON)"]
    else:
        broken = []
    notices = []
    if notebook.metadata.pop(METADATA_KEY, None) is not None:
        notices.append(
            f"{Path(path).name}: the submission carried grading metadata ({METADATA_KEY}) of"
            " its own: removed"
        )
    cells, problems = repair_layout(notebook.cells, release)
    problems = broken + problems
    if problems:
        kept = sum(1 for cell in cells if not nbgrader_id(cell))
        notices.append(
            f"{Path(path).name}: {'; '.join(problems)}. Rebuilt from the release: its cells in"
            f" its order, with the student's answers and all {kept} of the student's own cells"
            f" (original kept as {Path(path).name}.as-submitted)."
        )
    if notices:
        # Whatever is rewritten, the student's file as handed in is kept beside it.
        if not Path(f"{path}.as-submitted").exists():
            shutil.copy(path, f"{path}.as-submitted")
        notebook.cells = cells
        nbformat.write(notebook, path)
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


# ----------------------------------------------------------------------------------------------
# The gradebook


def reset_auto_scores(course, student):
    """Clear the autograded scores of an earlier run, so a failed re-grade leaves no old points."""
    from nbgrader.api import MissingEntry

    with course.gradebook() as gradebook:
        try:
            submission = gradebook.find_submission(course.assignment, student)
        except MissingEntry:
            return
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.auto_score = None
        gradebook.db.commit()


# ----------------------------------------------------------------------------------------------
# The hook


def pre_convert_hook(assignment, student, notebooks):
    """nbgrader's hook: called with the notebooks of one submission before they are graded.

    nbgrader passes the list it will grade; it is changed in place when a notebook is renamed.
    """
    if not notebooks:
        return
    try:
        running = Course.of_running_nbgrader()
        course = Course(running.coursedir, assignment, home=running.home)
        # `student` is the CourseDirectory's student_id: "*" when a whole class is graded.
        student = course.student_of(notebooks[0]) or student
        preflight(course, student, notebooks)
    except Exception:
        # nbgrader logs a failing hook at INFO level only; an instructor must see it.
        log.warning("could not check %s before grading", notebooks[0], exc_info=True)


def preflight(course, student, notebooks):
    """Repair one submission's notebooks in place and prepare the gradebook for its grading."""
    chosen, notices = choose_notebooks(notebooks, course.assignment)
    notebooks[:] = chosen
    release = course.notebook("release")
    for path in chosen:
        notices += repair_notebook(path, release)
    notices += manual_scores.before_grading(course, student)
    if notices:
        _record(chosen[0], notices)
    reset_auto_scores(course, student)
    for notice in notices:
        log.warning("%s: %s", student, notice)


def _record(path, notices):
    """Leave the notices in the notebook for the grading step to carry on."""
    notebook = nbformat.read(path, as_version=4)
    record = notebook.metadata.setdefault(METADATA_KEY, {"notices": [], "flags": [], "restarts": 0})
    record["notices"] = list(dict.fromkeys(record.get("notices", []) + notices))
    nbformat.write(notebook, path)
