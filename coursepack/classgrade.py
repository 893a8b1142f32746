"""Autograde a whole class in parallel with nbgrader's own converters, with progress.

    python -m coursepack.classgrade [--workers N] [--force] [--course DIR] [--timeout SECONDS]

Each worker is a long-lived process that loads the course's nbgrader configuration once, the
way `nbgrader autograde` does, then runs nbgrader's `Autograde` and `GenerateFeedback`
converters for one student at a time. Verdicts, gradebook rows and feedback are therefore
nbgrader's own; only the scheduling is ours.

Re-running grades only the submissions whose files changed since they were last graded, and
every submission when anything else that can change a verdict changed (`grader_inputs`: the
grading package, the reference answers, the source and release folders, the nbgrader
configuration, the pinned packages); `--force` grades everyone. A record of every run (content
hashes, outcome, seconds) is kept in the autograded folder (grading_record.json); the class
report reads it. Folders and the gradebook come from the course's CourseDirectory.
"""

import argparse
import hashlib
import json
import logging
import multiprocessing
import multiprocessing.connection
import os
import re
import signal
import sys
import threading
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

from coursepack import ASSIGNMENT, COURSE_ROOT
from coursepack.build import venv_environment
from coursepack.course import CONFIG_FILE, Course, as_course

RECORD_NAME = "grading_record.json"
NOT_HASHED = ("__pycache__", ".ipynb_checkpoints", ".pytest_cache")
# nbgrader's SQLite gradebook is written by every worker; a writer waits this long for the
# lock instead of failing at once (the default of 5 s is too short on a busy machine).
SQLITE_BUSY_SECONDS = 120
DEFAULT_TIMEOUT = 900.0
LOG_TAIL_CHARS = 4000

GRADED, FAILED, TIMED_OUT, CRASHED = "graded", "failed", "timed out", "crashed"


def default_workers():
    """One grading process more than the cores: each waits in turn on its kernel, the database
    and ZeroMQ, and the extra one fills those waits (coursepack.benchmark_class, 48 correct
    submissions with feedback on 2 cores, seven runs: with 3 workers 0.96-1.23 s each, with 2
    1.08-1.34 s)."""
    return (os.cpu_count() or 1) + 1


@dataclass
class Outcome:
    """What happened to one submission in one run."""

    student: str
    status: str
    seconds: float
    submission_sha256: str = ""
    grader_sha256: str = ""
    error: str = ""
    notices: list = field(default_factory=list)
    flags: list = field(default_factory=list)
    log_tail: str = ""
    graded_at: float = 0.0
    cpu_seconds: float = 0.0  # this worker's and its kernel's, whatever else the machine runs
    phases: dict = field(default_factory=dict)  # seconds by step (see grading_timings)


# ----------------------------------------------------------------------------------------------
# Which submissions need grading


def submitted_students(course):
    """Student ids with a submitted folder for the assignment, sorted."""
    return as_course(course).students("submitted")


def folder_sha256(folder, digest=None):
    """Hash of every file under `folder`: relative paths and contents, in a stable order.

    Caches (__pycache__, checkpoints) are left out: they change without the code changing.
    """
    digest = digest or hashlib.sha256()
    folder = Path(folder)
    files = (
        path
        for path in folder.rglob("*")
        if path.is_file()
        and not any(part in NOT_HASHED for part in path.relative_to(folder).parts)
        and path.suffix != ".pyc"
    )
    for path in sorted(files):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest


def grader_inputs(course, pack_root=COURSE_ROOT):
    """(label, path) of every file or folder besides a submission that can change a verdict:
    the grading package (checks, probes, guards, repairs, plugins), the reference answers, the
    course's source and release folders (the notebook and its files) and the pinned package
    versions. With the nbgrader configuration (`grading_configuration`), they make the grader's
    hash: a change to any re-grades every submission.

    pack_root: where the course pack's own files are (the running package's repository).
    """
    course = as_course(course)
    return [
        ("grading package", pack_root / "coursepack"),
        ("reference answers", pack_root / "solutions"),
        ("source folder", course.folder("source")),
        ("release folder", course.folder("release")),
        ("pinned packages", pack_root / "requirements.txt"),
    ]


