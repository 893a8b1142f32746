"""How fast a class is graded, every way side by side, in one run: a script, not a test.

    python -m coursepack.benchmark_class [--students 48] [--workers N] [--kind correct|mixed]
                                         [--gradebook sqlite|postgresql]

One class (N all-correct submissions, or N mixed ones cycling through the sample class's answer
files) is graded in scratch courses, each of these ways, and every way must record the same
grades as the first:

- serial: the command line, `nbgrader autograde` then `nbgrader generate_feedback`, one process
  (its sandbox's zygote stays warm from one submission to the next);
- parallel, cold: `coursepack.classgrade` with N workers, feedback included, each kernel a fresh
  Python in the sandbox (`SandboxKernelManager.warm = False`): the path before warm kernels;
- parallel, warm: the same with kernels forked from the warm zygote (the default), with and
  without feedback, and with one worker per core instead of the default one more;
- parallel, no sandbox: the same with `--unsafe-no-sandbox` and stock kernels: what the sandbox
  costs.

Against the kernel floor measured in the same run: start a stock kernel, `import numpy, pandas,
matplotlib, seaborn`, shut it down; divided by the cores, the least a grader that starts a fresh
kernel per submission pays. Wall seconds depend on what else the machine runs, so CPU seconds
per submission (the grading processes and the students' kernels) are printed too.
"""

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from itertools import cycle
from pathlib import Path

from coursepack import ASSIGNMENT
from coursepack.build import run_nbgrader
from coursepack.classgrade import default_workers, grade_class
from coursepack.course import Course, copy_course
from coursepack.grade import SAMPLE_CLASS
from coursepack.submissions import parse_answer_file, submission_notebook, submit

FLOOR_CODE = "import numpy, pandas, matplotlib, seaborn"


def kernel_floor(repeats=5):
    """Median (wall seconds, CPU seconds) for kernel start + the lab's imports + shutdown."""
    from jupyter_client.manager import start_new_kernel

    times, cpu = [], []
    for _ in range(repeats):
        started, cpu_before = time.perf_counter(), _own_cpu()
        # The kernel's start-up warnings would only clutter the benchmark's output.
        manager, client = start_new_kernel(kernel_name="python3", stderr=subprocess.DEVNULL)
        try:
            reply = client.execute_interactive(FLOOR_CODE, timeout=60, output_hook=lambda _: None)
            assert reply["content"]["status"] == "ok", reply["content"]
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=False)
        times.append(time.perf_counter() - started)
        cpu.append(_own_cpu() - cpu_before)
    return statistics.median(times), statistics.median(cpu)


