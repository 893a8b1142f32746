"""The two classes the grading tests share, each graded once per test session, for real.

- By the command line: the sample class, the damaged submissions, honest students and the
  attacks on the grading run itself, graded by `nbgrader autograde` then `generate_feedback`
  (one process, as an instructor runs them).
- By classgrade: the sample class, every red-team attack between two honest students and the
  mistake bank (one entry of each function per submission), in one run of
  `coursepack.classgrade` with two workers, feedback included.

The sample class and the honest students are in both, so that the two ways can be compared.
Both use short time limits (the behaviour is the same at the defaults; only slower).
"""

import fcntl
import hashlib
import os
import pickle
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from coursepack import ASSIGNMENT, COURSE_ROOT, sandbox_launch
from coursepack.build import run_nbgrader
from coursepack.classgrade import grade_class
from coursepack.course import Course, as_course, copy_course
from coursepack.grade import SAMPLE_CLASS, scores_by_part
from coursepack.guarded_execute import METADATA_KEY
from coursepack.submissions import parse_answer_file, submission_notebook, submit

QUICK_LIMITS = [
    "c.Execute.timeout = 8",
    "c.GuardedExecute.quick_cell_seconds = 4",
    "c.GuardedExecute.check_seconds = 5.0",
    "c.GuardedExecute.notebook_seconds = 240",
]
# The shared classes' fixtures (tests/conftest.py) by how they are graded: a test's `graded`
# parameter.
SHARED_CLASSES = {"nbgrader autograde": "by_command_line", "classgrade, 2 workers": "by_classgrade"}
SAMPLE_STUDENTS = tuple(path.stem for path in sorted(SAMPLE_CLASS.glob("*.py")))


@dataclass
class GradedClass:
    """What grading a class left: scores, grading records, and what grading must not change."""

    course: Course
    students: list
    seconds: float
    hash_before: str
    output: str = ""
    summary: object = None
    scores: dict = field(default_factory=dict)

    def __post_init__(self):
        self.scores = scores_by_part(self.course, students=set(self.students))
        self.slots = sorted(
            {slot for student in self.students for slot in self.record(student).get("slots", [])}
        )
        deadline = time.monotonic() + 10
        while sandbox_processes(self.slots) and time.monotonic() < deadline:
            time.sleep(0.2)
        self.survivors = sandbox_processes(self.slots)

    def points(self, student, part):
        return self.scores[student][part][0]

    def full_marks(self, student, part):
        score, max_score, _ = self.scores[student][part]
        return score == max_score

    def notebook(self, student):
        return self.course.notebook("autograded", student)

    def record(self, student):
        path = self.notebook(student)
        if not path.exists():
            return {}
        return nbformat.read(path, as_version=4).metadata.get(METADATA_KEY, {})

    def feedback(self, student):
        return self.course.notebook("feedback", student).with_suffix(".html").read_text()


def write_answer_file(course, path, student=None, replacements=()):
    text = Path(path).read_text()
    for old, new in replacements:
        text = text.replace(old, new)
    base, answers = parse_answer_file(text)
    submit(course, student or Path(path).stem, submission_notebook(answers, base))


def write_sample_class(course):
    for path in sorted(SAMPLE_CLASS.glob("*.py")):
        write_answer_file(course, path)


def course_hash(course):
    """{path: content hash} of everything of the course that grading must leave as it was, and
    of the repo's own code. A submission that preflight rewrites keeps its original beside it as
    `<name>.as-submitted`: that original, not the rewritten file, is what is hashed."""
    home = as_course(course).home
    places = [home / "source", home / "release", home / "submitted"]
    places += [COURSE_ROOT / "solutions", COURSE_ROOT / "coursepack"]
    files = [home / "nbgrader_config.py"]
    for place in places:
        files += [p for p in place.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    hashes = {}
    for path in files:
        if path.name.endswith(".as-submitted"):
            continue
        original = path.with_name(path.name + ".as-submitted")
        content = original.read_bytes() if original.exists() else path.read_bytes()
        hashes[str(path)] = hashlib.sha256(content).hexdigest()
    return hashes


def course_changes(course, before):
    """What grading changed of the course: files changed or gone, and new files other than
    the one a repair makes (a notebook saved under another name, graded as `lab21.ipynb`)."""
    now = course_hash(course)
    changed = [path for path, digest in before.items() if now.get(path) != digest]
    added = [path for path in set(now) - set(before) if not path.endswith(f"/{ASSIGNMENT}.ipynb")]
    return sorted(changed + added)


def slot_in_use(slot):
    """True while some grader holds the slot's lock (its processes are that grader's)."""
    with open(sandbox_launch.LOCKS / f"slot-{slot}.lock") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(lock, fcntl.LOCK_UN)
        return False


def sandbox_processes(slots):
    """Live (not zombie) processes of the users of these sandbox slots that nobody holds now.
    (Tests run in parallel: a slot this class used may be another class's by now.)"""
    uids = {sandbox_launch.slot_uid(slot) for slot in slots if not slot_in_use(slot)}
    listing = subprocess.run(
        ["ps", "-eo", "uid=,stat=,pid=,args="], capture_output=True, text=True, check=True
    ).stdout
    found = []
    for line in listing.splitlines():
        uid, stat, pid, *args = line.split(None, 3)
        if int(uid) in uids and not stat.startswith("Z"):
            found.append(f"{pid} {' '.join(args)[:120]}")
    return found


def graded_once(tmp_path_factory, name, grade):
    """The class `grade(folder)` grades, graded once per test session even across pytest-xdist
    workers: the first worker that needs it grades it in the workers' common folder and leaves
    a note of the run; the others wait on the lock, then read the note and the course."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # build/pytest, above each worker's popen-gwN
    folder, note = root / name / "course", root / f"{name}.pickle"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if note.exists():
            return GradedClass(Course.at(folder), **pickle.loads(note.read_bytes()))
        shutil.rmtree(folder.parent, ignore_errors=True)  # a worker that failed half-way
        graded = grade(folder)
        fields = ("students", "seconds", "hash_before", "output", "summary")
        note.write_bytes(pickle.dumps({key: getattr(graded, key) for key in fields}))
        return graded


def new_course(folder):
    return Course.at(copy_course(folder, config_lines=QUICK_LIMITS))


def grade_by_command_line(course, students):
    """`nbgrader autograde` then `nbgrader generate_feedback`, as an instructor runs them."""
    before = course_hash(course)
    started = time.perf_counter()
    graded = run_nbgrader("autograde", ASSIGNMENT, "--force", course_root=course.home)
    run_nbgrader("generate_feedback", ASSIGNMENT, "--force", course_root=course.home)
    seconds = time.perf_counter() - started
    output = graded.stdout + graded.stderr
    return GradedClass(course, list(students), seconds, before, output=output)


def grade_by_classgrade(course, students, feedback=True):
    """coursepack.classgrade with two workers (feedback included unless said otherwise)."""
    before = course_hash(course)
    summary = grade_class(course.home, workers=2, force=True, progress=False, feedback=feedback)
    return GradedClass(course, list(students), summary.seconds, before, summary=summary)