# Where things are kept, not how they are graded: moving the gradebook to PostgreSQL or the
# folders elsewhere re-grades nothing.
LOCATION_SETTINGS = ("root", "db_url", "directory_structure")


def grading_configuration(course):
    """The course's nbgrader configuration as loaded (nbgrader_config.py and the Jupyter
    config folders), in a stable text form, less the settings that only say where things are.
    Callables (the pre-convert hook) are named by their import path."""
    config = as_course(course).coursedir.config
    settings = {
        section: {
            key: value
            for key, value in values.items()
            if not (section == "CourseDirectory"
                    and (key in LOCATION_SETTINGS or key.endswith("_directory")))
        }
        for section, values in config.items()
    }

    def named(value):
        if callable(value):
            return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', value)}"
        return repr(value)

    return json.dumps(settings, sort_keys=True, default=named)


def grader_sha256(course, pack_root=COURSE_ROOT):
    """Hash of what decides verdicts besides the submission: grader_inputs and the grading
    configuration."""
    course = as_course(course)
    digest = hashlib.sha256(grading_configuration(course).encode() + b"\0")
    for label, path in grader_inputs(course, pack_root):
        digest.update(label.encode() + b"\0")
        if path.is_dir():
            folder_sha256(path, digest)
        elif path.exists():
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def submission_sha256(course, student):
    return folder_sha256(as_course(course).folder("submitted", student)).hexdigest()


def record_path(course):
    return as_course(course).step_root("autograded") / RECORD_NAME


def read_record(course):
    """{student: outcome dict} of the last run that graded each student; {} when none."""
    path = record_path(course)
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())["students"]
    except (ValueError, KeyError):
        return {}  # an unreadable record only costs a full re-grade


def write_record(course, students):
    path = record_path(course)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"assignment": ASSIGNMENT, "students": students}, indent=1))
    temporary.replace(path)  # atomic: an interrupted run never leaves half a record


def autograded_notebook(course, student):
    return as_course(course).notebook("autograded", student)


def needs_grading(course, student, previous, grader_hash):
    """True unless this exact submission was graded successfully by this exact grader."""
    if not previous or previous.get("status") != GRADED:
        return True
    if previous.get("grader_sha256") != grader_hash:
        return True
    if previous.get("submission_sha256") != submission_sha256(course, student):
        return True
    return not autograded_notebook(course, student).exists()


def grading_flags(notebook_path):
    """(flags, notices) that the course's grading steps left in the notebook's metadata."""
    try:
        metadata = json.loads(Path(notebook_path).read_text()).get("metadata", {})
    except (OSError, ValueError):
        return [], []
    record = metadata.get("lab21_grading") or {}
    return list(record.get("flags", [])), list(record.get("notices", []))


# ----------------------------------------------------------------------------------------------
# The worker: one process, nbgrader loaded once, one student at a time


def last_error_line(log_text):
    """The final line of the last traceback in an nbgrader log: the reason a student failed."""
    lines = [line.strip() for line in log_text.splitlines()]
    for line in reversed(lines):
        if re.match(r"^[\w.]+(Error|Exception|Interrupt)\b", line) or line.startswith(
            "nbgrader.converters.base.NbGraderException"
        ):
            return line[:300]
    errors = [line for line in lines if "| ERROR]" in line]
    return errors[-1][:300] if errors else "nbgrader reported an error"


def load_nbgrader_app(course_home, unsafe_no_sandbox=False):
    """nbgrader's autograde application, configured exactly as the CLI in this folder would be
    (plus, only when asked for by name, grading without the sandbox)."""
    from nbgrader.apps import AutogradeApp

    os.chdir(course_home)
    app = AutogradeApp()
    app.initialize([ASSIGNMENT])
    if unsafe_no_sandbox:
        app.config.GuardedExecute.unsafe_no_sandbox = True
    db_url = app.coursedir.db_url
    if db_url.startswith("sqlite:///") and "?" not in db_url:
        app.coursedir.db_url = f"{db_url}?timeout={SQLITE_BUSY_SECONDS}"
    return app


