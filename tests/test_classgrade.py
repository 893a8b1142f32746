"""Parallel class grading (coursepack.classgrade) and the class report (coursepack.report).

Real nbgrader throughout, in scratch courses: the sample class is graded once serially with
`nbgrader autograde` and once with the parallel command, and the two gradebooks must agree
cell by cell.
"""

import json
import os
import shutil
import sqlite3
from pathlib import Path

import psutil
import pytest
from nbgrader.api import Gradebook

from coursepack import ASSIGNMENT
from coursepack.build import run_nbgrader
from coursepack.classgrade import (
    FAILED,
    GRADED,
    TIMED_OUT,
    grade_class,
    grade_students,
    read_record,
)
from coursepack.course import copy_course
from coursepack.grade import write_sample_class
from coursepack.report import write_report
from coursepack.submissions import parse_answer_file, submission_notebook, write_submission

MISTAKE_BANK = Path(os.environ.get("MISTAKE_BANK_DIR", Path(__file__).with_name("mistake_bank")))


def new_course(folder):
    """A scratch course with its release built and the assignment in its gradebook."""
    course = copy_course(folder)  # with a gradebook that knows the assignment
    return course


def grades_by_cell(course):
    """{student: {grade cell: (auto score, manual score, needs manual grade)}}."""
    table = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for submission in gradebook.assignment_submissions(ASSIGNMENT):
            cells = {}
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    cells[grade.name] = (grade.auto_score, grade.manual_score,
                                         grade.needs_manual_grade)
            table[submission.student.id] = cells
    return table


def write_answer(course, student, answers, base="reference"):
    folder = course / "submitted" / student / ASSIGNMENT
    shutil.rmtree(folder, ignore_errors=True)
    write_submission(folder, submission_notebook(answers, base))


def grade_both_ways(tmp_path, write_class):
    """Grade the same class serially with the nbgrader CLI and with the parallel command."""
    base = new_course(tmp_path / "base")
    serial = Path(shutil.copytree(base, tmp_path / "serial"))
    parallel = Path(shutil.copytree(base, tmp_path / "parallel"))
    students = write_class(serial)
    assert write_class(parallel) == students
    run_nbgrader("autograde", ASSIGNMENT, "--force", course_root=serial)
    summary = grade_class(parallel, workers=2, progress=False)
    return serial, parallel, students, summary


@pytest.fixture(scope="module")
def sample_class(tmp_path_factory):
    return grade_both_ways(tmp_path_factory.mktemp("sample"), write_sample_class)


