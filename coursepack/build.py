"""Build release/lab21 from the master notebook with `nbgrader generate_assignment`.

`python -m coursepack.build` (or `make release`) regenerates the release; commit the result.
"""

import os
import subprocess
import sys
from pathlib import Path

from coursepack import ASSIGNMENT, COURSE_ROOT


def nbgrader_command(*args):
    """The nbgrader CLI of the Python running this (the course venv's)."""
    return [str(Path(sys.executable).with_name("nbgrader")), *args]


def venv_environment():
    """This environment with the venv's bin/ first on PATH: nbgrader runs the `alembic` command
    when it makes a new gradebook, and finds it there even when the venv is not activated."""
    bin_folder = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": os.pathsep.join([bin_folder, os.environ.get("PATH", "")])}


def run_nbgrader(*args, course_root=COURSE_ROOT):
    """Run one nbgrader command in the course folder (a Course, or the folder of its
    nbgrader_config.py); raise with its log when it fails."""
    from coursepack.course import Course

    if isinstance(course_root, Course):
        course_root = course_root.home
    done = subprocess.run(
        nbgrader_command(*args),
        cwd=course_root,
        capture_output=True,
        text=True,
        env=venv_environment(),
    )
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done


def build_release(course_root=COURSE_ROOT):
    """Run generate_assignment; return the release folder (from the course's CourseDirectory)."""
    from coursepack.course import as_course

    course = as_course(course_root)
    # generate_assignment also needs the assignment in the gradebook; it adds it itself.
    run_nbgrader("generate_assignment", ASSIGNMENT, "--force", course_root=course)
    return course.folder("release")


if __name__ == "__main__":
    release = build_release()
    files = ", ".join(sorted(path.name for path in release.iterdir()))
    print(f"Release built: {release}/ ({files})")