def grade_one(app, student, feedback=True):
    """Autograde one student and make their feedback with nbgrader's converters."""
    from nbgrader.converters import Autograde, GenerateFeedback, NbGraderException

    log_buffer = _LogBuffer()
    app.log.handlers[:] = [log_buffer]
    started, cpu_before = time.perf_counter(), cpu_seconds_so_far()
    status, error, notices, phases = GRADED, "", [], {}
    try:
        # Repairs and the reset of stale scores run inside Autograde, as nbgrader's
        # pre_convert_hook (coursepack/preflight.py); their notices come back in the notebook.
        app.coursedir.assignment_id = ASSIGNMENT
        app.coursedir.student_id = student
        for converter_class in (Autograde, GenerateFeedback) if feedback else (Autograde,):
            converter = converter_class(coursedir=app.coursedir, parent=app)
            converter.force = True  # the caller decided this student needs (re)grading
            began = time.perf_counter()
            converter.start()
            phases[converter_class.__name__] = round(time.perf_counter() - began, 4)
    except NbGraderException:
        status, error = FAILED, last_error_line(log_buffer.text())
    except Exception as exception:  # a crash in our own step must not stop the class
        status, error = FAILED, f"{type(exception).__name__}: {exception}"
        log_buffer.write(traceback.format_exc())
    graded_notebook = Course(app.coursedir).notebook("autograded", student)
    if status == GRADED and not graded_notebook.exists():
        status, error = FAILED, "nbgrader wrote no autograded notebook"
    flags, recorded_notices = grading_flags(graded_notebook)
    phases.update(grading_timings(graded_notebook, phases))
    return Outcome(
        phases=phases,
        student=student,
        status=status,
        seconds=time.perf_counter() - started,
        error=error,
        notices=notices + recorded_notices,
        flags=flags,
        log_tail=log_buffer.text()[-LOG_TAIL_CHARS:] if status != GRADED else "",
        cpu_seconds=cpu_seconds_so_far() - cpu_before,
    )


def cpu_seconds_so_far():
    """CPU time of this process, its finished children and the sandboxes it used (students'
    kernels run there): unlike wall time, it does not grow when other programs load the machine."""
    from coursepack.sandbox import slot_pool

    times = os.times()
    own = times.user + times.system + times.children_user + times.children_system
    return own + slot_pool().cpu_seconds()


def grading_timings(notebook_path, phases):
    """Where one submission's grading time went: the Execute step's phases (kernel start,
    cells, each hidden suite...), and nbgrader's own steps (Autograde without Execute)."""
    try:
        metadata = json.loads(Path(notebook_path).read_text()).get("metadata", {})
    except (OSError, ValueError):
        return {}
    timings = dict((metadata.get("lab21_grading") or {}).get("timings") or {})
    execute = timings.pop("total", None)
    if execute is not None and "Autograde" in phases:
        timings["nbgrader steps"] = round(max(0.0, phases["Autograde"] - execute), 4)
    return {
        f"execute: {name}" if name != "nbgrader steps" else name: seconds
        for name, seconds in timings.items()
    }


