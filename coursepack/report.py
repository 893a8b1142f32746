"""The class report: what an instructor reads after grading, and the CSV exports.

`write_report(course_root)` (run by `python -m coursepack.classgrade`, or alone as
`python -m coursepack.report [--course DIR]`) reads the gradebook, the verdicts that grading
stored in each autograded notebook (`lab21_grading` metadata, as plain data: never the text of
the messages) and the grading record, and writes class_report/:

- index.html: score distribution, points per graded function, the most frequent failed hidden
  checks, submissions that failed, timed out, crashed or were flagged, and the grading time per
  submission; PNG figures beside it (made on demand, never committed);
- scores_by_function.csv: one row per student, one column per graded function;
- hidden_checks.csv: one row per student and hidden check (passed or not, and its message);
- grades.csv: nbgrader's own export (one total per student).

Every folder and the gradebook come from the course's CourseDirectory (coursepack.course).
"""

import argparse
import html
import textwrap
from collections import defaultdict
from pathlib import Path

import nbformat
import pandas as pd
from nbgrader import utils

from coursepack import ASSIGNMENT, COURSE_ROOT
from coursepack.classgrade import (
    GRADED,
    autograded_notebook,
    grading_flags,
    read_record,
    submitted_students,
)
from coursepack.course import as_course
from coursepack.grade import MANUAL_PART, PARTS, scores_by_part
from coursepack.guarded_execute import METADATA_KEY
from coursepack.submissions import nbgrader_meta

REPORT_FOLDER = "class_report"
TOP_FAILURES = 15
# hidden_checks.csv; unanswered: the function's answer cell was left as released.
CHECK_COLUMNS = [
    "student", "function", "suite", "grade_id", "check", "description", "passed", "message",
    "unanswered",
]  # fmt: skip


# ----------------------------------------------------------------------------------------------
# Reading what grading left behind


def graded_record(notebook_path):
    """(grading record, unanswered functions) of an autograded notebook; ({}, set()) if none.

    Unanswered: answer cells the student left exactly as released (nbgrader's checksum of the
    cell still matches the release's), so their failed checks are not mistakes.
    """
    try:
        notebook = nbformat.read(notebook_path, as_version=4)
    except (OSError, ValueError):
        return {}, set()
    unanswered = {
        nbgrader_meta(cell).get("grade_id")
        for cell in notebook.cells
        if nbgrader_meta(cell).get("solution")
        and utils.compute_checksum(cell) == nbgrader_meta(cell).get("checksum")
    }
    return dict(notebook.metadata.get(METADATA_KEY) or {}), unanswered


def check_rows(student, record, unanswered):
    """One row per hidden check in a grading record's verdicts (see the verdict contract)."""
    rows = []
    for verdict in record.get("verdicts", []):
        common = {
            "student": student,
            "function": verdict.get("function"),
            "suite": verdict.get("suite"),
            "grade_id": verdict.get("grade_id"),
            "unanswered": verdict.get("function") in unanswered,
        }
        if verdict.get("status") != "judged":
            # No check ran: one row that says why, so that the export has every student.
            rows.append(
                {**common, "check": "", "description": "", "passed": False,
                 "message": f"{verdict.get('status')}: {verdict.get('reason', '')}"}
            )
            continue
        for check in verdict.get("checks", []):
            rows.append(
                {**common, "check": check["id"], "description": check["description"],
                 "passed": bool(check["passed"]), "message": check.get("message", "")}
            )
    return rows


def class_tables(course_root):
    """Everything the report shows, as pandas tables: (scores, checks, attention, phases)."""
    course = as_course(course_root)
    students = submitted_students(course)
    record = read_record(course)
    table = scores_by_part(course, students=set(students)) if students else {}
    rows, check_table, attention_rows, phase_rows = [], [], [], []
    for student in students:
        outcome = record.get(student, {})
        status = outcome.get("status", "not graded")
        parts = table.get(student, {})
        notebook = autograded_notebook(course, student)
        flags, notices = grading_flags(notebook)
        flags = sorted(set(flags) | set(outcome.get("flags", [])))
        notices = list(dict.fromkeys([*outcome.get("notices", []), *notices]))
        row = {"student": student, "status": status}
        manual = []
        for part in PARTS:
            score, max_score, needs_manual = parts.get(part, (0.0, 0.0, False))
            row[part] = score
            if needs_manual:
                manual.append(part)
        row["total"] = sum(score for score, _, _ in parts.values())
        row["max_total"] = sum(max_score for _, max_score, _ in parts.values())
        row["needs_manual_grading"] = " ".join(manual)
        row["flags"] = "; ".join(flags)
        row["seconds"] = outcome.get("seconds")
        row["sandbox"] = ""
        if status == GRADED:
            grading, unanswered = graded_record(notebook)
            row["sandbox"] = str(grading.get("sandbox", "not recorded"))
            check_table += check_rows(student, grading, unanswered)
            phase_rows += [
                {"student": student, "phase": phase, "seconds": seconds}
                for phase, seconds in (outcome.get("phases") or {}).items()
            ]
        rows.append(row)
        if status != GRADED or flags or notices:
            attention_rows.append(
                {
                    "student": student,
                    "status": status,
                    "error": outcome.get("error", ""),
                    "flags": "; ".join(flags),
                    "notices": "; ".join(notices),
                    "log": outcome.get("log_tail", ""),
                }
            )
    scores = pd.DataFrame(
        rows,
        columns=[
            "student",
            "status",
            *PARTS,
            "total",
            "max_total",
            "needs_manual_grading",
            "flags",
            "seconds",
            "sandbox",
        ],
    )
    # No grading record (plain `nbgrader autograde`): no times, and an empty column of numbers.
    scores["seconds"] = pd.to_numeric(scores["seconds"], errors="coerce")
    checks = pd.DataFrame(check_table, columns=CHECK_COLUMNS)
    attention = pd.DataFrame(
        attention_rows, columns=["student", "status", "error", "flags", "notices", "log"]
    )
    phases = pd.DataFrame(phase_rows, columns=["student", "phase", "seconds"])
    return scores, checks, attention, phases


