"""Figures for the lab itself (printed, not asserted): `python -m coursepack.benchmark_lab`.

- run-all time of the master notebook in a real kernel (target <= 5 s);
- the reference firstNN on the lab's data at the epochs the lab uses (target <= 0.3 s);
- autograde seconds per submission for the sample class, through `nbgrader autograde`;
- the same, serially for three copies of the sample class, with the course's configuration and
  with nbgrader's stock Execute step (no guard, no repairs, demo cells run): what the
  hardening costs.
"""

import random
import statistics
import tempfile
import time
from pathlib import Path

import nbformat
import numpy as np
from nbclient import NotebookClient

from coursepack.build import run_nbgrader
from coursepack.checks import FIRSTNN_EPOCHS
from coursepack.course import Course, copy_course, repo_course
from coursepack.dataset import make_rows
from coursepack.grade import SAMPLE_CLASS, grade_sample_class, write_sample_class
from coursepack.reference import load_reference
from coursepack.submissions import parse_answer_file, submission_notebook, submit

NOTEBOOK_EPOCHS = 20  # the master notebook's "try it" run


def seconds(action, repeat):
    """The median wall time of `repeat` runs."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run_master_notebook():
    source = repo_course().notebook("source")
    notebook = nbformat.read(source, as_version=4)
    client = NotebookClient(
        notebook, timeout=120, resources={"metadata": {"path": str(source.parent)}}
    )
    started = time.perf_counter()
    with client.setup_kernel():
        ready = time.perf_counter()
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
        finished = time.perf_counter()
    return ready - started, finished - ready


def serial_autograde(folder, stock, copies=3):
    """Seconds per submission for one `nbgrader autograde` of `copies` sample classes."""
    course = Course.at(copy_course(Path(folder) / ("stock" if stock else "course")))
    if stock:
        config = course.home / "nbgrader_config.py"
        text = config.read_text().replace(
            '"coursepack.guarded_execute.GuardedExecute"', '"nbgrader.preprocessors.Execute"'
        )
        config.write_text(text.replace("c.Autograde.pre_convert_hook = pre_convert_hook", ""))
    count = 0
    for copy in range(copies):
        for answer_file in sorted(SAMPLE_CLASS.glob("*.py")):
            base, answers = parse_answer_file(answer_file.read_text())
            submit(course, f"{answer_file.stem}_{copy}", submission_notebook(answers, base))
            count += 1
    started = time.perf_counter()
    run_nbgrader("autograde", "lab21", "--force", course_root=course)
    return count, (time.perf_counter() - started) / count


def main():
    print("Lab 21 benchmark (medians)")
    starts, runs = zip(*(run_master_notebook() for _ in range(3)), strict=True)
    print(
        f"  master notebook, run all cells: {statistics.median(runs):.2f} s"
        f" (+ {statistics.median(starts):.2f} s kernel start; target <= 5 s)"
    )
    reference, data = load_reference(), make_rows()
    for epochs in (FIRSTNN_EPOCHS, NOTEBOOK_EPOCHS):

        def train(epochs=epochs):
            np.random.seed(0)
            random.seed(0)
            reference.firstNN(data, epochs)

        took = seconds(train, 5)
        print(f"  reference firstNN, 200 rows x {epochs} epochs: {took:.3f} s (target <= 0.3 s)")
    with tempfile.TemporaryDirectory() as folder:
        course = copy_course(Path(folder) / "course")
        students = write_sample_class(course)
        started = time.perf_counter()
        grade_sample_class(course)
        elapsed = time.perf_counter() - started
    print(
        f"  nbgrader autograde + feedback, sample class of {len(students)}:"
        f" {elapsed:.1f} s, {elapsed / len(students):.2f} s per submission"
        " (one nbgrader process each for autograde and feedback, ~4 s of start-up each)"
    )
    with tempfile.TemporaryDirectory() as folder:
        for stock in (True, False):
            count, each = serial_autograde(folder, stock)
            label = "nbgrader's stock Execute" if stock else "the course's configuration"
            print(f"  serial autograde of {count} submissions, {label}: {each:.2f} s each")


if __name__ == "__main__":
    main()