def test_parallel_scores_match_serial_nbgrader_on_the_sample_class(sample_class):
    serial, parallel, students, summary = sample_class
    assert (summary.graded, summary.failed, summary.unchanged) == (len(students), 0, 0)
    serial_grades, parallel_grades = grades_by_cell(serial), grades_by_cell(parallel)
    assert sorted(parallel_grades) == sorted(students)
    assert parallel_grades == serial_grades
    # Spot checks against the sample class's README, so that "equal" is not "equally empty".
    assert parallel_grades["ada_perfect"]["test_firstNN_accuracy"][0] == 5
    assert parallel_grades["cleo_typical"]["test_lead_coef_hidden"][0] == 0
    # No lost or damaged write: every grade cell of every student is in one sound database.
    cells_per_student = {len(cells) for cells in parallel_grades.values()}
    assert cells_per_student == {len(serial_grades["ada_perfect"])}
    with sqlite3.connect(parallel / "gradebook.db") as database:
        assert database.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    for student in students:  # nbgrader's feedback, made by the workers too
        assert (parallel / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").exists()


@pytest.fixture(scope="module")
def regraded_class(sample_class, tmp_path_factory):
    """The graded sample class, run again after one change and one broken submission."""
    _, parallel, students, _ = sample_class
    course = Path(shutil.copytree(parallel, tmp_path_factory.mktemp("again") / "course"))
    unchanged_run = grade_class(course, workers=2, progress=False)
    write_answer(course, "eve_halfway", {})  # eve hands in every answer right
    broken = course / "submitted" / "zoe_broken" / ASSIGNMENT
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
    course = new_course(tmp_path / "course")
    write_answer(course, "solo", {})
    first = grade_class(course, workers=1, progress=False)
    again = grade_class(course, workers=1, progress=False)
    forced = grade_class(course, workers=1, force=True, progress=False)
    assert (first.graded, again.graded, again.unchanged, forced.graded) == (1, 0, 1, 1)


def test_a_submission_over_its_time_budget_is_stopped_with_its_kernel(tmp_path):
    course = new_course(tmp_path / "course")
    # A loop that swallows interrupts: nbgrader alone would wait on it for a full cell timeout.
    endless = "\n".join([
        "import time",
        "while True:",
        "    try:",
        "        time.sleep(0.1)",
        "    except BaseException:",
        "        pass",
    ])
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


def test_class_report_from_a_graded_class(regraded_class):
    course, _, _ = regraded_class
    # The course's grading steps leave flags in the autograded notebook's metadata.
    notebook_path = course / "autograded" / "dev_handout" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    notebook = json.loads(notebook_path.read_text())
    notebook["metadata"]["lab21_grading"] = {"flags": ["kernel restarted"], "notices": []}
    notebook_path.chmod(0o644)
    notebook_path.write_text(json.dumps(notebook))

    index = write_report(course)
    page = index.read_text()
    folder = index.parent
    for figure in ("score_distribution.png", "points_per_function.png", "failed_checks.png",
                   "grading_time.png"):
        assert (folder / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f'src="{figure}"' in page
    # The most frequent failures quote the hidden tests' messages.
    assert "lead_coef" in page and "expected 0.25" in page
    # Problems: the broken submission and the flagged one.
    attention = page.split("Submissions that need a look")[1].split("Grading time")[0]
    assert "zoe_broken" in attention and "failed" in attention
    assert 'href="logs/zoe_broken.log"' in attention
    assert "zoe_broken" in (folder / "logs" / "zoe_broken.log").read_text()
    assert "dev_handout" in attention and "kernel restarted" in attention
    # Exports: per student and function, and nbgrader's own totals.
    import pandas as pd

    by_function = pd.read_csv(folder / "scores_by_function.csv").set_index("student")
    assert by_function.loc["cleo_typical", "lead_coef"] == 0
    assert by_function.loc["ada_perfect", "firstNN"] == 8
    assert by_function.loc["eve_halfway", "total"] == 28
    assert by_function.loc["zoe_broken", "status"] == FAILED
    totals = pd.read_csv(folder / "grades.csv").set_index("student_id")
    assert totals.loc["cleo_typical", "score"] == by_function.loc["cleo_typical", "total"]


def mistake_bank_entries():
    """(student id, answer file) per bank entry: one per function unless LAB21_FULL_BANK=1."""
    if not MISTAKE_BANK.is_dir():
        return []
    entries = []
    for function_folder in sorted(p for p in MISTAKE_BANK.iterdir() if p.is_dir()):
        files = sorted(function_folder.glob("*.py"))
        if os.environ.get("LAB21_FULL_BANK") != "1":
            files = files[:1]
        entries += [(f"{function_folder.name}__{path.stem}", path) for path in files]
    return entries


@pytest.mark.skipif(not mistake_bank_entries(), reason="the mistake bank has not landed yet")
def test_parallel_scores_match_serial_nbgrader_on_the_mistake_bank(tmp_path):
    entries = mistake_bank_entries()

    def write_bank(course):
        for student, path in entries:
            base, answers = parse_answer_file(path.read_text())
            write_answer(course, student, answers, base)
        return sorted(student for student, _ in entries)

    serial, parallel, students, summary = grade_both_ways(tmp_path, write_bank)
    assert summary.failed == 0
    assert grades_by_cell(parallel) == grades_by_cell(serial)
