"""Test the tests: the mistake bank graded as students are, by nbgrader's own converters.

Every entry of tests/mistake_bank/ replaces one cell of the reference answers in a submission of
the class that `coursepack.classgrade` grades (tests/conftest.py); each submission holds one
entry of each function at most (`packs`). A wrong entry must lose points on its own function;
a correct one must earn its function's full marks; and every part without an entry in the
submission keeps full marks.

    .venv/bin/python -m pytest tests/test_mistake_bank.py -s    # prints the verdict table
"""

import nbformat
import pytest
from bank_entries import bank_entries, judge, unexpected, verdict_table

from coursepack.course import as_course
from coursepack.guarded_execute import METADATA_KEY

pytestmark = pytest.mark.slow  # grades for real (make test-fast leaves it out)


def auto_scores(table, student):
    """{part: (earned, possible)} of a student's automatically graded parts."""
    return {
        part: (earned, possible)
        for part, (earned, possible, manual) in table[student].items()
        if not manual
    }


def grader_messages(course, student, entry):
    """The stored verdicts on the entry's function (its failed checks), from the autograded
    notebook's grading record."""
    path = as_course(course).notebook("autograded", student)
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


def test_mistake_bank_through_nbgrader(by_classgrade):
    graded = by_classgrade
    ungraded = [student for student in graded.bank if student not in graded.scores]
    assert not ungraded, f"nbgrader recorded no grades for {ungraded}"
    verdicts, students = [], {}
    for student, entries in graded.bank.items():
        scores = auto_scores(graded.scores, student)
        for entry in entries:
            others = [other for other in entries if other is not entry]
            verdicts.append(judge(entry, scores, shared_with=others))
            students[entry] = student
    assert len(verdicts) == len(bank_entries())
    table = verdict_table(verdicts)
    print(f"\n{table}\n{len(verdicts)} entries in {len(graded.bank)} submissions, by classgrade")

    surprises = unexpected(verdicts)
    details = "\n\n".join(
        f"{v.entry.student_id} in {students[v.entry]} ({v.entry.expect}"
        f"{', known gap: ' + v.entry.known_gap if v.entry.known_gap else ''}): {v.entry.why}\n"
        f"  scores: {auto_scores(graded.scores, students[v.entry])}\n"
        + grader_messages(graded.course, students[v.entry], v.entry)
        for v in surprises
    )
    assert not surprises, f"{len(surprises)} unexpected verdict(s):\n\n{details}\n\n{table}"
