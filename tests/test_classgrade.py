"""Parallel class grading (coursepack.classgrade) and the class report (coursepack.report).

Real nbgrader throughout, in scratch courses, with the gradebook on SQLite and on a private
PostgreSQL server (the `gradebooks` fixture): the sample class graded by the parallel command
with each gradebook must agree, cell by cell, with the same students graded serially by
`nbgrader autograde` in the shared command-line class (tests/conftest.py).
"""

import html
import json
import sqlite3

import psutil
import pytest

from coursepack import ASSIGNMENT
from coursepack.classgrade import (
    FAILED,
    GRADED,
    TIMED_OUT,
    grade_class,
    grade_students,
    read_record,
)
from coursepack.course import Course, as_course, copy_course
from coursepack.grade import write_sample_class
from coursepack.report import write_report
from coursepack.submissions import submission_notebook, submit

pytestmark = pytest.mark.slow  # grades for real (make test-fast leaves it out)


def grades_by_cell(course):
    """{student: {grade cell: (auto score, manual score, needs manual grade)}}."""
    table = {}
    with as_course(course).gradebook() as gradebook:
        for submission in gradebook.assignment_submissions(ASSIGNMENT):
            cells = {}
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    cells[grade.name] = (
                        grade.auto_score,
                        grade.manual_score,
                        grade.needs_manual_grade,
                    )
            table[submission.student.id] = cells
    return table


def write_answer(course, student, answers, base="reference"):
    submit(Course.at(course), student, submission_notebook(answers, base))


@pytest.fixture(scope="module")
def sample_class(gradebooks, by_command_line, tmp_path_factory):
    """The sample class graded by the parallel command (2 workers writing to one gradebook)."""
    serial = by_command_line.course
    parallel = gradebooks.new_course(tmp_path_factory.mktemp(gradebooks.kind) / "course")
    students = write_sample_class(parallel)
    summary = grade_class(parallel, workers=2, progress=False)
    return serial, parallel, students, summary


def test_parallel_scores_match_serial_nbgrader_on_the_sample_class(sample_class, gradebooks):
    serial, parallel, students, summary = sample_class
    assert (summary.graded, summary.failed, summary.unchanged) == (len(students), 0, 0)
    assert Course.at(parallel).db_url.startswith(gradebooks.kind)
    serial_grades = {s: cells for s, cells in grades_by_cell(serial).items() if s in students}
    parallel_grades = grades_by_cell(parallel)
    assert sorted(parallel_grades) == sorted(students)
    assert parallel_grades == serial_grades
    # Spot checks against the sample class's README, so that "equal" is not "equally empty".
    assert parallel_grades["ada_perfect"]["test_firstNN_accuracy"][0] == 5
    assert parallel_grades["cleo_typical"]["test_lead_coef_hidden"][0] == 0
    # No lost or damaged write: every grade cell of every student is in one sound database.
    cells_per_student = {len(cells) for cells in parallel_grades.values()}
    assert cells_per_student == {len(serial_grades["ada_perfect"])}
    if gradebooks.kind == "sqlite":
        with sqlite3.connect(Course.at(parallel).db_url.removeprefix("sqlite:///")) as database:
            assert database.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    for student in students:  # nbgrader's feedback, made by the workers too
        assert Course.at(parallel).notebook("feedback", student).with_suffix(".html").exists()


@pytest.fixture(scope="module")
def regraded_class(sample_class, gradebooks, tmp_path_factory):
    """The graded sample class, run again after one change and one broken submission."""
    _, parallel, students, _ = sample_class
    course = gradebooks.clone(parallel, tmp_path_factory.mktemp("again") / "course")
    unchanged_run = grade_class(course, workers=2, progress=False)
    write_answer(course, "eve_halfway", {})  # eve hands in every answer right
    broken = Course.at(course).folder("submitted", "zoe_broken")
    broken.mkdir(parents=True)
    # No notebook at all (a broken one would be repaired by the preflight step): nbgrader
    # grades nothing, and the run must say so.
    (broken / "notes.txt").write_text("I could not finish, sorry")
    second_run = grade_class(course, workers=2, progress=False)
    return course, unchanged_run, second_run


def test_rerun_grades_only_new_or_changed_submissions(regraded_class):
    course, unchanged_run, second_run = regraded_class
    assert (unchanged_run.graded, unchanged_run.failed, unchanged_run.unchanged) == (0, 0, 5)
    assert (second_run.graded, second_run.failed, second_run.unchanged) == (1, 1, 4)
    outcomes = {outcome.student: outcome for outcome in second_run.outcomes}
    assert outcomes["eve_halfway"].status == GRADED
    assert outcomes["zoe_broken"].status == FAILED
    assert "No notebooks" in outcomes["zoe_broken"].log_tail  # nbgrader's own words, logged
    grades = grades_by_cell(course)
    assert sum(score or 0 for score, _, _ in grades["eve_halfway"].values()) == 28
    record = read_record(course)
    assert record["zoe_broken"]["status"] == FAILED
    assert all(len(record[s]["submission_sha256"]) == 64 for s in record)


def test_forced_run_regrades_unchanged_submissions(tmp_path):
    course = copy_course(tmp_path / "course")
    write_answer(course, "solo", {})
    first = grade_class(course, workers=1, progress=False)
    again = grade_class(course, workers=1, progress=False)
    forced = grade_class(course, workers=1, force=True, progress=False)
    assert (first.graded, again.graded, again.unchanged, forced.graded) == (1, 0, 1, 1)


