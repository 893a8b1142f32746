"""End to end on a real JupyterHub: real system users, the real nbgrader exchange, a real browser.

The hub is set up by hub/course_hub.py (as root: it creates the course's system users) and the
course starts over for this run. The tests run in file order and share one hub: the instructor
releases lab21, students fetch, answer and submit, the instructor collects, autogrades and
returns feedback. This hub uses nbgrader's filesystem exchange; tests/test_hub_ngshare.py runs
the term again with ngshare. Output (hub log, screenshots) goes to build/test-hub/.
"""

import json
import os
import re
import subprocess

import pytest
from hub_driver import Hub
from hub_term import (
    ALICE,
    BOB,
    BOB_LOSES,
    CAROL,
    INSTRUCTOR,
    NOTEBOOK,
    REPO,
    answered,
    course_hub,
    points,
    whole_term,
)

OUTPUT = REPO / "build" / "test-hub"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.geteuid() != 0, reason="the course hub runs as root: it creates system users"
    ),
]


@pytest.fixture(scope="module")
def hub():
    with course_hub.running_hub(OUTPUT, exchange="filesystem") as (url, token):
        yield Hub(url, token)


@pytest.fixture(scope="module")
def servers(hub):
    hub.start_server(INSTRUCTOR, ALICE, BOB, CAROL)
    return {user: hub.user(user) for user in (INSTRUCTOR, ALICE, BOB)}


# ----------------------------------------------------------------------------------------------
# The tests, in the order of a term


def test_students_do_not_see_formgrader(hub, servers):
    student, instructor = servers[ALICE], servers[INSTRUCTOR]
    assert student.request("GET", "/formgrader", expect=None).status_code == 404
    assert student.request("GET", "/formgrader/api/assignments", expect=None).status_code == 404
    page = student.request("GET", "/lab").text
    config = re.search(
        r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page, re.S
    )
    disabled = json.loads(config.group(1))["disabledExtensions"]
    for plugin in ("formgrader", "create-assignment", "course-list"):
        assert f"@jupyter/nbgrader:{plugin}" in disabled
    # The instructor's formgrader is there, and the student's assignment list is.
    assert "Manage Assignments" in instructor.request("GET", "/formgrader").text
    assert student.request("GET", "/assignments?course_id=lab21").json()["success"]


def test_whole_term(hub, servers):
    whole_term(servers[INSTRUCTOR], servers[ALICE], servers[BOB])


def test_student_kernel_cannot_read_instructor_files(hub, servers):
    root = course_hub.course_root()
    targets = [
        root / "solutions" / "lab21_reference.py",
        root / "source" / "lab21" / "lab21.ipynb",
        root / "gradebook.db",
        course_hub.home(BOB) / "lab21" / "lab21.ipynb",
    ]
    for target in targets:
        assert target.exists(), target  # as root: the files are there to be protected
    kernel = servers[ALICE].kernel(NOTEBOOK)
    try:
        for target in targets:
            status, text, error = kernel.run(f"open({str(target)!r}).read()")
            assert (status, error) == ("error", "PermissionError"), (target, text)
        status, text, error = kernel.run("import getpass; print(getpass.getuser())")
        assert text.strip() == ALICE
        # Unix sockets in the student's own runtime folder, not loopback ports that another
        # kernel may take first (10 students at once hit "Address already in use").
        status, text, error = kernel.run(
            "from ipykernel.connect import get_connection_info\n"
            "info = get_connection_info(unpack=True)\nprint(info['transport'], info['ip'])"
        )
        transport, where = text.split()
        assert (status, transport) == ("ok", "ipc"), text
        assert where.startswith(str(course_hub.home(ALICE))), where
    finally:
        kernel.close()


