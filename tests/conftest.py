"""Shared fixtures: a scratch copy of the course, and grading a made-up class in it."""

import nbformat
import pytest

from coursepack import ASSIGNMENT
from coursepack.build import run_nbgrader
from coursepack.course import copy_course
from coursepack.grade import scores_by_part
from coursepack.guarded_execute import METADATA_KEY
from coursepack.submissions import submission_notebook, write_submission


@pytest.fixture
def scratch_course(tmp_path):
    return copy_course(tmp_path / "course")


class GradedClass:
    """The outcome of grading a class for real: per-part scores and grading records."""

    def __init__(self, course, students):
        self.course = course
        self.scores = scores_by_part(course, students=set(students))

    def points(self, student, part):
        return self.scores[student][part][0]

    def full_marks(self, student, part):
        score, max_score, _ = self.scores[student][part]
        return score == max_score

    def record(self, student):
        path = self.course / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        return nbformat.read(path, as_version=4).metadata.get(METADATA_KEY, {})


def grade_class(course, answers_by_student, base="reference", before_grading=None):
    """Write one submission per student (answers: grade_id -> source), autograde with nbgrader.

    before_grading(course), if given, may damage the written submissions first.
    """
    for student, answers in answers_by_student.items():
        folder = course / "submitted" / student / ASSIGNMENT
        write_submission(folder, submission_notebook(answers, base))
    if before_grading:
        before_grading(course)
    run_nbgrader("autograde", ASSIGNMENT, "--force", course_root=course)
    return GradedClass(course, answers_by_student)
