"""A scratch copy of the course, for tests and benchmarks that must not touch the real one."""

import shutil
from pathlib import Path

from coursepack import ASSIGNMENT, COURSE_ROOT


def copy_course(destination, with_gradebook=True):
    """Copy what nbgrader needs (config, source, release) into `destination`; return it.

    Symlinks (the data file) are copied as files, as nbgrader itself would. With a gradebook,
    `nbgrader generate_assignment` has recorded the assignment's cells, so autograde can run.
    """
    destination = Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy(COURSE_ROOT / "nbgrader_config.py", destination)
    shutil.copytree(COURSE_ROOT / "source" / ASSIGNMENT, destination / "source" / ASSIGNMENT)
    shutil.copytree(COURSE_ROOT / "release" / ASSIGNMENT, destination / "release" / ASSIGNMENT)
    if with_gradebook:
        from coursepack.build import build_release

        build_release(destination)
    return destination
