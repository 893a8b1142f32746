"""Test the tests: the mistake bank graded as students are, by nbgrader's own converters.

Every entry of tests/mistake_bank/ is one student's submission (the reference answers with one
cell replaced) in the class that `coursepack.classgrade` grades (tests/conftest.py). A wrong
entry must lose points on its own function and nowhere else; a correct one must earn full
marks on every automatically graded part.

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


def grader_messages(course, entry):
    """The stored verdicts on the entry's function (its failed checks), from the autograded
    notebook's grading record."""
    path = as_course(course).notebook("autograded", entry.student_id)
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


def test_mistake_bank_through_nbgrader(mistake_bank_class):
    entries = bank_entries()
    ungraded = [
        entry.student_id for entry in entries if entry.student_id not in mistake_bank_class.scores
    ]
    assert not ungraded, f"nbgrader recorded no grades for {ungraded}"
    scores = {
        entry.student_id: auto_scores(mistake_bank_class.scores, entry.student_id)
        for entry in entries
    }

    verdicts = [judge(entry, scores[entry.student_id]) for entry in entries]
    table = verdict_table(verdicts)
    print(f"\n{table}\n{len(entries)} submissions, graded in a class by classgrade")

    surprises = unexpected(verdicts)
    details = "\n\n".join(
        f"{v.entry.student_id} ({v.entry.expect}"
        f"{', known gap: ' + v.entry.known_gap if v.entry.known_gap else ''}): {v.entry.why}\n"
        f"  scores: {scores[v.entry.student_id]}\n"
        + grader_messages(mistake_bank_class.course, v.entry)
        for v in surprises
    )
    assert not surprises, f"{len(surprises)} unexpected verdict(s):\n\n{details}\n\n{table}"
