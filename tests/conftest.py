"""Shared fixtures: a scratch copy of the course, and grading a made-up class in it."""

import os
import shutil
from pathlib import Path

import nbformat
import pytest

from coursepack import ASSIGNMENT
from coursepack.build import run_nbgrader
from coursepack.course import Course, copy_course
from coursepack.grade import scores_by_part
from coursepack.guarded_execute import METADATA_KEY
from coursepack.submissions import submission_notebook, submit


@pytest.fixture
def scratch_course(tmp_path):
    return copy_course(tmp_path / "course")


@pytest.fixture(scope="session")
def postgres_server():
    """One private PostgreSQL server for the session (coursepack.postgres), stopped after."""
    from coursepack.postgres import PostgresServer, missing_reason

    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    with PostgresServer() as server:
        yield server


class Gradebooks:
    """Scratch courses whose gradebook is SQLite (nbgrader's default) or PostgreSQL."""

    def __init__(self, kind, server=None):
        self.kind, self.server, self.made = kind, server, 0

    def _database(self, template=None):
        self.made += 1
        name = f"lab21_{os.getpid()}_{id(self)}_{self.made}"
        return self.server.create_database(name, template=template)

    def new_course(self, folder, config_lines=()):
        """A scratch course with its release built and the assignment in its gradebook."""
        if self.kind == "postgresql":
            config_lines = [*config_lines, f"c.CourseDirectory.db_url = {self._database()!r}"]
        return copy_course(folder, config_lines=config_lines)

    def clone(self, course, folder):
        """A copy of a course folder with a copy of its gradebook."""
        copied = Path(shutil.copytree(course, folder))
        if self.kind == "postgresql":
            database = Course.at(course).db_url.rsplit("/", 1)[1]
            url = self._database(template=database)
            with (copied / "nbgrader_config.py").open("a") as config:
                config.write(f"c.CourseDirectory.db_url = {url!r}\n")
        return copied


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def gradebooks(request):
    """Run a module's class-grading tests against both gradebooks nbgrader supports here."""
    if request.param == "postgresql":
        return Gradebooks("postgresql", request.getfixturevalue("postgres_server"))
    return Gradebooks("sqlite")


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
        path = Course.at(self.course).notebook("autograded", student)
        return nbformat.read(path, as_version=4).metadata.get(METADATA_KEY, {})


def grade_class(course, answers_by_student, base="reference", before_grading=None):
    """Write one submission per student (answers: grade_id -> source), autograde with nbgrader.

    before_grading(course), if given, may damage the written submissions first.
    """
    for student, answers in answers_by_student.items():
        submit(Course.at(course), student, submission_notebook(answers, base))
    if before_grading:
        before_grading(course)
    run_nbgrader("autograde", ASSIGNMENT, "--force", course_root=course)
    return GradedClass(course, answers_by_student)


# ----------------------------------------------------------------------------------------------
# The two graded classes the grading tests share (tests/graded_classes.py), graded once each


@pytest.fixture(scope="session")
def by_command_line(tmp_path_factory):
    """The sample class, the damaged submissions and the red team's attacks on the grading run,
    graded by `nbgrader autograde` and `nbgrader generate_feedback`."""
    from damaged_class import DAMAGED_STUDENTS, write_damaged
    from graded_classes import (
        SAMPLE_STUDENTS,
        grade_by_command_line,
        new_course,
        write_sample_class,
    )
    from red_team_class import BY_COMMAND_LINE, write_red_team

    course = new_course(tmp_path_factory.mktemp("by_command_line") / "course")
    write_sample_class(course)
    write_damaged(course)
    write_red_team(course, BY_COMMAND_LINE)
    return grade_by_command_line(course, [*SAMPLE_STUDENTS, *DAMAGED_STUDENTS, *BY_COMMAND_LINE])


@pytest.fixture(scope="session")
def by_classgrade(tmp_path_factory):
    """The sample class and the whole red team, graded by `coursepack.classgrade` with two
    workers, feedback included."""
    from graded_classes import SAMPLE_STUDENTS, grade_by_classgrade, new_course, write_sample_class
    from red_team_class import RED_TEAM_STUDENTS, write_red_team

    course = new_course(tmp_path_factory.mktemp("by_classgrade") / "course")
    write_sample_class(course)
    write_red_team(course, RED_TEAM_STUDENTS)
    return grade_by_classgrade(course, [*SAMPLE_STUDENTS, *RED_TEAM_STUDENTS])


@pytest.fixture(scope="session")
def mistake_bank_class(tmp_path_factory):
    """Every mistake-bank entry, graded by `coursepack.classgrade` with two workers (no
    feedback: the bank's verdicts are in the gradebook and the grading records)."""
    from bank_entries import bank_entries
    from graded_classes import grade_by_classgrade, new_course

    course = new_course(tmp_path_factory.mktemp("mistake_bank") / "course")
    entries = bank_entries()
    for entry in entries:
        submit(course, entry.student_id, submission_notebook({entry.function: entry.source}))
    return grade_by_classgrade(course, [entry.student_id for entry in entries], feedback=False)