def _own_cpu():
    """CPU seconds of this process and the children it has reaped (the command line's run)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def class_answers(kind, size):
    """{student: (base, answers)} for a class of `size` of the given kind."""
    if kind == "correct":
        return {f"correct_{i:03d}": ("reference", {}) for i in range(size)}
    sample = [(p.stem, parse_answer_file(p.read_text())) for p in sorted(SAMPLE_CLASS.glob("*.py"))]
    return {f"{name}_{i:03d}": answer for i, (name, answer) in zip(range(size), cycle(sample))}


def write_class(course, answers):
    course = Course.at(course)
    notebooks = {}  # the same answers make the same notebook: build each once
    for student, (base, cells) in answers.items():
        key = (base, tuple(sorted(cells.items())))
        if key not in notebooks:
            notebooks[key] = submission_notebook(cells, base)
        submit(course, student, notebooks[key])


def gradebook_scores(course):
    with Course.at(course).gradebook() as gradebook:
        return {
            (submission.student.id, grade.name): grade.auto_score
            for submission in gradebook.assignment_submissions(ASSIGNMENT)
            for notebook in submission.notebooks
            for grade in notebook.grades
        }


COLD = ["c.SandboxKernelManager.warm = False"]
WAYS = (
    # (name, how it runs: "serial" or classgrade's options, nbgrader config lines)
    ("serial, nbgrader CLI, feedback", "serial", []),
    ("parallel, cold kernels, feedback", {"feedback": True}, COLD),
    ("parallel, warm kernels, feedback", {"feedback": True}, []),
    ("  the same, one worker per core", {"feedback": True, "workers": os.cpu_count() or 1}, []),
    ("parallel, warm kernels, no feedback", {"feedback": False}, []),
    ("parallel, no sandbox, feedback", {"feedback": True, "unsafe_no_sandbox": True}, []),
)


def grade_one_way(name, how, config, answers, workers, scratch, db_url=None):
    """Grade the class one way in a fresh scratch course: (wall s, CPU s) per submission and
    the gradebook's scores."""
    lines = list(config) + ([f"c.CourseDirectory.db_url = {db_url!r}"] if db_url else [])
    course = copy_course(scratch / name.replace(" ", "_").replace(",", ""), config_lines=lines)
    write_class(course, answers)
    size = len(answers)
    print(f"{name}: {size} submissions...", flush=True)
    if how == "serial":
        started, cpu_before = time.perf_counter(), _own_cpu()
        run_nbgrader("autograde", ASSIGNMENT, "--force", course_root=course)
        run_nbgrader("generate_feedback", ASSIGNMENT, "--force", course_root=course)
        seconds, cpu = time.perf_counter() - started, _own_cpu() - cpu_before
    else:
        options = dict(how)
        count = options.pop("workers", workers)
        summary = grade_class(course, workers=count, force=True, progress=False, **options)
        if summary.failed:
            print(f"  {summary.failed} failed", flush=True)
        seconds = summary.seconds
        cpu = sum(outcome.cpu_seconds for outcome in summary.outcomes)
    return seconds / size, cpu / size, gradebook_scores(course)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m coursepack.benchmark_class")
    parser.add_argument("--students", type=int, default=48, help="submissions in the class")
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--kind", choices=["correct", "mixed"], default="correct")
    parser.add_argument("--keep", type=Path, help="keep the scratch courses in this folder")
    parser.add_argument(
        "--gradebook",
        choices=["sqlite", "postgresql"],
        default="sqlite",
        help="every way's gradebook: SQLite (default) or a private PostgreSQL server",
    )
    arguments = parser.parse_args(argv)
    cores = os.cpu_count() or 1
    scratch = arguments.keep or Path(tempfile.mkdtemp(prefix="lab21-benchmark-"))
    answers = class_answers(arguments.kind, arguments.students)
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    try:
        floor, floor_cpu = kernel_floor()
        print(
            f"Kernel floor (stock kernel start + `{FLOOR_CODE}` + shutdown): {floor:.2f} s,"
            f" {floor_cpu:.2f} CPU s; floor/cores = {floor / cores:.2f} s on {cores} cores",
            flush=True,
        )
        results = []
        with contextlib.ExitStack() as stack:
            postgres = None
            if arguments.gradebook == "postgresql":
                from coursepack.postgres import PostgresServer

                postgres = stack.enter_context(PostgresServer())
            for number, (name, how, config) in enumerate(WAYS):
                db_url = postgres.create_database(f"lab21_bench_{number}") if postgres else None
                results.append(
                    (name, *grade_one_way(name, how, config, answers, arguments.workers,
                                          scratch, db_url))
                )  # fmt: skip
        reference_scores = results[0][3]
        print()
        print(
            f"{'way':38} {'s/submission':>12} {'CPU s/sub':>10} {'vs floor/cores':>15}"
            f"  same grades as serial"
        )
        for name, seconds, cpu, scores in results:
            print(
                f"{name:38} {seconds:12.2f} {cpu:10.2f} {seconds / (floor / cores):14.2f}x"
                f"  {'yes' if scores == reference_scores else 'NO'}"
            )
        by_name = {name: (seconds, cpu) for name, seconds, cpu, _ in results}
        sandboxed = by_name["parallel, warm kernels, feedback"]
        bare = by_name["parallel, no sandbox, feedback"]
        print()
        print(
            f"The sandbox's cost (warm, feedback, against no sandbox): "
            f"{(sandboxed[0] / bare[0] - 1) * 100:+.0f}% wall, "
            f"{(sandboxed[1] / bare[1] - 1) * 100:+.0f}% CPU per submission."
        )
        print(
            f"{arguments.students} {arguments.kind} submissions, {arguments.workers} workers,"
            f" gradebook on {arguments.gradebook}, {cores} cores; load average"
            f" {load_before:.1f} before, {os.getloadavg()[0]:.1f} after;"
            f" {time.perf_counter() - started:.0f} s in all."
        )
    finally:
        if arguments.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    # Run through the imported module, so that grading workers find their code by its name.
    from coursepack.benchmark_class import main as run

    run()
