"""The one door to a course's layout and gradebook: nbgrader's own CourseDirectory.

Every folder the pack reads or writes (source, release, submitted, autograded, feedback), every
notebook path and the gradebook's URL come from a `CourseDirectory` configured from the course's
`nbgrader_config.py` the way nbgrader's commands configure it: the user's and the system's
Jupyter config folders first, then the course folder's file. So any configuration nbgrader
accepts (another `directory_structure`, renamed step folders, a PostgreSQL `db_url`) holds for
the pack's commands too. Nothing else in the pack builds a course path or a database URL.

Inside a running nbgrader command (the pre-convert hook, a preprocessor) use
`Course.of_running_nbgrader()` or `Course.of_configurable(...)`: they return the CourseDirectory
that nbgrader itself is grading with, command-line options included.

`copy_course` makes a scratch course (for tests and benchmarks) that must not touch the real one.
"""

import functools
import glob
import logging
import os
import re
import shutil
import sys
from pathlib import Path

from coursepack import ASSIGNMENT, COURSE_ROOT

CONFIG_FILE = "nbgrader_config.py"
STEPS = ("source", "release", "submitted", "autograded", "feedback")


def load_config(course_root):
    """The traitlets Config nbgrader would use in `course_root`.

    As `nbgrader <command>` run there: the Jupyter config path's nbgrader_config.py files, then
    the course folder's own (not the current folder's, which may be another course).
    """
    from nbgrader.apps.baseapp import NbGrader
    from traitlets.config import Application

    # Quiet: it warns when no Jupyter config folder has an nbgrader_config.py (the usual case).
    app = NbGrader(log_level=logging.ERROR)
    app.load_cwd_config = False
    app.load_config_file()
    Application.load_config_file(app, CONFIG_FILE, path=str(Path(course_root).resolve()))
    return app.config


def course_directory(course_root=COURSE_ROOT, config=None):
    """nbgrader's CourseDirectory for the course in `course_root`.

    `root` defaults to the course folder, as it does for nbgrader run from there.
    """
    from nbgrader.coursedir import CourseDirectory

    config = config if config is not None else load_config(course_root)
    coursedir = CourseDirectory(config=config)
    if "root" not in config.get("CourseDirectory", {}):
        coursedir.root = str(Path(course_root).resolve())
    return coursedir


