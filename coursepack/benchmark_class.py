"""How close class grading comes to the speed limit: a script, not a test.

    python -m coursepack.benchmark_class --students 100 [--workers N] [--classes correct,mixed]
                                         [--gradebook sqlite|postgresql]

For each class (N all-correct submissions; N mixed ones cycling through the sample class's
answer files), in scratch courses, it times plain serial `nbgrader autograde` and the parallel
command (`coursepack.classgrade`, feedback off for a like-for-like comparison), checks that both
record the same grades, and prints seconds per submission against two floors measured in the
same run:

- the kernel floor: start a kernel, `import numpy, pandas, matplotlib, seaborn`, shut it down;
  the least any grader that runs each notebook in a fresh kernel pays per submission;
- the notebook floor: run one graded notebook top to bottom with nbclient, no nbgrader; what
  the lab's own cells (figures, training, hidden tests) cost on top of the kernel floor.

Wall times depend on whatever else the machine runs, so it also prints CPU seconds per
submission (grader and kernel), which do not. The parallel figure leaves out each worker's
one-off start (about 3 s of imports).
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
from coursepack.classgrade import cpu_seconds_so_far, grade_class
from coursepack.course import Course, copy_course
from coursepack.grade import SAMPLE_CLASS
from coursepack.submissions import parse_answer_file, submission_notebook, submit

FLOOR_CODE = "import numpy, pandas, matplotlib, seaborn"


def kernel_floor(repeats=5):
    """Median (wall seconds, CPU seconds) for kernel start + the lab's imports + shutdown."""
    from jupyter_client.manager import start_new_kernel

    times, cpu = [], []
    for _ in range(repeats):
        started, cpu_before = time.perf_counter(), cpu_seconds_so_far()
        # The kernel's start-up warnings would only clutter the benchmark's output.
        manager, client = start_new_kernel(kernel_name="python3", stderr=subprocess.DEVNULL)
        try:
            reply = client.execute_interactive(FLOOR_CODE, timeout=60, output_hook=lambda _: None)
            assert reply["content"]["status"] == "ok", reply["content"]
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=False)
        times.append(time.perf_counter() - started)
        cpu.append(cpu_seconds_so_far() - cpu_before)
    return statistics.median(times), statistics.median(cpu)


