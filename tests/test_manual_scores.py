"""Manual scores are the ones a person gave: a grading run neither adds nor changes any.

Real `nbgrader autograde` in a scratch course. A grader sets scores the way formgrader does
(nbgrader's Gradebook API: manual_score, extra_credit). Student code cannot reach the gradebook
(the sandbox), so the test plants the write where it would land: a step in
the grading process itself (tamper.py, added to the scratch course's autograde preprocessors
before the pack's check) that rewrites manual scores while a submission is being graded. For
one student it then stops the run, as a crash would.
"""

import textwrap

import nbformat
import pytest

from coursepack import ASSIGNMENT
from coursepack.build import run_nbgrader
from coursepack.course import Course, copy_course
from coursepack.guarded_execute import METADATA_KEY
from coursepack.manual_scores import snapshot_path
from coursepack.submissions import submission_notebook, submit

pytestmark = pytest.mark.slow  # grades for real (make test-fast leaves it out)

TAMPER = '''
"""Stands in for anything that writes the gradebook while a submission is graded."""

from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor


class Tamper(NbGraderPreprocessor):
    def preprocess(self, nb, resources):
        student = resources["nbgrader"]["student"]
        with Gradebook(resources["nbgrader"]["db_url"], course_id="lab21") as gradebook:
            grades = {
                grade.name: grade
                for grade in gradebook.find_submission_notebook("lab21", "lab21", student).grades
            }
            grades["reflection"].manual_score = 0.0  # a person gave 2.5
            grades["test_sigmoid_hidden"].manual_score = 0.0  # no person scored this one
            grades["test_ReLU_hidden"].extra_credit = 5.0
            gradebook.db.commit()
        if student == "crashes":
            raise RuntimeError("the grading run stops here")
        return nb, resources
'''


def person_grades(course, student):
    """What formgrader does when a grader scores the written answer and adds extra credit."""
    with course.gradebook() as gradebook:
        grades = {
            g.name: g
            for g in gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student).grades
        }
        grades["reflection"].manual_score = 2.5
        grades["reflection"].needs_manual_grade = False
        grades["test_firstNN_accuracy"].extra_credit = 1.0
        gradebook.db.commit()


def given(table):
    """The scores a person gives: manual score and extra credit per cell."""
    return {name: values[:2] for name, values in table.items()}


def scores(course, student):
    with course.gradebook() as gradebook:
        notebook = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
        return {
            grade.name: (grade.manual_score, grade.extra_credit, grade.needs_manual_grade)
            for grade in notebook.grades
        }


def grading_record(course, student):
    notebook = nbformat.read(course.notebook("autograded", student), as_version=4)
    return notebook.metadata[METADATA_KEY]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = Course.at(copy_course(tmp_path_factory.mktemp("manual") / "course"))
    for student in ("graded", "crashes"):
        # Unanswered notebooks: quick to grade, and what they score does not matter here.
        submit(course, student, submission_notebook({}, base="release"))
    run_nbgrader("autograde", ASSIGNMENT, course_root=course)
    for student in ("graded", "crashes"):
        person_grades(course, student)
    before = {student: scores(course, student) for student in ("graded", "crashes")}
    (course.home / "tamper.py").write_text(TAMPER)
    config = course.home / "nbgrader_config.py"
    original = config.read_text()
    config.write_text(
        original
        + textwrap.dedent("""
        steps = c.Autograde.autograde_preprocessors
        c.Autograde.autograde_preprocessors = [*steps[:-1], "tamper.Tamper", steps[-1]]
    """)
    )
    tampered = run_nbgrader_allowing_failure(course)
    after_crash = scores(course, "crashes")
    config.write_text(original)  # the next run is a clean one
    run_nbgrader("autograde", ASSIGNMENT, "--force", "--student", "crashes", course_root=course)
    return course, before, tampered, after_crash


def run_nbgrader_allowing_failure(course):
    """Autograde everyone again; the run fails for the student whose grading stops."""
    with pytest.raises(RuntimeError, match="crashes"):
        run_nbgrader("autograde", ASSIGNMENT, "--force", course_root=course)
    return scores(course, "graded")


def test_a_person_set_score_survives_a_regrade_and_nothing_else_is_added(course):
    course, before, tampered, _ = course
    assert given(tampered) == given(before["graded"])
    assert tampered["reflection"][:2] == (2.5, None)
    assert tampered["test_firstNN_accuracy"][1] == 1.0
    assert tampered["test_sigmoid_hidden"][:2] == (None, None)
    assert tampered["test_ReLU_hidden"][1] is None
    # nbgrader's own rule: a cell with a manual score is marked for review after autograding.
    assert tampered["reflection"][2] is True and tampered["test_sigmoid_hidden"][2] is False


def test_what_was_put_back_is_flagged(course):
    course, *_ = course
    flags = grading_record(course, "graded")["flags"]
    assert any("reflection: manual score 0" in flag and "put back to 2.5" in flag for flag in flags)
    assert any(flag.startswith("test_sigmoid_hidden:") for flag in flags)
    assert any(flag.startswith("test_ReLU_hidden:") for flag in flags)


def test_a_run_that_stopped_is_put_right_by_the_next_one(course):
    course, before, _, after_crash = course
    assert after_crash["reflection"][0] == 0.0  # the stopped run left the write behind...
    assert given(scores(course, "crashes")) == given(before["crashes"])  # ...the next one not
    notices = grading_record(course, "crashes")["notices"]
    assert any("an earlier grading run stopped" in notice for notice in notices)
    assert not snapshot_path(course, "crashes").exists()
    assert not snapshot_path(course, "graded").exists()