def phase_summary(phases):
    """Where grading time went, step by step: median and slowest over the graded submissions.

    The steps are nbgrader's converters (Autograde, GenerateFeedback) and, inside Autograde's
    Execute, the kernel's start, the student's cells and each hidden suite."""
    if phases.empty:
        return pd.DataFrame(columns=["step", "median s", "slowest s", "slowest student"])
    rows = []
    for phase, group in phases.groupby("phase", sort=False):
        slowest = group.loc[group["seconds"].idxmax()]
        rows.append(
            {
                "step": phase,
                "median s": round(group["seconds"].median(), 2),
                "slowest s": round(slowest["seconds"], 2),
                "slowest student": slowest["student"],
            }
        )
    return pd.DataFrame(rows)


def unsandboxed(scores):
    """Students whose grading ran their code without the sandbox (--unsafe-no-sandbox)."""
    return scores.loc[scores["sandbox"].str.startswith("none"), "student"].tolist()


def part_maxima(course_root):
    """{part: max points}, read from the gradebook's assignment (the same for every student)."""
    maxima = defaultdict(float)
    for parts in scores_by_part(course_root).values():
        for part, (_, max_score, _) in parts.items():
            maxima[part] = max(maxima[part], max_score)
    return dict(maxima)


def failed_checks(checks):
    """The checks that failed on an answered function: the class's mistakes."""
    if checks.empty:
        return checks
    return checks[~checks["passed"] & (checks["check"] != "") & ~checks["unanswered"]]


def frequent_failures(checks, limit=TOP_FAILURES):
    """The failed checks that most students share: function, check, students, an example.

    Functions left unanswered (the answer cell as released) are left out: they are not
    mistakes. Checks are told apart by their id, the same for every student.
    """
    failures = failed_checks(checks)
    if failures.empty:
        return pd.DataFrame(columns=["suite", "check", "description", "students", "example"])
    grouped = failures.groupby(["suite", "check", "description"]).agg(
        students=("student", "nunique"), example=("message", "first")
    )
    return (
        grouped.reset_index()
        .sort_values(["students", "suite", "check"], ascending=[False, True, True])
        .head(limit)
    )


# ----------------------------------------------------------------------------------------------
# Figures