def notebook_floor(notebook_path, repeats=3):
    """Median seconds to execute one graded notebook with nbclient alone."""
    import nbformat
    from nbclient import NotebookClient

    times = []
    for _ in range(repeats):
        notebook = nbformat.read(notebook_path, as_version=4)
        started = time.perf_counter()
        NotebookClient(
            notebook,
            timeout=120,
            kernel_name="python3",
            resources={"metadata": {"path": str(Path(notebook_path).parent)}},
        ).execute(stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


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


def benchmark_class(kind, size, workers, scratch, postgres=None):
    """Serial nbgrader (SQLite) against the parallel command (its gradebook on the PostgreSQL
    server `postgres` if given, else SQLite) on one class."""
    base = copy_course(scratch / kind / "base")  # with a gradebook that knows the assignment
    serial = Path(shutil.copytree(base, scratch / kind / "serial"))
    if postgres is None:
        parallel = Path(shutil.copytree(base, scratch / kind / "parallel"))
    else:
        db_url = postgres.create_database(f"lab21_benchmark_{kind}")
        parallel = copy_course(scratch / kind / "parallel",
                               config_lines=[f"c.CourseDirectory.db_url = {db_url!r}"])
    answers = class_answers(kind, size)
    write_class(serial, answers)
    write_class(parallel, answers)

    print(f"[{kind}] serial: nbgrader autograde {ASSIGNMENT} on {size} submissions...", flush=True)
    started, cpu_before = time.perf_counter(), cpu_seconds_so_far()
    run_nbgrader("autograde", ASSIGNMENT, "--force", course_root=serial)
    serial_seconds = time.perf_counter() - started
    serial_cpu = cpu_seconds_so_far() - cpu_before  # nbgrader's and its kernels'

    print(f"[{kind}] parallel: coursepack.classgrade with {workers} workers...", flush=True)
    summary = grade_class(parallel, workers=workers, force=True, feedback=False)
    same = gradebook_scores(serial) == gradebook_scores(parallel)
    parallel_course = Course.at(parallel)
    graded_notebook = parallel_course.notebook("autograded", parallel_course.students()[0])
    return {
        "kind": kind,
        "serial": serial_seconds / size,
        "parallel": summary.seconds / size,
        "serial_cpu": serial_cpu / size,
        "parallel_cpu": sum(outcome.cpu_seconds for outcome in summary.outcomes) / size,
        "failed": summary.failed,
        "same": same,
        "notebook": graded_notebook,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m coursepack.benchmark_class")
    parser.add_argument("--students", type=int, default=100, help="submissions per class")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--classes",
        default="correct,mixed",
        help="which classes to grade: correct, mixed or both (default)",
    )
    parser.add_argument("--keep", type=Path, help="keep the scratch courses in this folder")
    parser.add_argument(
        "--gradebook",
        choices=["sqlite", "postgresql"],
        default="sqlite",
        help="the parallel command's gradebook: SQLite (default) or a private PostgreSQL server",
    )
    arguments = parser.parse_args(argv)
    cores = os.cpu_count() or 1
    scratch = arguments.keep or Path(tempfile.mkdtemp(prefix="lab21-benchmark-"))
    started = time.perf_counter()
    try:
        load_before = os.getloadavg()[0]
        floor, floor_cpu = kernel_floor()
        print(
            f"Kernel floor (start + `{FLOOR_CODE}` + shutdown): {floor:.2f} s "
            f"({floor_cpu:.2f} CPU s); floor/cores = {floor / cores:.2f} s on {cores} cores",
            flush=True,
        )
        with contextlib.ExitStack() as stack:
            postgres = None
            if arguments.gradebook == "postgresql":
                from coursepack.postgres import PostgresServer

                postgres = stack.enter_context(PostgresServer())
            results = [
                benchmark_class(kind, arguments.students, arguments.workers, scratch, postgres)
                for kind in arguments.classes.split(",")
            ]
        lab_floor = notebook_floor(results[0]["notebook"])
        print(f"Notebook floor (one graded notebook run by nbclient alone): {lab_floor:.2f} s")
        print()
        print(
            f"{'class':8} {'serial s/sub':>12} {'parallel s/sub':>14} {'speed-up':>8} "
            f"{'vs floor/cores':>14} {'vs nb floor/cores':>17}  same grades"
        )
        for result in results:
            print(
                f"{result['kind']:8} {result['serial']:12.2f} {result['parallel']:14.2f} "
                f"{result['serial'] / result['parallel']:7.2f}x "
                f"{result['parallel'] / (floor / cores):13.2f}x "
                f"{result['parallel'] / (lab_floor / cores):16.2f}x  "
                f"{'yes' if result['same'] else 'NO'}"
                + (f" ({result['failed']} failed)" if result["failed"] else "")
            )
        print()
        print(
            "CPU seconds per submission (grader and kernel; other programs' load does not "
            "count): the speed on idle cores, if the work spreads evenly"
        )
        print(
            f"{'class':8} {'serial':>8} {'parallel':>8} {'floor':>6} "
            f"{'parallel/cores vs floor/cores':>30}"
        )
        for result in results:
            print(
                f"{result['kind']:8} {result['serial_cpu']:8.2f} {result['parallel_cpu']:8.2f} "
                f"{floor_cpu:6.2f} {result['parallel_cpu'] / floor_cpu:29.2f}x"
            )
        print()
        print(
            f"{arguments.students} submissions per class, {arguments.workers} workers, "
            f"parallel gradebook on {arguments.gradebook}, "
            f"{cores} cores; load average {load_before:.1f} before, "
            f"{os.getloadavg()[0]:.1f} after; {time.perf_counter() - started:.0f} s in all."
        )
    finally:
        if arguments.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    # Run through the imported module, so that grading workers find their code by its name.
    from coursepack.benchmark_class import main as run

    run()