def test_in_a_browser(hub, servers):
    done = subprocess.run(
        [
            str(course_hub.VENV_BIN / "python"),
            str(REPO / "tests" / "hub_browser.py"),
            hub.url,
            ALICE,
            INSTRUCTOR,
            str(OUTPUT),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert "Assignment List" in seen["student_menu"]
    assert not {"Formgrader", "Create Assignment"} & set(seen["student_menu"]), seen
    assert "Formgrader" in seen["instructor_menu"]
    assert seen["student_formgrader_status"] == 404
    assert "Lab 21: networking perceptrons" in seen["student_notebook_heading"]
    assert "lab21" in seen["formgrader_tab_text"]
    assert ALICE in seen["gradebook_text"] and BOB in seen["gradebook_text"]
    for name in (
        "student-assignment-list",
        "student-notebook",
        "instructor-formgrader-tab",
        "instructor-students",
    ):
        assert (OUTPUT / f"{name}.png").stat().st_size > 10_000


# ----------------------------------------------------------------------------------------------
# Issue 6: forged submissions, and student code graded with the instructor's rights

# Student code that tries to damage the course while it is autograded. It reports what each
# attempt did; the real proof is that the files are unchanged afterwards.
ATTACK = """
import getpass, glob, os
RAN_AS = getpass.getuser()
OUTCOMES = dict()
COURSE = {course!r}
for name, target in [
    ("gradebook", COURSE + "/gradebook.db"),
    ("source", COURSE + "/source/lab21/lab21.ipynb"),
    ("solutions", COURSE + "/solutions/lab21_reference.py"),
    ("other_submission", COURSE + "/submitted/{victim}/lab21/lab21.ipynb"),
    ("other_autograded", COURSE + "/autograded/{victim}/lab21/lab21.ipynb"),
    ("instructor_home", {instructor_home!r} + "/planted.txt"),
]:
    try:
        with open(target, "a") as f:
            f.write("tampered")
        OUTCOMES[name] = "WRITTEN"
    except OSError as error:
        OUTCOMES[name] = type(error).__name__
print("ATTACK", RAN_AS, OUTCOMES)
"""


def fingerprints(paths):
    return {str(path): path.read_bytes() if path.exists() else None for path in paths}


def test_forged_submission_is_refused(hub, servers):
    instructor = servers[INSTRUCTOR]
    carol = hub.user(CAROL)
    carol.assignment_action("fetch", "lab21")
    # Carol submits a perfect notebook in Bob's name, with nbgrader's own command.
    carol.write_notebook(NOTEBOOK, answered(carol.read_notebook(NOTEBOOK)))
    kernel = carol.kernel(NOTEBOOK)
    try:
        status, text, _ = kernel.run(
            "import subprocess\n"
            "done = subprocess.run(['nbgrader', 'submit', 'lab21',"
            f" '--CourseDirectory.student_id={BOB}'], cwd='..', capture_output=True, text=True)\n"
            "print(done.returncode, done.stdout, done.stderr)"
        )
    finally:
        kernel.close()
    assert status == "ok" and text.startswith("0 "), text
    forged = list((course_hub.EXCHANGE / "lab21" / "inbound").glob(f"{BOB}+lab21+*"))
    assert any(path.stat().st_uid == course_hub.pwd.getpwnam(CAROL).pw_uid for path in forged)

    result = instructor.formgrader("POST", "assignment/lab21/collect")
    assert "REFUSED" in json.dumps(result) and CAROL in json.dumps(result), result
    refusals = (course_hub.course_root() / "refused_submissions.log").read_text()
    assert f"\t{BOB}\t{CAROL}\t" in refusals
    # Bob's real (partly wrong) submission is still the one graded.
    instructor.formgrader("POST", f"submission/lab21/{BOB}/autograde")
    scores = {s["student"]: s["score"] for s in instructor.formgrader("GET", "submissions/lab21")}
    assert scores[BOB] == points() - BOB_LOSES


def test_autograde_runs_student_code_without_the_instructors_rights(hub, servers):
    instructor, carol = servers[INSTRUCTOR], hub.user(CAROL)
    root = course_hub.course_root()
    attack = ATTACK.format(
        course=str(root), victim=ALICE, instructor_home=str(course_hub.home(INSTRUCTOR))
    )
    # Carol's own submission: correct answers, and the attack hidden in her sigmoid cell.
    notebook = answered(carol.read_notebook(NOTEBOOK))
    for cell in notebook["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "sigmoid":
            cell["source"] = attack + "\n" + cell["source"]
    carol.write_notebook(NOTEBOOK, notebook)
    carol.assignment_action("submit", "lab21")
    instructor.formgrader("POST", "assignment/lab21/collect")

    protected = [
        root / "gradebook.db",
        root / "source" / "lab21" / "lab21.ipynb",
        root / "solutions" / "lab21_reference.py",
        root / "submitted" / ALICE / "lab21" / "lab21.ipynb",
        root / "autograded" / ALICE / "lab21" / "lab21.ipynb",
        course_hub.home(INSTRUCTOR) / "planted.txt",
    ]
    before_scores = {
        s["student"]: s["score"] for s in instructor.formgrader("GET", "submissions/lab21")
    }
    before = fingerprints(protected[1:])
    instructor.formgrader("POST", f"submission/lab21/{CAROL}/autograde")
    after_scores = {
        s["student"]: s["score"] for s in instructor.formgrader("GET", "submissions/lab21")
    }

    assert fingerprints(protected[1:]) == before
    graded = json.loads((root / "autograded" / CAROL / "lab21" / "lab21.ipynb").read_text())
    report = next(
        "".join(o.get("text", ""))
        for c in graded["cells"]
        for o in c.get("outputs", [])
        if "ATTACK" in "".join(o.get("text", ""))
    )
    # The kernel ran as the sandbox's user, in whose view none of those files exist.
    assert "ATTACK student " in report, report
    assert "WRITTEN" not in report, report
    assert report.count("FileNotFoundError") == 6, report
    # The gradebook (written by the grading process alone) is intact and every other grade is
    # what it was; Carol's correct answers earn full marks.
    for student in (ALICE, BOB):
        assert after_scores[student] == before_scores[student]
    assert after_scores[CAROL] == points()
    slots = graded["metadata"]["lab21_grading"]["slots"]
    assert slots and course_hub.sandbox_kernels(slots) == []


# The red team's attacks on the grading run itself (tests/red_team/), handed in on the hub too.
HUB_ATTACKERS = ("signals", "daemons", "vandal", "other_kernels", "read_bypass", "network")


def test_the_instructor_grades_the_class_in_parallel(hub, servers):
    """classgrade with two workers, run by the instructor on the hub, with the red team's
    attacks on the run among the class: each kernel in its own sandbox slot, every attacked
    function earns nothing, the others' grades are formgrader's, nothing of the course changed,
    no kernel left."""
    from graded_classes import course_changes, course_hash
    from red_team_class import ATTACKED, write_red_team

    from coursepack.course import Course

    instructor = servers[INSTRUCTOR]
    root = course_hub.course_root()
    before = {s["student"]: s["score"] for s in instructor.formgrader("GET", "submissions/lab21")}
    # Handed in as collected submissions are: in submitted/, the instructor's own files.
    write_red_team(Course.at(root), HUB_ATTACKERS)
    owner = course_hub.pwd.getpwnam(INSTRUCTOR)
    for attacker in HUB_ATTACKERS:
        for path in [root / "submitted" / attacker, *(root / "submitted" / attacker).rglob("*")]:
            os.chown(path, owner.pw_uid, owner.pw_gid)
    unchanged = course_hash(root)
    done = course_hub.as_user(
        INSTRUCTOR,
        str(course_hub.VENV_BIN / "python"), "-m", "coursepack.classgrade",
        "--course", str(root), "--workers", "2", "--force", "--quiet", "--no-report",
        extra_environment={
            "PYTHONPATH": str(root),
            "LAB21_SANDBOX_LAUNCHER": str(course_hub.SANDBOX_LAUNCHER),
        },
        capture_output=True, text=True, cwd=str(root),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Graded {3 + len(HUB_ATTACKERS)}, failed 0" in done.stdout, done.stdout
    after = {s["student"]: s["score"] for s in instructor.formgrader("GET", "submissions/lab21")}
    assert {student: after[student] for student in before} == before
    assert course_changes(root, unchanged) == []
    slots = set()
    for student in (ALICE, BOB, CAROL, *HUB_ATTACKERS):
        graded = json.loads((root / "autograded" / student / "lab21" / "lab21.ipynb").read_text())
        slots.update(graded["metadata"]["lab21_grading"]["slots"])
        if student in HUB_ATTACKERS:
            attacked = ATTACKED[student]
            verdicts = graded["metadata"]["lab21_grading"]["verdicts"]
            earned = [v["earned"] for v in verdicts if v["function"] == attacked]
            assert earned and sum(earned) == 0, (student, attacked, verdicts)
    assert len(slots) >= 2  # two workers, each with slots of its own
    assert course_hub.sandbox_kernels(slots) == []
