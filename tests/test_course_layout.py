"""The pack reads every folder and the gradebook through nbgrader's CourseDirectory.

A scratch course with another `directory_structure`, renamed step folders and its gradebook on
PostgreSQL (a SQLite file elsewhere than nbgrader's default where no server can be had) is
graded by the parallel command: `make grade`'s score table, the preflight step's reset of stale
scores and the class report must all follow the configuration, and nothing may appear where the
defaults would have put it.
"""

import pandas as pd
import pytest

from coursepack.classgrade import GRADED, TIMED_OUT, grade_class, read_record
from coursepack.course import Course, copy_course
from coursepack.grade import format_table, scores_by_part
from coursepack.postgres import missing_reason
from coursepack.report import write_report
from coursepack.submissions import reference_answers, submission_notebook, submit

pytestmark = pytest.mark.slow  # grades for real (make test-fast leaves it out)

LAYOUT = [
    'c.CourseDirectory.directory_structure = "{nbgrader_step}/{assignment_id}/{student_id}"',
    'c.CourseDirectory.release_directory = "handout"',
    'c.CourseDirectory.submitted_directory = "handed_in"',
    'c.CourseDirectory.autograded_directory = "graded"',
    'c.CourseDirectory.feedback_directory = "returned"',
]
# A loop that swallows interrupts: grading is stopped by the time limit, after preflight ran.
ENDLESS = "\n".join(
    [
        "import time",
        "while True:",
        "    try:",
        "        time.sleep(0.1)",
        "    except BaseException:",
        "        pass",
    ]
)


@pytest.fixture(scope="module")
def course(tmp_path_factory, request):
    folder = tmp_path_factory.mktemp("layout") / "course"
    if missing_reason():
        db_url = f"sqlite:///{folder / 'books' / 'lab21.sqlite'}"
        (folder / "books").mkdir(parents=True)
    else:
        db_url = request.getfixturevalue("postgres_server").create_database("lab21_layout")
    config = [*LAYOUT, f"c.CourseDirectory.db_url = {db_url!r}"]
    course = Course.at(copy_course(folder, config_lines=config))
    submit(course, "amy", submission_notebook({}))
    # bo has answered ReLU only so far (quick to grade: the rest stops at once).
    submit(course, "bo", submission_notebook({"ReLU": reference_answers()["ReLU"]}, "release"))
    first = grade_class(course, workers=2, progress=False)
    assert (first.graded, first.failed) == (2, 0)
    return course


def test_every_folder_is_where_the_configuration_says(course):
    root = course.root
    assert course.notebook("release") == root / "handout" / "lab21" / "lab21.ipynb"
    assert course.students("submitted") == ["amy", "bo"]
    assert (root / "handed_in" / "lab21" / "amy" / "lab21.ipynb").exists()
    for student in ("amy", "bo"):
        assert (root / "graded" / "lab21" / student / "lab21.ipynb").exists()
        assert (root / "returned" / "lab21" / student / "lab21.html").exists()
    assert (root / "graded" / "grading_record.json").exists()
    # Nothing where nbgrader's defaults would have put it.
    for default in ("gradebook.db", "release", "submitted", "autograded", "feedback"):
        assert not (root / default).exists(), default


def test_the_score_table_reads_the_configured_gradebook(course):
    table = scores_by_part(course)
    assert sorted(table) == ["amy", "bo"]
    assert all(
        table["amy"][part][0] == table["amy"][part][1]
        for part in table["amy"]
        if part != "reflection"
    )
    assert sum(score for score, _, _ in table["bo"].values()) == table["bo"]["ReLU"][0] == 2
    rows = {line.split()[0]: line.split() for line in format_table(table).splitlines()[2:]}
    assert rows["amy"][-1] == "28/31" and rows["bo"][-1] == "2/31"


def test_a_failed_regrade_leaves_no_old_points_and_the_report_follows(course):
    assert scores_by_part(course)["bo"]["ReLU"][0] == 2
    answers = {"ReLU": reference_answers()["ReLU"], "sigmoid": ENDLESS}
    submit(course, "bo", submission_notebook(answers, "release"))
    run = grade_class(course, workers=1, timeout=8, progress=False)
    assert [(o.student, o.status) for o in run.outcomes] == [("bo", TIMED_OUT)]
    assert read_record(course)["bo"]["status"] == TIMED_OUT
    # The preflight step cleared bo's autograded scores in the configured gradebook first.
    assert sum(score for score, _, _ in scores_by_part(course)["bo"].values()) == 0
    folder = write_report(course).parent
    by_function = pd.read_csv(folder / "scores_by_function.csv").set_index("student")
    assert by_function.loc["amy", "total"] == 28 and by_function.loc["amy", "status"] == GRADED
    assert by_function.loc["bo", "total"] == 0 and by_function.loc["bo", "status"] == TIMED_OUT
    checks = pd.read_csv(folder / "hidden_checks.csv")
    assert set(checks["student"]) == {"amy"} and checks["passed"].all()
    totals = pd.read_csv(folder / "grades.csv").set_index("student_id")
    assert totals.loc["amy", "score"] == 28