class _LogBuffer(logging.Handler):
    """Keeps one student's nbgrader log in memory (only failures' logs are kept)."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))

    def write(self, text):
        self.lines.append(text)

    def text(self):
        return "\n".join(self.lines)


def worker_main(course_home, connection, log_file, feedback=True, unsafe_no_sandbox=False):
    """Serve students from `connection` until told to stop (None)."""
    # Ctrl-C is the parent's to handle: it stops the workers and their kernels itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Kernels inherit these descriptors; their chatter must not break the progress bar.
    descriptor = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(descriptor, 1)
    os.dup2(descriptor, 2)
    os.environ.update(venv_environment())
    try:
        app = load_nbgrader_app(course_home, unsafe_no_sandbox)
        connection.send(("ready", None))
    except Exception:
        connection.send(("broken", traceback.format_exc()))
        return
    while True:
        student = connection.recv()
        if student is None:
            return
        connection.send(("done", asdict(grade_one(app, student, feedback))))


# ----------------------------------------------------------------------------------------------
# The pool: the parent hands out students, bounds each one's time, and cleans up


def kill_process_tree(pid):
    """Kill a worker and everything it started (kernels run in sessions of their own)."""
    import psutil

    try:
        parent = psutil.Process(pid)
        processes = [*parent.children(recursive=True), parent]
    except psutil.NoSuchProcess:  # gone already (between the two calls, too)
        return
    for process in processes:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(processes, timeout=5)


class _Worker:
    def __init__(self, context, course_home, log_file, feedback, unsafe_no_sandbox):
        self.connection, child_end = multiprocessing.Pipe()
        self.process = context.Process(
            target=worker_main,
            args=(str(course_home), child_end, str(log_file), feedback, unsafe_no_sandbox),
            daemon=True,
        )
        self.process.start()
        child_end.close()
        self.student = None
        self.started = 0.0
        self.ready = False

    def assign(self, student):
        self.student, self.started = student, time.perf_counter()
        self.connection.send(student)

    def stop(self, wait=10.0):
        try:
            self.connection.send(None)
        except OSError:
            pass
        self.process.join(wait)
        if self.process.is_alive():
            kill_process_tree(self.process.pid)
        self.connection.close()

    def kill(self):
        kill_process_tree(self.process.pid)
        self.process.join(5)
        self.connection.close()


def grade_students(
    course_root,
    students,
    workers,
    timeout=DEFAULT_TIMEOUT,
    on_outcome=None,
    feedback=True,
    unsafe_no_sandbox=False,
):
    """Grade `students` on `workers` processes, calling on_outcome(Outcome) as each finishes.

    Returns the outcomes in the order they finished. A student whose grading outlives `timeout`
    seconds, or whose worker dies, is recorded as such; its worker is replaced.
    """
    course = as_course(course_root)
    logs = course.step_root("autograded") / "grading_logs"
    logs.mkdir(parents=True, exist_ok=True)
    context = multiprocessing.get_context("forkserver")
    # Workers fork from a server that has imported nbgrader once: no 3 s import per worker.
    context.set_forkserver_preload(["nbgrader.apps", "nbgrader.converters", "psutil"])
    waiting = list(students)
    outcomes = []
    pool = []
    spawned = 0

    def spawn():
        nonlocal spawned
        spawned += 1
        log_file = logs / f"worker-{spawned}.log"
        pool.append(_Worker(context, course.home, log_file, feedback, unsafe_no_sandbox))

    def finish(worker, outcome):
        outcomes.append(outcome)
        worker.student = None
        if on_outcome:
            on_outcome(outcome)

    previous_handler = _stop_on_sigterm()
    try:
        for _ in range(max(1, min(workers, len(waiting)))):
            spawn()
        while waiting or any(worker.student for worker in pool):
            for worker in pool:
                if worker.ready and worker.student is None and waiting:
                    worker.assign(waiting.pop(0))
            ready = multiprocessing.connection.wait([w.connection for w in pool], timeout=1.0)
            for worker in list(pool):
                if worker.connection in ready:
                    try:
                        kind, payload = worker.connection.recv()
                    except (EOFError, OSError):
                        kind, payload = "died", None
                    if kind == "ready":
                        worker.ready = True
                    elif kind == "done":
                        finish(worker, Outcome(**payload))
                    elif kind == "broken":
                        raise RuntimeError(f"an nbgrader worker could not start:\n{payload}")
                    else:
                        student, seconds = worker.student, time.perf_counter() - worker.started
                        pool.remove(worker)
                        worker.kill()
                        if student is None:
                            raise RuntimeError("an nbgrader worker died before grading anyone")
                        finish(
                            worker,
                            Outcome(student, CRASHED, seconds, error="the grading process died"),
                        )
                        spawn()
                elif worker.student and time.perf_counter() - worker.started > timeout:
                    pool.remove(worker)
                    worker.kill()
                    finish(
                        worker,
                        Outcome(
                            worker.student,
                            TIMED_OUT,
                            timeout,
                            error=f"grading took longer than {timeout:g} s",
                        ),
                    )
                    spawn()
        for worker in pool:
            worker.stop()
        pool.clear()
    finally:
        for worker in pool:  # interrupted or failed: leave no worker or kernel behind
            worker.kill()
        if previous_handler is not None:
            signal.signal(signal.SIGTERM, previous_handler)
    return outcomes


def _stop_on_sigterm():
    """Treat SIGTERM like Ctrl-C while workers run, so that cleanup runs; return the old
    handler (None when signals cannot be handled here, outside the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    return signal.signal(signal.SIGTERM, interrupt)


# ----------------------------------------------------------------------------------------------
# The command


@dataclass
class RunSummary:
    graded: int
    failed: int
    flagged: int
    unchanged: int
    seconds: float
    workers: int
    outcomes: list

    def line(self):
        done = self.graded + self.failed
        if not done:
            return (
                f"Nothing to grade: all {self.unchanged} submissions are unchanged since "
                f"they were graded (--force re-grades them); {self.seconds:.1f} s."
            )
        workers = f"{self.workers} worker{'s' if self.workers > 1 else ''}"
        return (
            f"Graded {self.graded}, failed {self.failed}, flagged {self.flagged}, "
            f"unchanged {self.unchanged} (not re-graded); wall time {self.seconds:.1f} s, "
            f"{self.seconds / done:.2f} s per submission on {workers}."
        )


def grade_class(
    course_root=COURSE_ROOT,
    workers=None,
    force=False,
    timeout=DEFAULT_TIMEOUT,
    progress=True,
    feedback=True,
    unsafe_no_sandbox=False,
):
    """Grade every new or changed submission of the course; return a RunSummary.

    course_root: a Course, or the folder of its nbgrader_config.py. Student code runs in the
    sandbox (coursepack.sandbox); SandboxUnavailable says what is missing when it cannot,
    unless unsafe_no_sandbox is set.
    """
    if not unsafe_no_sandbox:
        from coursepack.sandbox import require_sandbox

        require_sandbox()
    course = as_course(course_root)
    workers = workers or default_workers()
    started = time.perf_counter()
    grader_hash = grader_sha256(course)
    record = read_record(course)
    everyone = submitted_students(course)
    hashes = {student: submission_sha256(course, student) for student in everyone}
    todo = [s for s in everyone if force or needs_grading(course, s, record.get(s), grader_hash)]
    # Forget the last verdicts of those about to be graded: if this run is interrupted halfway
    # through one (its autograded notebook half written), the next run grades it again.
    for student in todo:
        record.pop(student, None)
    write_record(course, record)
    bar = _progress_bar(len(todo), progress)
    counts = {"failed": 0, "flagged": 0}

    def on_outcome(outcome):
        outcome.submission_sha256 = hashes[outcome.student]
        outcome.grader_sha256 = grader_hash
        outcome.graded_at = time.time()
        record[outcome.student] = asdict(outcome)
        write_record(course, record)  # after every student: Ctrl-C keeps what is done
        counts["failed"] += outcome.status != GRADED
        counts["flagged"] += bool(outcome.flags)
        if bar is not None:
            bar.set_postfix(failed=counts["failed"], flagged=counts["flagged"], refresh=False)
            bar.update(1)

    try:
        outcomes = (
            grade_students(course, todo, workers, timeout, on_outcome, feedback, unsafe_no_sandbox)
            if todo
            else []
        )
    finally:
        if bar is not None:
            bar.close()
    return RunSummary(
        graded=sum(o.status == GRADED for o in outcomes),
        failed=counts["failed"],
        flagged=counts["flagged"],
        unchanged=len(everyone) - len(todo),
        seconds=time.perf_counter() - started,
        workers=min(workers, max(1, len(todo))),
        outcomes=outcomes,
    )


def _progress_bar(total, enabled):
    if not enabled or total == 0:
        return None
    from tqdm import tqdm

    tqdm.monitor_interval = 0  # no monitor thread in a process that forks
    return tqdm(
        total=total,
        desc="Autograding",
        unit="submission",
        smoothing=0.1,
        bar_format="{desc}: {n}/{total} |{bar}| {rate_fmt}, ETA {remaining}{postfix}",
    )


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m coursepack.classgrade",
        description="Autograde every submission in submitted/ in parallel with nbgrader, "
        "then write the class report.",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=default_workers(),
        help="grading processes (default: one more than the cores, %(default)s here)",
    )
    parser.add_argument(
        "--force", action="store_true", help="re-grade every submission, changed or not"
    )
    parser.add_argument(
        "--course",
        type=Path,
        default=COURSE_ROOT,
        help="course folder with nbgrader_config.py (default: this repo)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help="seconds one submission may take in all (default %(default)g)",
    )
    parser.add_argument(
        "--no-feedback",
        action="store_true",
        help="skip nbgrader's feedback (made by default, as generate_feedback)",
    )
    parser.add_argument("--no-report", action="store_true", help="skip the class report")
    parser.add_argument(
        "--unsafe-no-sandbox",
        action="store_true",
        help="UNSAFE: run student code without the sandbox, with this user's rights, trusting"
        " every submission (for machines where the sandbox cannot run)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    arguments = parser.parse_args(argv)
    if arguments.workers < 1:
        parser.error("--workers must be at least 1")
    return arguments


def print_summary(summary):
    """The run's one-line summary, then one line per submission that was not graded."""
    print(summary.line())
    for outcome in summary.outcomes:
        if outcome.status != GRADED:
            print(f"  {outcome.student}: {outcome.status}: {outcome.error}")
        else:
            for notice in outcome.notices:
                print(f"  {outcome.student}: {notice}")
            if outcome.flags:
                print(f"  {outcome.student}: flagged: {'; '.join(outcome.flags)}")


UNSAFE_WARNING = (
    "WARNING: --unsafe-no-sandbox: student code ran WITHOUT the sandbox, with this user's"
    " rights. Any submission could have read the solutions, changed the gradebook or other"
    " students' work. Do not trust these grades unless you trust every submission."
)


def main(argv=None):
    from coursepack.sandbox import SandboxUnavailable

    arguments = parse_arguments(argv)
    course_root = arguments.course.resolve()
    if not (course_root / CONFIG_FILE).exists():
        sys.exit(f"{course_root} has no {CONFIG_FILE}: not a course folder")
    if arguments.unsafe_no_sandbox:
        print(UNSAFE_WARNING, file=sys.stderr)
    try:
        summary = grade_class(
            course_root,
            arguments.workers,
            arguments.force,
            arguments.timeout,
            progress=not arguments.quiet,
            feedback=not arguments.no_feedback,
            unsafe_no_sandbox=arguments.unsafe_no_sandbox,
        )
    except SandboxUnavailable as error:
        sys.exit(str(error))
    except KeyboardInterrupt:
        # Workers and kernels are stopped by now; finished students are in the record.
        sys.exit("Interrupted: the submissions graded so far are kept; run again for the rest.")
    print_summary(summary)
    if arguments.unsafe_no_sandbox:
        print(UNSAFE_WARNING)
    if not arguments.no_report:
        from coursepack.report import write_report

        report = write_report(course_root)
        print(f"Class report: {report.as_uri()}")
    return summary


if __name__ == "__main__":
    # Run through the imported module, so that workers find their code under its real name.
    from coursepack.classgrade import main as run

    run()
