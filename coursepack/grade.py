"""Autograde the bundled sample class with nbgrader and print the grades.

`python -m coursepack.grade` (part of `make grade`) writes `submitted/` from the answer files in
`sample_class/`, grades them in parallel with nbgrader's own converters
(`coursepack.classgrade`: new or changed submissions only), prints one row per student with the
points earned per graded function, and writes the class report (class_report/index.html).
`grade_sample_class` is the plain serial way: `nbgrader autograde`, then `generate_feedback`.
"""

import re
import time
from collections import defaultdict

from coursepack import ASSIGNMENT, COURSE_ROOT
from coursepack.build import run_nbgrader
from coursepack.checks import GRADED_FUNCTIONS
from coursepack.course import as_course
from coursepack.submissions import write_from_answer_file

SAMPLE_CLASS = COURSE_ROOT / "sample_class"
MANUAL_PART = "reflection"
PARTS = (*GRADED_FUNCTIONS, MANUAL_PART)


def part_of(grade_id):
    """The lab part a grade cell belongs to: test_lead_coef_hidden -> lead_coef."""
    if grade_id == MANUAL_PART:
        return MANUAL_PART
    name = re.sub(r"^test_", "", grade_id)
    # Longest name first, so that hidden_weight_update is not mistaken for a prefix match.
    for function in sorted(GRADED_FUNCTIONS, key=len, reverse=True):
        if name == function or name.startswith(function + "_"):
            return function
    raise ValueError(f"grade cell {grade_id!r} belongs to no graded function")


def write_sample_class(course_root=COURSE_ROOT):
    """A submission for every answer file in sample_class/; returns the student ids."""
    course = as_course(course_root)
    students = []
    for answer_file in sorted(SAMPLE_CLASS.glob("*.py")):
        write_from_answer_file(answer_file, course)
        students.append(answer_file.stem)
    return students


def scores_by_part(course_root=COURSE_ROOT, students=None):
    """{student: {part: (score, max_score, needs_manual_grade)}} read from the gradebook."""
    table = {}
    with as_course(course_root).gradebook() as gradebook:
        for submission in gradebook.assignment_submissions(ASSIGNMENT):
            if students is not None and submission.student.id not in students:
                continue
            parts = defaultdict(lambda: [0.0, 0.0, False])
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    entry = parts[part_of(grade.name)]
                    entry[0] += grade.score or 0.0
                    entry[1] += grade.max_score
                    entry[2] = entry[2] or grade.needs_manual_grade
            table[submission.student.id] = {part: tuple(entry) for part, entry in parts.items()}
    return table


def format_table(table):
    """A plain-text grade table: one row per student, one column per lab part."""
    headers = ["student", *PARTS, "total"]
    rows = []
    for student, parts in sorted(table.items()):
        cells = [student]
        for part in PARTS:
            score, max_score, manual = parts.get(part, (0.0, 0.0, False))
            cells.append("manual" if manual else f"{score:g}/{max_score:g}")
        total = sum(score for score, _, _ in parts.values())
        possible = sum(max_score for _, max_score, _ in parts.values())
        cells.append(f"{total:g}/{possible:g}")
        rows.append(cells)
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells):
        return "  ".join(str(cell).ljust(width) for cell, width in zip(cells, widths, strict=True))

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


def grade_sample_class(course_root=COURSE_ROOT):
    """Autograde the sample class and make its feedback; return the score table."""
    students = write_sample_class(course_root)
    course_root = as_course(course_root).home
    run_nbgrader("autograde", ASSIGNMENT, "--force", course_root=course_root)
    run_nbgrader("generate_feedback", ASSIGNMENT, "--force", course_root=course_root)
    return scores_by_part(course_root, students=set(students))


def main():
    """`make grade`: the sample class, graded in parallel, its table and the class report."""
    from coursepack.classgrade import grade_class, print_summary
    from coursepack.report import write_report

    started = time.perf_counter()
    print(
        f"Autograding the sample class ({SAMPLE_CLASS.name}/) with nbgrader, in parallel...",
        flush=True,
    )
    students = write_sample_class()
    print_summary(grade_class(COURSE_ROOT))
    print()
    print(format_table(scores_by_part(COURSE_ROOT, students=set(students))))
    print()
    print("'manual': the written reflection (Part I) waits for a grader in formgrader.")
    feedback = as_course(COURSE_ROOT).notebook("feedback", "<student>").with_suffix(".html")
    print(f"Feedback for each student: {feedback}")
    print(f"Class report: {write_report(COURSE_ROOT).as_uri()}")
    print(f"Done in {time.perf_counter() - started:.1f} s.")


if __name__ == "__main__":
    main()
