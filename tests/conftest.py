"""Shared fixtures: scratch courses on either gradebook, and the classes grading tests share."""

import os
import shutil
from pathlib import Path

import pytest

from coursepack.course import Course, copy_course
from coursepack.submissions import submission_notebook, submit


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the marks
def pytest_collection_modifyitems(items):
    """`make test` spreads the tests over pytest-xdist workers (--dist loadgroup). Tests that
    share a graded class, or the course hub (its system users and ports), are kept on one
    worker each, so that each class is graded once and one hub runs at a time."""
    from graded_classes import SHARED_CLASSES

    for item in items:
        callspec = getattr(item, "callspec", None)
        shared = SHARED_CLASSES.get(callspec.params.get("graded")) if callspec else None
        if item.module.__name__.startswith("test_hub"):
            group = "hub"
        elif shared:
            group = shared
        elif "by_classgrade" in item.fixturenames:
            group = "by_classgrade"
        elif "by_command_line" in item.fixturenames:
            group = "by_command_line"
        else:
            continue
        item.add_marker(pytest.mark.xdist_group(group))


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
        graded_once,
        new_course,
        write_sample_class,
    )
    from red_team_class import BY_COMMAND_LINE, write_red_team

    def grade(folder):
        course = new_course(folder)
        write_sample_class(course)
        write_damaged(course)
        write_red_team(course, BY_COMMAND_LINE)
        students = [*SAMPLE_STUDENTS, *DAMAGED_STUDENTS, *BY_COMMAND_LINE]
        return grade_by_command_line(course, students)

    return graded_once(tmp_path_factory, "by_command_line", grade)


@pytest.fixture(scope="session")
def by_classgrade(tmp_path_factory):
    """One class graded by `coursepack.classgrade` with two workers, feedback included: the
    sample class, the whole red team, and the mistake bank (packed: one entry of each function
    per submission, tests/bank_entries.py)."""
    from bank_entries import bank_entries, packs
    from graded_classes import (
        SAMPLE_STUDENTS,
        grade_by_classgrade,
        graded_once,
        new_course,
        write_sample_class,
    )
    from red_team_class import RED_TEAM_STUDENTS, write_red_team

    bank = packs(bank_entries())

    def grade(folder):
        course = new_course(folder)
        write_sample_class(course)
        write_red_team(course, RED_TEAM_STUDENTS)
        for student, entries in bank.items():
            answers = {entry.function: entry.source for entry in entries}
            submit(course, student, submission_notebook(answers))
        return grade_by_classgrade(course, [*SAMPLE_STUDENTS, *RED_TEAM_STUDENTS, *bank])

    graded = graded_once(tmp_path_factory, "by_classgrade", grade)
    graded.bank = bank
    return graded
