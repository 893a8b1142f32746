"""Re-grading knows when the grader changed: a change to anything that can change a verdict
re-grades every submission, and the new verdicts are the new grader's.

A scratch copy of the whole pack (grading package, reference, course) is graded by
`python -m coursepack.classgrade` run from it, so that its own package does the grading; then
a hidden check and the reference answer are changed in the copy.
"""

import os
import shutil
import subprocess
import sys

import pytest

from coursepack import COURSE_ROOT
from coursepack.classgrade import grader_inputs, grader_sha256
from coursepack.course import Course, copy_course
from coursepack.grade import scores_by_part
from coursepack.submissions import submission_notebook, submit

PACK = ("coursepack", "solutions", "source", "release", "data", "nbgrader_config.py",
        "requirements.txt")  # fmt: skip


def scratch_pack(folder):
    """A copy of the pack that grades with its own package and reference."""
    folder.mkdir(parents=True)
    for name in PACK:
        path = COURSE_ROOT / name
        if path.is_dir():
            ignore = shutil.ignore_patterns("__pycache__")
            shutil.copytree(path, folder / name, symlinks=True, ignore=ignore)
        else:
            shutil.copy(path, folder / name)
    return folder


def run_pack(pack, module, *args):
    """Run one of the scratch pack's commands with its own package first on the path."""
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=pack,
        env={**os.environ, "PYTHONPATH": str(pack)},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def grade(pack):
    options = ["--course", str(pack), "--workers", "2", "--no-feedback", "--no-report", "--quiet"]
    return run_pack(pack, "coursepack.classgrade", *options)


def edit(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


@pytest.mark.slow
def test_a_changed_check_and_reference_regrade_everyone(tmp_path):
    pack = scratch_pack(tmp_path / "pack")
    run_pack(pack, "coursepack.build")  # the release, and the assignment in the gradebook
    course = Course.at(pack)
    students = ["ann", "raj"]
    for student in students:
        submit(course, student, submission_notebook({}))
    assert grade(pack).startswith("Graded 2, failed 0")
    assert grade(pack).startswith("Nothing to grade: all 2 submissions are unchanged")
    before = scores_by_part(course)
    assert [before[s]["firstNN"][0] for s in students] == [8, 8]
    assert [before[s]["ReLU"][0] for s in students] == [2, 2]

    # A stricter accuracy check (no network can pass it) and a different reference ReLU.
    edit(pack / "coursepack" / "checks.py", "ACCURACY_NEEDED = 0.95", "ACCURACY_NEEDED = 1.01")
    reference = pack / "solutions" / "lab21_reference.py"
    edit(reference, "def ReLU(x):\n", "def ReLU(x):\n    x = x + 1\n")
    assert grade(pack).startswith("Graded 2, failed 0, flagged 0, unchanged 0")
    after = scores_by_part(course)
    assert [after[s]["firstNN"][0] for s in students] == [3, 3]  # the contract's 3 points only
    # Measured against the changed reference, the right ReLU loses most of its points.
    assert all(after[s]["ReLU"][0] < 1 for s in students)
    assert [after[s]["sigmoid"][0] for s in students] == [3, 3]


@pytest.fixture(scope="module")
def hashed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hash")
    pack = scratch_pack(folder / "pack")
    course = Course.at(copy_course(folder / "course", with_gradebook=False))
    return pack, course, grader_sha256(course, pack_root=pack)


@pytest.mark.parametrize("label", [
    "grading package", "reference answers", "source folder", "release folder", "pinned packages",
])  # fmt: skip
def test_every_grader_input_changes_the_hash(hashed, label):
    pack, course, original = hashed
    path = dict(grader_inputs(course, pack_root=pack))[label]
    changed = next(p for p in sorted(path.rglob("*")) if p.is_file()) if path.is_dir() else path
    saved = changed.read_bytes()
    try:
        changed.write_bytes(saved + b"\n# changed\n")
        assert grader_sha256(course, pack_root=pack) != original
    finally:
        changed.write_bytes(saved)
    assert grader_sha256(course, pack_root=pack) == original


def test_a_grading_setting_changes_the_hash_and_a_location_does_not(hashed):
    pack, course, original = hashed
    config = course.home / "nbgrader_config.py"
    saved = config.read_text()
    try:
        config.write_text(saved + "c.Execute.timeout = 61\n")
        assert grader_sha256(Course.at(course.home), pack_root=pack) != original
        database = course.home / "elsewhere.db"
        config.write_text(saved + f"c.CourseDirectory.db_url = 'sqlite:///{database}'\n")
        assert grader_sha256(Course.at(course.home), pack_root=pack) == original
    finally:
        config.write_text(saved)


def test_caches_do_not_change_the_hash(hashed):
    pack, course, original = hashed
    cache = pack / "coursepack" / "__pycache__"
    cache.mkdir(exist_ok=True)
    (cache / "checks.cpython-311.pyc").write_bytes(b"compiled")
    assert grader_sha256(course, pack_root=pack) == original