class Course:
    """One course's folders, notebooks and gradebook, all read through its CourseDirectory."""

    def __init__(self, coursedir, assignment=ASSIGNMENT, home=None):
        self.coursedir = coursedir
        self.assignment = assignment
        # Where nbgrader commands are run for this course: the folder of its nbgrader_config.py.
        self.home = Path(home or coursedir.root).resolve()

    @classmethod
    def at(cls, course_root=COURSE_ROOT, assignment=ASSIGNMENT):
        """The course whose nbgrader_config.py is in `course_root`."""
        return cls(course_directory(course_root), assignment, home=course_root)

    @classmethod
    def of_configurable(cls, configurable, assignment=None):
        """The course of a running nbgrader converter, or of anything it made (its exporter,
        a preprocessor): the first CourseDirectory found up the traitlets `parent` chain."""
        node = configurable
        while node is not None:
            coursedir = getattr(node, "coursedir", None)
            if coursedir is not None:
                return cls(coursedir, assignment or coursedir.assignment_id or ASSIGNMENT)
            node = getattr(node, "parent", None)
        raise LookupError(f"{configurable!r} was not made by an nbgrader converter")

    @classmethod
    def of_running_nbgrader(cls):
        """The course that the nbgrader converter calling us is grading.

        nbgrader calls its pre- and post-convert hooks with (assignment, student, notebooks)
        only, from `BaseConverter.run_pre_convert_hook`; the converter, which holds the running
        application's CourseDirectory (its config files and command-line options), is the
        caller. Finding it on the call stack is how a hook reaches that CourseDirectory.
        """
        from nbgrader.converters.base import BaseConverter

        frame = sys._getframe(1)
        while frame is not None:
            candidate = frame.f_locals.get("self")
            if isinstance(candidate, BaseConverter) and candidate.coursedir is not None:
                return cls.of_configurable(candidate)
            frame = frame.f_back
        raise LookupError("not called from inside an nbgrader converter")

    # -- the layout ---------------------------------------------------------------------------

    @property
    def root(self):
        return Path(self.coursedir.root)

    @property
    def db_url(self):
        return self.coursedir.db_url

    def step_directory(self, step):
        """The configured folder name of an nbgrader step ("submitted" may be renamed)."""
        if step not in STEPS:
            raise ValueError(f"unknown nbgrader step {step!r}; one of {STEPS}")
        return getattr(self.coursedir, f"{step}_directory")

    def folder(self, step, student="."):
        """The assignment's folder in a step, as nbgrader's format_path gives it."""
        path = self.coursedir.format_path(self.step_directory(step), student, self.assignment)
        return Path(path).resolve()

    def notebook(self, step, student="."):
        """The assignment's notebook (`<assignment>.ipynb`) in a step's folder."""
        return self.folder(step, student) / f"{self.assignment}.ipynb"

    def step_root(self, step):
        """The folder that holds every student's copies for a step (where nbgrader itself sets
        permissions from): the place for files about the whole step."""
        return Path(self.coursedir.format_path(self.step_directory(step), ".", ".")).resolve()

    def students(self, step="submitted"):
        """Ids of the students that have a folder for this assignment in `step`, sorted."""
        directory = self.step_directory(step)
        pattern = self.coursedir.format_path(directory, "*", self.assignment)
        regexp = re.compile(
            self.coursedir.format_path(directory, "(?P<student_id>[^/]+)", self.assignment,
                                       escape=True)
            + "$"
        )
        students = set()
        for path in glob.glob(pattern):
            match = regexp.match(path)
            if match and Path(path).is_dir():
                students.add(match.group("student_id"))
        return sorted(students)

    def student_of(self, path, step="submitted"):
        """The student whose folder in `step` holds `path` (a notebook or the folder itself),
        read with nbgrader's own pattern for the step's folders; None if it is no such folder.

        nbgrader's pre-convert hook is given the CourseDirectory's student_id, which is the
        pattern "*" when a whole class is graded: the notebooks' paths say whose they are.
        """
        regexp = re.compile(
            self.coursedir.format_path(self.step_directory(step), "(?P<student_id>[^/]+)",
                                       self.assignment, escape=True)
            + r"(?:/[^/]+)?$"
        )
        match = regexp.match(os.path.abspath(path))
        return match.group("student_id") if match else None

    # -- the gradebook ------------------------------------------------------------------------

    def gradebook(self):
        """nbgrader's Gradebook on the course's database (use it as a context manager)."""
        from nbgrader.api import Gradebook

        return Gradebook(self.db_url, course_id=self.coursedir.course_id)

    def __repr__(self):
        return f"Course({str(self.root)!r}, assignment={self.assignment!r})"


def as_course(place):
    """A Course, given one or the folder of a course's nbgrader_config.py."""
    return place if isinstance(place, Course) else Course.at(place)


@functools.cache
def repo_course():
    """The course in this repository (the instructors' source, the committed release)."""
    return Course.at(COURSE_ROOT)


def copy_course(destination, with_gradebook=True, config_lines=()):
    """Copy what nbgrader needs (config, source, release) into `destination`; return it.

    `config_lines` are appended to the copy's nbgrader_config.py (another directory_structure,
    a db_url) before anything is laid out, so the copy follows them from the start. Symlinks
    (the data file) are copied as files, as nbgrader itself would. With a gradebook,
    `nbgrader generate_assignment` has recorded the assignment's cells, so autograde can run.
    """
    destination = Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    config = destination / CONFIG_FILE
    shutil.copy(COURSE_ROOT / CONFIG_FILE, config)
    if config_lines:
        with config.open("a") as file:
            file.write("\n# Added for this scratch copy.\n" + "\n".join(config_lines) + "\n")
    source, copy = repo_course(), Course.at(destination)
    for step in ("source", "release"):
        shutil.copytree(source.folder(step), copy.folder(step))
    if with_gradebook:
        from coursepack.build import build_release

        build_release(destination)
    return destination