def _figures(scores, failures_top, maxima, folder):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook")
    made = {}
    graded = scores[scores["status"] == GRADED]

    figure, axes = plt.subplots(figsize=(7, 3.6))
    possible = graded["max_total"].max() if not graded.empty else 0
    sns.histplot(
        graded["total"],
        bins=min(20, max(5, len(graded))),
        binrange=(0, possible or 1),
        color="#4c72b0",
        ax=axes,
    )
    if not graded.empty:
        axes.axvline(
            graded["total"].median(),
            color="#c44e52",
            linestyle="--",
            label=f"median {graded['total'].median():g}",
        )
        axes.legend()
    axes.set(
        xlabel=f"total points (of {possible:g}; manual parts count 0 until graded)",
        ylabel="students",
        title="Score distribution",
    )
    axes.yaxis.get_major_locator().set_params(integer=True)
    made["scores"] = _save(figure, folder / "score_distribution.png")

    # The manual part scores 0 until a person grades it: it would only mislead here.
    functions = [part for part in PARTS if maxima.get(part) and part != MANUAL_PART]
    earned = pd.DataFrame(
        {
            "function": functions,
            "percent": [
                100 * graded[p].mean() / maxima[p] if not graded.empty else 0 for p in functions
            ],
        }
    )
    figure, axes = plt.subplots(figsize=(7, 3.8))
    sns.barplot(data=earned, y="function", x="percent", color="#55a868", ax=axes)
    for index, part in enumerate(functions):
        mean = graded[part].mean() if not graded.empty else 0
        axes.text(1, index, f"{mean:.2g} of {maxima[part]:g}", va="center", fontsize=9)
    axes.set(
        xlim=(0, 100),
        xlabel="class average, % of the function's points",
        ylabel="",
        title="Points earned per graded function",
    )
    made["functions"] = _save(figure, folder / "points_per_function.png")

    if not failures_top.empty:
        top = failures_top.head(10)
        labels = [
            "\n".join(textwrap.wrap(f"{suite}: {text}", 58, max_lines=2, placeholder=" …"))
            for suite, text in zip(top["suite"], top["description"], strict=True)
        ]
        figure, axes = plt.subplots(figsize=(9.5, 0.62 * len(top) + 1.2))
        sns.barplot(x=top["students"].to_numpy(), y=labels, color="#c44e52", ax=axes)
        axes.xaxis.get_major_locator().set_params(integer=True)
        axes.tick_params(axis="y", labelsize=9)
        axes.set(
            xlabel="students failing this check",
            ylabel="",
            title="Most frequent failed hidden checks",
        )
        made["failures"] = _save(figure, folder / "failed_checks.png")

    timed = scores.dropna(subset=["seconds"])
    if not timed.empty:
        figure, axes = plt.subplots(figsize=(7, 3.2))
        sns.histplot(data=timed, x="seconds", hue="status", multiple="stack", bins=20, ax=axes)
        axes.set(
            xlabel="seconds to grade one submission (one worker)",
            ylabel="submissions",
            title="Grading time per submission",
        )
        axes.yaxis.get_major_locator().set_params(integer=True)
        made["times"] = _save(figure, folder / "grading_time.png")
    return made


def _save(figure, path):
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(figure)
    return path.name


# ----------------------------------------------------------------------------------------------
# The report


def export_scores(scores, folder):
    path = folder / "scores_by_function.csv"
    scores.drop(columns=["seconds"]).to_csv(path, index=False)
    return path


def export_checks(checks, folder):
    """Every hidden check of every graded student, from the stored verdicts."""
    path = folder / "hidden_checks.csv"
    checks[CHECK_COLUMNS].to_csv(path, index=False)
    return path


def export_nbgrader_totals(course_root, folder):
    """nbgrader's own export (one total per student and assignment), through its CLI."""
    from coursepack.build import run_nbgrader

    path = folder / "grades.csv"
    run_nbgrader("export", "--to", str(path), course_root=course_root)
    return path


def write_report(course_root=COURSE_ROOT, nbgrader_export=True):
    """Write class_report/ for the course; return the path of its index.html.

    course_root: a Course, or the folder of its nbgrader_config.py (the report goes there).
    """
    course = as_course(course_root)
    folder = course.home / REPORT_FOLDER
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()  # a figure with no data this time must not linger from the last report
    scores, checks, attention, phases = class_tables(course)
    maxima = part_maxima(course) if not scores.empty else {}
    failures_top = frequent_failures(checks)
    figures = _figures(scores, failures_top, maxima, folder)
    attention = _write_logs(attention, folder / "logs")
    exports = [export_scores(scores, folder), export_checks(checks, folder)]
    if nbgrader_export:
        exports.append(export_nbgrader_totals(course, folder))
    index = folder / "index.html"
    index.write_text(
        _html(
            course, scores, checks, failures_top, attention, maxima, figures, exports,
            phase_summary(phases),
        )
    )
    return index


def _write_logs(attention, folder):
    """Save the nbgrader log of each submission that failed; link it from the table."""
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*.log"):
        old.unlink()
    links = []
    for student, log in zip(attention["student"], attention["log"], strict=True):
        if log:
            (folder / f"{student}.log").write_text(log)
            links.append(f'<a href="logs/{html.escape(student)}.log">nbgrader log</a>')
        else:
            links.append("")
    return attention.assign(log=links)


def _table(frame, **options):
    if frame.empty:
        return "<p><em>None.</em></p>"
    return frame.to_html(index=False, border=0, classes="data", na_rep="", **options)


def _escaped(frame, keep):
    """The frame with every text column but `keep` made safe for HTML."""
    return frame.assign(
        **{
            column: frame[column].map(lambda value: html.escape(str(value)))
            for column in frame.columns
            if column != keep
        }
    )


