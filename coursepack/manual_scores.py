"""Manual scores are the ones a person gave: grading neither adds nor changes any.

nbgrader keeps a grader's score for a cell in `Grade.manual_score` (and `Grade.extra_credit`);
formgrader sets them, and a manual score wins over the autograded one. nbgrader's autograde
never writes them, so any change made while a submission is being graded was made by no person
(student code that reached the gradebook, for instance). The pack therefore:

1. before a submission is graded (`before_grading`, from the pre-convert hook, in the grading
   process and before any student code runs), notes the student's manual scores and extra
   credit in a small file beside the autograded folders;
2. after nbgrader has saved the autograded scores (`KeepManualScores`, the last autograde
   preprocessor, see nbgrader_plugins), puts back every one that changed since, sets
   `needs_manual_grade` by nbgrader's own rule, flags what it did, and removes the note.

A run that stopped between the two (a crash, a time-out) leaves its note: the next grading of
that student restores from it first. So a re-grade always starts from the scores people gave.
"""

import json

SNAPSHOT_FOLDER = ".manual_scores"


def snapshot_path(course, student):
    return course.step_root("autograded") / SNAPSHOT_FOLDER / f"{course.assignment}--{student}.json"


def person_scores(gradebook, assignment, student):
    """{"<notebook>/<grade cell>": [manual_score, extra_credit]}; None when the gradebook has
    no submission of this student yet (then no person can have scored it)."""
    from nbgrader.api import MissingEntry

    try:
        submission = gradebook.find_submission(assignment, student)
    except MissingEntry:
        return None
    return {
        f"{notebook.name}/{grade.name}": [grade.manual_score, grade.extra_credit]
        for notebook in submission.notebooks
        for grade in notebook.grades
    }


def restore(gradebook, assignment, student, noted):
    """Put back the manual scores and extra credit noted before grading; return what changed."""
    from nbgrader.api import MissingEntry

    try:
        submission = gradebook.find_submission(assignment, student)
    except MissingEntry:
        return []
    noted = noted or {}
    changes = []
    for notebook in submission.notebooks:
        for grade in notebook.grades:
            before = noted.get(f"{notebook.name}/{grade.name}", [None, None])
            now = [grade.manual_score, grade.extra_credit]
            if now == before:
                continue
            grade.manual_score, grade.extra_credit = before
            # nbgrader's rule after autograding (SaveAutoGrades): a person must look when
            # there is a manual score to review or no automatic one.
            grade.needs_manual_grade = grade.manual_score is not None or grade.auto_score is None
            changes.append(
                f"{grade.name}: manual score {_shown(now[0])} and extra credit {_shown(now[1])}"
                f" were set while grading, by no grader: put back to {_shown(before[0])} and"
                f" {_shown(before[1])}"
            )
    if changes:
        gradebook.db.commit()
    return changes


def _shown(value):
    return "none" if value is None else f"{value:g}"


def before_grading(course, student):
    """Note the student's manual scores; first restore from a note a stopped run left behind.

    Returns notices for the grading record.
    """
    path = snapshot_path(course, student)
    notices = []
    with course.gradebook() as gradebook:
        if path.exists():
            changes = restore(gradebook, course.assignment, student, json.loads(path.read_text()))
            notices += [f"an earlier grading run stopped before its check: {c}" for c in changes]
        scores = person_scores(gradebook, course.assignment, student)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(scores))
    temporary.replace(path)
    return notices


def after_grading(course, student):
    """Put back what changed while grading; return flags for the instructor."""
    path = snapshot_path(course, student)
    if not path.exists():
        return []
    with course.gradebook() as gradebook:
        changes = restore(gradebook, course.assignment, student, json.loads(path.read_text()))
    path.unlink()
    return changes
