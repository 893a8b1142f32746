"""Test the tests: the mistake bank graded as students are, by the real `nbgrader autograde`.

Every entry of tests/mistake_bank/ becomes one student's submission (the reference answers with
one cell replaced) in a scratch course. A wrong entry must lose points on its own function and
nowhere else; a correct one must earn full marks on every automatically graded part.

    .venv/bin/python -m pytest tests/test_mistake_bank.py -s    # prints the verdict table
"""

import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
from bank_entries import bank_entries, judge, unexpected, verdict_table

from coursepack import ASSIGNMENT
from coursepack.build import run_nbgrader
from coursepack.course import Course, copy_course
from coursepack.grade import scores_by_part
from coursepack.guarded_execute import METADATA_KEY
from coursepack.submissions import submission_notebook, submit

# One autograde process grades its students one after the other; a few processes, each with its
# own scratch course and gradebook, share the bank out over the machine's cores.
WORKERS = max(1, min(os.cpu_count() or 1, 4))


def prepare_courses(root, entries, workers):
    """[(course folder, its entries)]: scratch courses that know the assignment, submissions in."""
    first = copy_course(root / "course-1")  # with a gradebook that knows the assignment
    courses = [first] + [
        Path(shutil.copytree(first, root / f"course-{i}")) for i in range(2, workers + 1)
    ]
    shares = [entries[i::workers] for i in range(workers)]
    for course, share in zip(courses, shares, strict=True):
        for entry in share:
            notebook = submission_notebook({entry.function: entry.source})
            submit(Course.at(course), entry.student_id, notebook)
    return list(zip(courses, shares, strict=True))


def autograde(course, share):
    """{student: {part: (earned, possible)}} for the automatically graded parts."""
    run_nbgrader("autograde", ASSIGNMENT, "--force", course_root=course)
    table = scores_by_part(course, students={entry.student_id for entry in share})
    return {
        student: {
            part: (earned, possible)
            for part, (earned, possible, manual) in parts.items()
            if not manual
        }
        for student, parts in table.items()
    }


def grader_messages(course, entry):
    """The stored verdicts on the entry's function (its failed checks), from the autograded
    notebook's grading record."""
    path = Course.at(course).notebook("autograded", entry.student_id)
    if not path.exists():
        return "(no autograded notebook)"
    record = nbformat.read(path, as_version=4).metadata.get(METADATA_KEY, {})
    lines = []
    for verdict in record.get("verdicts", []):
        if verdict["function"] != entry.function:
            continue
        if verdict["status"] != "judged":
            lines.append(f"{verdict['suite']}: {verdict['status']}: {verdict['reason']}")
        failed = [check["message"] for check in verdict["checks"] if not check["passed"]]
        lines += [f"{verdict['suite']}: {message}" for message in failed]
    return "\n".join(lines)


def test_mistake_bank_through_nbgrader(tmp_path):
    entries = bank_entries()
    started = time.perf_counter()
    courses = prepare_courses(tmp_path, entries, min(WORKERS, len(entries)))
    with ThreadPoolExecutor(len(courses)) as pool:
        results = list(pool.map(lambda pair: autograde(*pair), courses))
    elapsed = time.perf_counter() - started

    course_of = {entry.student_id: course for course, share in courses for entry in share}
    scores = {student: parts for result in results for student, parts in result.items()}
    ungraded = [entry.student_id for entry in entries if entry.student_id not in scores]
    assert not ungraded, f"nbgrader recorded no grades for {ungraded}"

    verdicts = [judge(entry, scores[entry.student_id]) for entry in entries]
    table = verdict_table(verdicts)
    print(
        f"\n{table}\n{len(entries)} submissions autograded in {elapsed:.0f} s"
        f" ({len(courses)} nbgrader process(es))"
    )

    surprises = unexpected(verdicts)
    details = "\n\n".join(
        f"{v.entry.student_id} ({v.entry.expect}"
        f"{', known gap: ' + v.entry.known_gap if v.entry.known_gap else ''}): {v.entry.why}\n"
        f"  scores: {scores[v.entry.student_id]}\n"
        + grader_messages(course_of[v.entry.student_id], v.entry)
        for v in surprises
    )
    assert not surprises, f"{len(surprises)} unexpected verdict(s):\n\n{details}\n\n{table}"