def _html(course, scores, checks, failures_top, attention, maxima, figures, exports, steps):
    graded = scores[scores["status"] == GRADED]
    possible = graded["max_total"].max() if not graded.empty else 0
    manual = (scores["needs_manual_grading"] != "").sum()
    flagged = (scores["flags"] != "").sum()
    times = scores["seconds"].dropna()
    facts = [
        f"{len(scores)} submissions: {len(graded)} graded, {len(scores) - len(graded)} not "
        f"(failed, timed out, crashed or not yet graded), {flagged} flagged.",
        f"{manual} wait for manual grading in formgrader." if manual else "",
    ]
    if not graded.empty:
        facts.append(
            f"Total points: median {graded['total'].median():g}, mean "
            f"{graded['total'].mean():.1f}, lowest {graded['total'].min():g}, highest "
            f"{graded['total'].max():g} of {possible:g} (automatic points only)."
        )
    if not checks.empty and checks["unanswered"].any():
        left = checks[checks["unanswered"]].groupby("function")["student"].nunique()
        facts.append(
            "Left unanswered (the answer cell as released), so not counted among failed checks: "
            + ", ".join(f"{function} by {count}" for function, count in left.items())
            + "."
        )
    if not times.empty:
        facts.append(
            f"Grading time per submission (one worker): median {times.median():.1f} s, "
            f"slowest {times.max():.1f} s ({scores.loc[times.idxmax(), 'student']})."
        )

    per_function = pd.DataFrame(
        [
            {
                "function": part,
                "points": maxima[part],
                "class average": round(graded[part].mean(), 2) if not graded.empty else None,
                "full marks": f"{(graded[part] >= maxima[part]).mean():.0%}"
                if not graded.empty
                else "",
                "zero": f"{(graded[part] == 0).mean():.0%}" if not graded.empty else "",
            }
            for part in PARTS
            if maxima.get(part) and part != MANUAL_PART
        ]
    )

    def figure(key, alt):
        name = figures.get(key)
        return f'<img src="{name}" alt="{html.escape(alt)}">' if name else ""

    slowest = (
        scores.dropna(subset=["seconds"])
        .nlargest(5, "seconds")[["student", "status", "seconds"]]
        .round({"seconds": 1})
    )
    links = " · ".join(f'<a href="{p.name}">{p.name}</a>' for p in exports)
    feedback = course.notebook("feedback", "<student>").with_suffix(".html")
    facts_html = "".join(f"<li>{html.escape(f)}</li>" for f in facts if f)
    exposed = unsandboxed(scores)
    warning = (
        '<p class="unsafe"><strong>Graded without the sandbox</strong> (--unsafe-no-sandbox): '
        f"{len(exposed)} submission(s) ran with the grader's own rights and could have read the "
        "solutions, changed the gradebook or touched other students' work. Do not trust these "
        "grades against a hostile submission; re-grade with the sandbox: "
        f"{html.escape(', '.join(exposed))}.</p>"
        if exposed
        else ""
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{ASSIGNMENT}: class report</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; color: #222; }}
h1 {{ font-size: 1.5rem; }} h2 {{ font-size: 1.15rem; margin-top: 2rem; }}
table.data {{ border-collapse: collapse; font-size: 0.9rem; }}
table.data th, table.data td {{ padding: 0.2rem 0.6rem; border-bottom: 1px solid #ddd;
  text-align: left; vertical-align: top; }}
img {{ max-width: 100%; }}
.unsafe {{ background: #fde2e1; border: 2px solid #b00020; padding: 0.6rem 0.8rem; }}
</style></head><body>
<h1>{ASSIGNMENT}: class report</h1>
{warning}
<p>Course folder: <code>{html.escape(str(course.home))}</code>. Exports: {links}.
Each student's feedback: <code>{html.escape(str(feedback))}</code>.</p>
<ul>{facts_html}</ul>

<h2>Score distribution</h2>
{figure("scores", "histogram of total points")}

<h2>Points earned per graded function</h2>
{figure("functions", "class average per graded function")}
{_table(per_function)}

<h2>Most frequent failed hidden checks</h2>
<p>Each hidden check has an id (the same hidden inputs for every student); the example is one
student's message as printed in their feedback. Every check of every student is in
hidden_checks.csv.</p>
{figure("failures", "students per failed check")}
{_table(failures_top)}

<h2>Submissions that need a look</h2>
<p>Failed, timed out or crashed in grading (no new grade recorded), or flagged by the grading
steps.</p>
{_table(_escaped(attention, "log"), escape=False)}

<h2>Grading time per submission</h2>
{figure("times", "histogram of grading seconds")}
{_table(slowest)}
<p>Where the time went, step by step (seconds; the execute steps are inside Autograde):</p>
{_table(steps)}
</body></html>
"""


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m coursepack.report", description="Write the class report from the gradebook."
    )
    parser.add_argument("--course", type=Path, default=COURSE_ROOT)
    arguments = parser.parse_args(argv)
    print(f"Class report: {write_report(arguments.course).as_uri()}")


if __name__ == "__main__":
    main()