def test_grading_without_the_sandbox_is_named_in_the_output_and_the_report(tmp_path):
    import subprocess
    import sys

    course = copy_course(tmp_path / "course")
    write_answer(course, "solo", {})

    def classgrade(*options):
        command = [sys.executable, "-m", "coursepack.classgrade", "--course", str(course)]
        command += ["--workers", "1", "--no-feedback", "--quiet", *options]
        return subprocess.run(command, capture_output=True, text=True, timeout=300, check=True)

    unsafe = classgrade("--unsafe-no-sandbox")
    assert "WARNING: --unsafe-no-sandbox" in unsafe.stderr
    page = (course / "class_report" / "index.html").read_text()
    banner = page.split('<p class="unsafe">')[1].split("</p>")[0]
    assert "Graded without the sandbox" in banner and "solo" in banner
    # Graded again with the sandbox, the class report no longer warns.
    classgrade("--force")
    assert 'class="unsafe"' not in (course / "class_report" / "index.html").read_text()


def test_a_submission_over_its_time_budget_is_stopped_with_its_kernel(tmp_path):
    course = copy_course(tmp_path / "course")
    # A loop that swallows interrupts: nbgrader alone would wait on it for a full cell timeout.
    endless = "\n".join(
        [
            "import time",
            "while True:",
            "    try:",
            "        time.sleep(0.1)",
            "    except BaseException:",
            "        pass",
        ]
    )
    write_answer(course, "looper", {"sigmoid": endless})
    outcomes = grade_students(course, ["looper"], workers=1, timeout=8)
    assert [(o.student, o.status) for o in outcomes] == [("looper", TIMED_OUT)]
    left_behind = []
    for process in psutil.process_iter(["cmdline"]):
        try:
            if str(course) in process.cwd() and "ipykernel" in " ".join(process.info["cmdline"]):
                left_behind.append(process.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    assert left_behind == []


def rewrite_graded_notebook(course, student, change):
    path = Course.at(course).notebook("autograded", student)
    notebook = json.loads(path.read_text())
    change(notebook)
    path.chmod(0o644)
    path.write_text(json.dumps(notebook))


def test_class_report_from_a_graded_class(regraded_class):
    course, _, _ = regraded_class
    # The course's grading steps leave flags in the autograded notebook's metadata.
    rewrite_graded_notebook(
        course,
        "dev_handout",
        lambda notebook: notebook["metadata"]["lab21_grading"]["flags"].append("kernel restarted"),
    )

    # The report reads the verdicts stored as data, not what the cells print: with every
    # output of cleo's graded notebook gone, her failed checks are still all there.
    def blank_outputs(notebook):
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code":
                cell["outputs"] = []

    rewrite_graded_notebook(course, "cleo_typical", blank_outputs)

    index = write_report(course)
    page = index.read_text()
    folder = index.parent
    for figure in (
        "score_distribution.png",
        "points_per_function.png",
        "failed_checks.png",
        "grading_time.png",
    ):
        assert (folder / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f'src="{figure}"' in page
    # Problems: the broken submission and the flagged one.
    attention = page.split("Submissions that need a look")[1].split("Grading time")[0]
    assert "zoe_broken" in attention and "failed" in attention
    assert 'href="logs/zoe_broken.log"' in attention
    assert "zoe_broken" in (folder / "logs" / "zoe_broken.log").read_text()
    assert "dev_handout" in attention and "kernel restarted" in attention
    # Exports: per student and function, every hidden check, and nbgrader's own totals.
    import pandas as pd

    by_function = pd.read_csv(folder / "scores_by_function.csv").set_index("student")
    assert by_function.loc["cleo_typical", "lead_coef"] == 0
    assert by_function.loc["ada_perfect", "firstNN"] == 8
    assert by_function.loc["eve_halfway", "total"] == 28
    assert by_function.loc["zoe_broken", "status"] == FAILED
    totals = pd.read_csv(folder / "grades.csv").set_index("student_id")
    assert totals.loc["cleo_typical", "score"] == by_function.loc["cleo_typical", "total"]
    checks = pd.read_csv(folder / "hidden_checks.csv")
    lead_coef = checks[(checks["student"] == "cleo_typical") & (checks["suite"] == "lead_coef")]
    assert len(lead_coef) == 7 and not lead_coef["passed"].any()
    assert any("lead_coef(0) returned 0, expected 0.25" in m for m in lead_coef["message"])
    assert lead_coef["check"].tolist() == [f"lead_coef/{n}" for n in range(1, 8)]
    assert checks[checks["student"] == "ada_perfect"]["passed"].all()
    # The most frequent failures come first: the check that most students failed on a function
    # they answered (firstNN's accuracy: cleo and dev), one student's message as an example.
    failed = checks[~checks["passed"] & ~checks["unanswered"] & (checks["check"].notna())]
    counts = failed.groupby("check")["student"].nunique()
    top = page.split("Most frequent failed hidden checks</h2>")[1].split("</table>")[0]
    first_row = top.split("<tbody>")[1].split("</tr>")[0]
    cells = [cell.split("</td>")[0] for cell in first_row.split("<td>")[1:]]
    suite, check, _, students, example = cells
    assert int(students) == counts.max() == counts[check] >= 2
    assert check.startswith("firstNN_accuracy/")
    assert html.unescape(example) in failed[failed["check"] == check]["message"].tolist()
    # Where the time went: nbgrader's steps and the Execute step's, for the graded students.
    steps = page.split("Where the time went")[1].split("</table>")[0]
    for step in ("Autograde", "GenerateFeedback", "execute: kernel start", "execute: cells"):
        assert f"<td>{step}</td>" in steps
    assert "execute: hidden firstNN_accuracy" in steps
    assert set(checks["student"]) == {
        "ada_perfect",
        "ben_untouched",
        "cleo_typical",
        "dev_handout",
        "eve_halfway",
    }
