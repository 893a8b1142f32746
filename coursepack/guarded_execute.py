"""The course's Execute step for `nbgrader autograde` (wired in by nbgrader_config.py).

It runs a submission like nbgrader's Execute, with these differences:

1. The kernel runs in the sandbox (coursepack/sandbox.py): its own unprivileged user, its own
   PID, mount and network namespaces, a tmpfs copy of the submission and nothing else of the
   machine. Without the sandbox grading stops, unless `unsafe_no_sandbox` is set on purpose.
2. Before any student code, two things are installed in the kernel, silently and outside its
   history: the probe agent (coursepack/probe_agent.py) and the tripwire
   (coursepack/tripwire.py), each with a private socket to this process.
3. Hidden test cells are not run as written. Their checks go to the agent as data, run in a
   forked child of the kernel that dies afterwards, and come back as facts over the agent's
   socket; the verdict is given here, against the reference (coursepack.checks), and written
   into the cell as report lines and the points earned. Dependencies the student got wrong are
   lent as stubs that ask this process for the reference's values.
4. A kernel that dies (os._exit, a segfault, the memory limit) or stops answering costs only the
   cell it was running: the kernel is restarted, earlier cells are replayed quietly (a cell that
   kills the kernel while replayed is left out from then on) and grading goes on.
5. Budgets hold whatever the submission does: every cell, replay and probe has a timeout
   bounded by what is left of the notebook's time budget; outputs are limited in bytes, per cell
   and per notebook, as they arrive.

What happened (verdicts, flags, notices, restarts, timings) is recorded in the notebook's
metadata under `lab21_grading` (the shape is documented in README.md, "How grading works").
"""

import ast
import copy
import functools
import inspect
import json
import shutil
import tempfile
import time
from pathlib import Path

import nbformat
import zmq
import zmq.asyncio
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import Execute
from traitlets import Bool, Float, Integer

from coursepack import checks, probe_agent, sandbox, tripwire
from coursepack.course import Course
from coursepack.hidden_tests import HIDDEN_CALL
from coursepack.probing import AgentChannel, ChannelError, Prober, TripwireChannel
from coursepack.reference import dependency_source, load_reference
from coursepack.submissions import nbgrader_meta

METADATA_KEY = "lab21_grading"
DEGRADED_REASON = (
    "an earlier cell hung or crashed the kernel, so checks worth no points were skipped"
    " (every graded test still ran)"
)
AGENT_SECONDS = 20.0
OUTPUT_TYPES = {"stream", "display_data", "execute_result", "error", "update_display_data"}

# Names and attributes that student code has no reason to touch; finding one in an answer cell
# is reported to the instructor (not penalised: a person decides).
SUSPICIOUS_NAMES = {
    "get_ipython": "uses get_ipython()",
    "__builtins__": "touches __builtins__",
    "builtins": "touches the builtins module",
    "gc": "uses the garbage collector module",
    "inspect": "uses the inspect module",
    "ctypes": "uses ctypes",
    "importlib": "uses importlib",
    "__import__": "calls __import__",
    "exec": "calls exec",
    "eval": "calls eval",
    "compile": "calls compile",
    "setattr": "calls setattr",
    "socket": "uses sockets",
    "signal": "uses signals",
}
SUSPICIOUS_ATTRIBUTES = {
    "_getframe": "reads stack frames",
    "settrace": "installs a trace function",
    "setprofile": "installs a profile function",
    "addaudithook": "installs an audit hook",
    "__globals__": "reads a function's globals",
    "__closure__": "reads a function's closure",
    "__code__": "reads or replaces a function's code",
    "showtraceback": "touches IPython's showtraceback",
    "run_cell": "touches IPython's run_cell",
    "input_transformers_post": "touches IPython's input transformers",
    "input_transformers_cleanup": "touches IPython's input transformers",
    "register_at_fork": "registers fork handlers",
    "fork": "forks the kernel",
    "_exit": "calls os._exit",
}
PATCHED_MODULES = {"np", "numpy", "math", "random", "sys", "os", "builtins", "json", "pd"}


def scan_answer(source):
    """Flags for constructs in one answer cell that grading has reason to look at twice."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in SUSPICIOUS_NAMES:
            found.append(SUSPICIOUS_NAMES[node.id])
        elif isinstance(node, ast.Attribute):
            if node.attr in SUSPICIOUS_ATTRIBUTES:
                found.append(SUSPICIOUS_ATTRIBUTES[node.attr])
            if isinstance(node.ctx, ast.Store):
                base = node.value
                while isinstance(base, ast.Attribute):
                    base = base.value
                if isinstance(base, ast.Name) and base.id in PATCHED_MODULES:
                    found.append(f"assigns to {ast.unparse(node)} (patches a library)")
    return sorted(set(found))


INSTALL = """
def _lab21_install(agent_source, tripwire_source, agent_path, tripwire_path, watched, stream_limit):
    import types
    agent = types.ModuleType("lab21_probe_agent")
    exec(compile(agent_source, "<lab21 probe agent>", "exec"), agent.__dict__)
    wire = types.ModuleType("lab21_tripwire")
    exec(compile(tripwire_source, "<lab21 tripwire>", "exec"), wire.__dict__)
    agent.install(agent_path, get_ipython().user_ns)
    wire.install(tripwire_path, watched)
    agent.limit_streams(get_ipython(), stream_limit)
"""


class KernelBroken(Exception):
    """The kernel stopped keeping the protocol (its agent went silent or flooded its channel)."""


class GuardedExecute(Execute):
    notebook_seconds = Float(
        600.0,
        help="Time budget for a whole notebook (replays included); cells past it are not run.",
    ).tag(config=True)
    quick_cell_seconds = Integer(
        15,
        help="Timeout of every cell but the hidden tests (Execute.timeout bounds each hidden"
        " suite): correct code runs them in about a second.",
    ).tag(config=True)
    skip_demos = Bool(
        True,
        help="Skip the instructor's demo cells (tagged `demo` in the release) when a submission"
        " has them unchanged: they only show plots and examples, and earn no points.",
    ).tag(config=True)
    check_seconds = Float(
        10.0,
        help="CPU seconds one hidden check may use (three times that in wall time) before it"
        " counts as an endless loop; the rest of its suite is then not run.",
    ).tag(config=True)
    run_visible_tests = Bool(
        False,
        help="Run the visible tests (graded cells worth 0 points) when grading. They earn nothing;"
        " the hidden checks grade the same parts on more cases, and the student ran them already.",
    ).tag(config=True)
    max_restarts = Integer(
        10, help="Kernel restarts allowed per notebook before the rest is marked not run."
    ).tag(config=True)
    cell_output_bytes = Integer(
        128 * 1024, help="Output kept per cell (text and images); the rest is cut, with a note."
    ).tag(config=True)
    notebook_output_bytes = Integer(
        2 * 1024**2, help="Output kept per notebook; cells past it keep a note only."
    ).tag(config=True)
    message_bytes = Integer(
        8 * 1024**2, help="Largest message accepted from a kernel (larger ones are dropped)."
    ).tag(config=True)
    unsafe_no_sandbox = Bool(
        False,
        help="UNSAFE: run student code without the sandbox, as the grader, trusting every"
        " submission. For machines where the sandbox cannot run; recorded in every grade.",
    ).tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        if self.unsafe_no_sandbox:
            self.kernel_manager_class = AsyncKernelManager
            self.log.warning("UNSAFE: grading without the sandbox (unsafe_no_sandbox is set)")
        else:
            sandbox.require_sandbox()
            self.kernel_manager_class = sandbox.SandboxKernelManager
        # Keys of the course's own (lab21_...) on a cell are the grader's and the feedback's to
        # write: any the submission carried (an output counter, a label) go before grading.
        for cell in nb.cells:
            for key in [key for key in cell.metadata if str(key).startswith("lab21")]:
                del cell.metadata[key]
        # The same set-up as nbconvert's ExecutePreprocessor.preprocess, then our own loop.
        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        self.reference = load_reference()
        self.hidden_suites = self._hidden_suites()
        self.demo_sources = self._release_demos() if self.skip_demos else set()
        # Notices written by the repairs before grading (coursepack.preflight, which removes any
        # grading metadata a submission carried); a few short ones at most.
        before = nb.metadata.get(METADATA_KEY, {})
        self.grading = {
            "flags": [],
            "notices": [str(text)[:500] for text in list(before.get("notices", []))[:20]],
            "restarts": 0,
            "verdicts": [],
            "not_run": {},
            "timings": {},
            "sandbox": "none (unsafe_no_sandbox)" if self.unsafe_no_sandbox else "bubblewrap",
        }
        self.passed = {}  # graded function -> all its hidden checks passed in this run
        self.unsafe_folders = []
        self.output_used = 0
        self.channels = []
        started = time.perf_counter()
        try:
            self._run_all(nb)
        finally:
            self._close_channels()
            for folder in self.unsafe_folders:
                shutil.rmtree(folder, ignore_errors=True)
        self._time("total", time.perf_counter() - started)
        for cell in nb.cells:
            if utils.is_solution(cell) and cell.cell_type == "code":
                for flag in scan_answer(cell.source):
                    self._flag(f"answer cell {nbgrader_meta(cell).get('grade_id') or '?'}: {flag}")
        self._order_verdicts(nb)
        nb.metadata[METADATA_KEY] = self.grading
        return nb, self.resources

    # -- where the course is --------------------------------------------------------------

    def _course(self):
        """The course of the converter running this step (None when run on its own)."""
        assignment = (self.resources or {}).get("nbgrader", {}).get("assignment")
        try:
            return Course.of_configurable(self, assignment)
        except LookupError:
            return None

    def _assignment_notebook(self, step):
        course = self._course()
        return None if course is None else course.notebook(step)

    def _hidden_suites(self):
        """grade_id -> suite of every hidden test cell, read from the instructor's notebook: a
        cell that the submission added, whatever it says, runs no checks."""
        path = self._assignment_notebook("source")
        if path is None or not path.exists():
            return None
        source = nbformat.read(path, as_version=4)
        suites = {}
        for cell in source.cells:
            match = HIDDEN_CALL.search(cell.source) if utils.is_grade(cell) else None
            if match:
                suites[nbgrader_meta(cell).get("grade_id")] = match.group(1)
        return suites

    def _release_demos(self):
        """Sources of the release's demo cells (tag `demo`, neither graded nor answered)."""
        path = self._assignment_notebook("release")
        if path is None or not path.exists():
            return set()
        release = nbformat.read(path, as_version=4)
        return {
            cell.source
            for cell in release.cells
            if "demo" in cell.metadata.get("tags", [])
            and not (utils.is_grade(cell) or utils.is_solution(cell))
        }

    # -- the execution loop ---------------------------------------------------------------

    def _remaining(self):
        return self.deadline - time.monotonic()

    def _run_all(self, nb):
        self.deadline = time.monotonic() + self.notebook_seconds
        self.skipped = set()  # cells not to run again after a restart
        # Once a cell hangs or kills the kernel, cells that earn no points are not run: they
        # would most likely call the same function and cost a timeout each.
        self.degraded = False
        start = 0
        while start < len(nb.cells):
            if self._remaining() <= 0:
                self._out_of_time(nb, start)
                return
            position, replaying = start, False
            try:
                began = time.perf_counter()
                with self.setup_kernel():
                    self._time("kernel start", time.perf_counter() - began)
                    self._note_slot(self.km)
                    self._connect_agent()
                    replaying = True
                    began = time.perf_counter()
                    for position in range(start):
                        self._replay(nb.cells[position], position)
                    self._time("replays", time.perf_counter() - began)
                    replaying = False
                    for position in range(start, len(nb.cells)):
                        if self._remaining() <= 0:
                            self._out_of_time(nb, position)
                            return
                        cell = nb.cells[position]
                        if self.degraded and self._earns_nothing(cell):
                            self._fail_cell(cell, "not run: " + DEGRADED_REASON)
                            continue
                        self._execute(cell, position)
                    return
            except (DeadKernelError, CellTimeoutError, KernelBroken, ChannelError) as error:
                cell = nb.cells[position]
                label = nbgrader_meta(cell).get("grade_id") or position
                reason = _failure_reason(error)
                self.skipped.add(position)
                self.degraded = True
                self.grading["restarts"] += 1
                if replaying:
                    # It ran once already (its outputs stand); it is not replayed again.
                    self._notice(f"cell {label}: {reason} while being replayed; left out since")
                else:
                    self._fail_cell(cell, reason)
                    self._notice(f"cell {label}: {reason}; restarted")
                    start = position + 1
                self._close_channels()
                if self.grading["restarts"] > self.max_restarts:
                    self._mark_not_run(nb, start, "the kernel died too many times")
                    return

    def _out_of_time(self, nb, position):
        self._mark_not_run(nb, position, "the notebook's time budget ran out")
        self._notice(f"time budget of {self.notebook_seconds:g} s ran out")

    def _get_timeout(self, cell):
        """Every cell's timeout, replays too, is bounded by what is left of the budget."""
        timeout = min(self.quick_cell_seconds, self.timeout or self.quick_cell_seconds)
        return max(1, int(min(timeout, self._remaining()) + 0.999))

    async def async_start_new_kernel(self, **kwargs):
        self.startup_timeout = max(1, int(min(60, self._remaining())))
        await super().async_start_new_kernel(**kwargs)

    start_new_kernel = run_sync(async_start_new_kernel)

    async def async_start_new_kernel_client(self):
        make_client = self.km.client
        self.km.client = lambda **kwargs: limited_client(make_client, self.message_bytes, kwargs)
        return await super().async_start_new_kernel_client()

    start_new_kernel_client = run_sync(async_start_new_kernel_client)

    def _connect_agent(self):
        """Install the probe agent and the tripwire in the fresh kernel, before any cell."""
        began = time.perf_counter()
        host, inside = self._agent_folder(self.km)
        self.channel = AgentChannel(host, "agent.sock")
        self.trip = TripwireChannel(host, "tripwire.sock")
        self.channels = [self.channel, self.trip]
        call = self.install_code(inside)
        reply = self.wait_for_reply(self.kc.execute(call, silent=True, store_history=False))
        if reply is None or reply["content"]["status"] != "ok":
            detail = reply and reply["content"]
            raise KernelBroken(f"the probe agent could not be installed: {detail}")
        self.channel.accept(AGENT_SECONDS)
        self.trip.accept(AGENT_SECONDS)
        self.prober = Prober(self.channel, self.reference, self._flag, self.check_seconds)
        self._time("agent install", time.perf_counter() - began)

    def install_code(self, inside):
        """What a fresh kernel runs first: the probe agent and the tripwire, with the paths of
        their sockets as the kernel sees them."""
        watched = [str(p) for p in self._watched_paths()]
        return (
            INSTALL + f"_lab21_install({inspect.getsource(probe_agent)!r},"
            f" {inspect.getsource(tripwire)!r}, {inside + '/agent.sock'!r},"
            f" {inside + '/tripwire.sock'!r}, {watched!r}, {4 * self.cell_output_bytes})\n"
            "del _lab21_install\n"
        )

    def _note_slot(self, km):
        """Which sandbox slots (and so which uids) this notebook's kernels ran in."""
        if isinstance(km, sandbox.SandboxKernelManager):
            slot = km.provisioner.slot.number
            slots = self.grading.setdefault("slots", [])
            if slot not in slots:
                slots.append(slot)

    def _agent_folder(self, km):
        """(folder on this machine, the same folder as the kernel sees it) for the sockets."""
        if isinstance(km, sandbox.SandboxKernelManager):
            return km.run_folder(), "/run/kernel"
        folder = tempfile.mkdtemp(prefix="lab21-agent-")
        self.unsafe_folders.append(folder)
        return folder, folder

    def _watched_paths(self):
        course = self._course()
        paths = {Path(__file__).resolve().parent.parent}
        if course is not None:
            paths.add(course.root)
        return sorted(paths)

    def _close_channels(self):
        self._close_side_kernel()
        self._collect_tripwire()
        for channel in self.channels:
            channel.close()
        self.channels = []

    def _collect_tripwire(self):
        trip = getattr(self, "trip", None)
        if trip is not None:
            for record in trip.records():
                self._flag(f"kernel {record}")

    @staticmethod
    def _earns_nothing(cell):
        """Visible checks (0 points) and free cells: skippable once a notebook hangs or crashes."""
        if cell.cell_type != "code":
            return False
        meta = nbgrader_meta(cell)
        if not meta:
            return True
        return meta.get("grade", False) and not float(meta.get("points") or 0)

    def _replay(self, cell, position):
        """Re-run an earlier answer or instructor cell after a restart, keeping its outputs."""
        if cell.cell_type != "code" or utils.is_grade(cell) or position in self.skipped:
            return
        if cell.source in self.demo_sources and not utils.is_solution(cell):
            return
        outputs, count = copy.deepcopy(cell.outputs), cell.get("execution_count")
        self._run_cell(cell, position, store_history=False)
        cell.outputs, cell["execution_count"] = outputs, count

    def _run_cell(self, cell, position, store_history):
        """nbclient's execute_cell; a kernel that breaks the messaging protocol (forged or
        garbled ZeroMQ frames) counts as a broken kernel, not as a grading failure."""
        try:
            self.execute_cell(cell, position, store_history=store_history)
        except (CellTimeoutError, DeadKernelError, KernelBroken):
            raise
        except Exception as error:
            raise KernelBroken(f"the kernel sent a malformed message ({error})") from error

    def _execute(self, cell, position):
        if utils.is_grade(cell) or utils.is_solution(cell):
            # nbclient skips cells tagged `skip-execution`: no student may skip a test that way.
            cell.metadata["tags"] = []
        elif cell.source in self.demo_sources:
            # An unchanged instructor demo: nothing to grade, nothing later needs it.
            self._not_run(cell, "an unchanged demo cell (pictures, examples): not run when grading")
            return
        suite = self._suite_of(cell)
        if suite is None and self._visible_test(cell) and not self.run_visible_tests:
            self._not_run(
                cell,
                "a visible test (0 points): not run when grading; the hidden"
                " checks grade this part",
            )
            cell.outputs = []
            return
        if suite is None and utils.is_grade(cell) and HIDDEN_CALL.search(cell.source):
            grade_id = nbgrader_meta(cell).get("grade_id")
            self._flag(f"cell {grade_id}: looks like a hidden test but is not one; not run")
            self._not_run(cell, "not a hidden test of this assignment")
            return
        if suite is None:
            began = time.perf_counter()
            self._run_cell(cell, position, store_history=True)
            self._time("cells", time.perf_counter() - began)
            timed_out = any(o.get("ename") == "CellTimeoutError" for o in cell.get("outputs", []))
            if timed_out:
                self.skipped.add(position)  # do not wait for it again after a restart
                self.degraded = True
                self._notice(f"cell {nbgrader_meta(cell).get('grade_id') or position}: timed out")
            return
        self._run_hidden(cell, suite, position)

    @staticmethod
    def _visible_test(cell):
        meta = nbgrader_meta(cell)
        return (
            cell.cell_type == "code"
            and meta.get("grade")
            and not meta.get("solution")
            and not float(meta.get("points") or 0)
        )

    def _suite_of(self, cell):
        """The suite a hidden test cell runs, or None for any other cell."""
        if not utils.is_grade(cell) or cell.cell_type != "code":
            return None
        grade_id = nbgrader_meta(cell).get("grade_id")
        match = HIDDEN_CALL.search(cell.source)
        if self.hidden_suites is None:  # no instructor notebook at hand: trust the gradebook's
            return match.group(1) if match else None
        return self.hidden_suites.get(grade_id)

    def _run_hidden(self, cell, suite, position):
        """Probe the student's function through the agent and write the verdict."""
        began = time.perf_counter()
        function = checks.SUITES[suite][0]
        lend = checks.lent_dependencies(suite, self.passed)
        deadline = time.monotonic() + min(self.timeout or 60, max(0.0, self._remaining()))
        points = float(nbgrader_meta(cell).get("points") or 0)
        in_side_kernel = bool(lend) and suite in checks.TRAINING_SUITES
        try:
            if in_side_kernel:
                observation = self._probe_in_side_kernel(suite, lend, deadline, position)
            else:
                observation = self.prober.run_suite(suite, lend, deadline)
        except ChannelError as error:
            if in_side_kernel:  # what broke there is not the student's to read (it could tell)
                reason = checks.SIDE_KERNEL_FAILED.format(names=", ".join(lend))
                self._write_verdict(cell, _no_result(suite, points, reason))
                self._flag(f"{suite}: the side kernel broke its channel")
                self.passed[function] = False
                self._close_side_kernel()
                self._time(f"hidden {suite}", time.perf_counter() - began)
                return
            self._write_verdict(cell, _no_result(suite, points, str(error)))
            self._flag(f"{suite}: {error}")
            raise KernelBroken(str(error)) from error
        verdict = checks.judge_suite(suite, observation, points, self.reference)
        if in_side_kernel:
            verdict = checks.withhold_details(verdict, lend)
        all_passed = verdict["status"] == "judged" and all(c["passed"] for c in verdict["checks"])
        self.passed[function] = self.passed.get(function, True) and all_passed
        self._write_verdict(cell, verdict)
        self._time(f"hidden {suite}", time.perf_counter() - began)

    def _probe_in_side_kernel(self, suite, lend, deadline, position):
        """Training suites call their dependencies thousands of times: too many for stubs that
        ask this process. When some must be lent, the suite runs in a side kernel of its own
        (same sandbox, nothing shared with the student's kernel), replaying the notebook's code
        cells, with the reference's dependencies defined there. It only ever reports facts, and
        the text of those (exception messages, reprs) is dropped: only numbers reach feedback."""
        side = self.side_kernel
        if side is None or side.position > position:
            self._close_side_kernel()
            try:
                side = self.side_kernel = SideKernel(self)
            except ChannelError:
                raise
            except Exception as error:  # no slot, no start: the suite gets no result
                raise ChannelError("the side kernel did not start") from error
        side.replay_until(position)
        # Every dependency is defined there (the lent ones call the others), only `lend` is lent.
        source = dependency_source(checks.SUITES[suite][2], self.reference)
        return side.prober.run_suite(suite, lend, deadline, reference_source=source)

    side_kernel = None

    def _close_side_kernel(self):
        if self.side_kernel is not None:
            self.side_kernel.close()
            self.side_kernel = None

    def _write_verdict(self, cell, verdict):
        """The cell's outputs become the verdict: report lines, then the points (a plain float,
        which nbgrader reads as partial credit)."""
        grade_id = nbgrader_meta(cell).get("grade_id")
        self.grading["verdicts"] = [
            v for v in self.grading["verdicts"] if v["grade_id"] != grade_id
        ] + [{"grade_id": grade_id, **verdict}]
        report = "\n".join(checks.report_lines(verdict)) + "\n"
        cell.outputs = [
            NotebookNode(output_type="stream", name="stdout", text=report),
            NotebookNode(
                output_type="execute_result",
                execution_count=None,
                metadata={},
                data={"text/plain": repr(float(verdict["earned"]))},
            ),
        ]
        cell["execution_count"] = None

    # -- outputs, limited as they arrive ----------------------------------------------------

    def process_message(self, msg, cell, cell_index):
        if not (msg["msg_type"] in OUTPUT_TYPES or msg["msg_type"].startswith("comm")):
            return super().process_message(msg, cell, cell_index)
        size = _content_bytes(msg["content"])
        used = cell.metadata.get("lab21_output_bytes", 0)
        room = min(self.cell_output_bytes - used, self.notebook_output_bytes - self.output_used)
        cut = size > room
        if cut and msg["msg_type"] == "stream" and room > 200:
            # Keep the start of a long stream (its name and text alone), then say it was cut.
            content, keep = msg["content"], room - 200
            while True:  # escapes (newlines, quotes) may take more bytes than characters
                kept = {"name": str(content.get("name", "stdout"))[:20]}
                kept["text"] = str(content.get("text") or "")[:keep]
                size = _content_bytes(kept)
                if size <= room or keep == 0:
                    break
                keep //= 2
            msg = {**msg, "content": kept}
        if size > room:
            self._truncated(cell)
            return None
        cell.metadata["lab21_output_bytes"] = used + size
        self.output_used += size
        output = super().process_message(msg, cell, cell_index)
        if cut:
            self._truncated(cell)
        return output

    def _truncated(self, cell):
        if cell.metadata.get("lab21_truncated"):
            return
        cell.metadata["lab21_truncated"] = True
        note = (
            f"[output truncated: a cell keeps at most {self.cell_output_bytes // 1024} KiB of"
            f" output when graded, a notebook {self.notebook_output_bytes // 1024**2} MiB]\n"
        )
        cell.outputs.append(NotebookNode(output_type="stream", name="stdout", text=note))
        self.output_used += len(note)

    def execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        try:
            return super().execute_cell(cell, cell_index, execution_count, store_history)
        finally:
            cell.metadata.pop("lab21_output_bytes", None)
            cell.metadata.pop("lab21_truncated", None)

    # -- records ----------------------------------------------------------------------------

    def _order_verdicts(self, nb):
        """One verdict per hidden test cell, in the notebook's order; unjudged ones 'not run'."""
        judged = {v["grade_id"]: v for v in self.grading["verdicts"]}
        ordered = []
        for cell in nb.cells:
            suite = self._suite_of(cell) if utils.is_grade(cell) else None
            if suite is None:
                continue
            grade_id = nbgrader_meta(cell).get("grade_id")
            reason = self.grading["not_run"].get(cell.get("id"), "not run")
            ordered.append(
                judged.get(grade_id)
                or {
                    "grade_id": grade_id,
                    **_no_result(suite, float(nbgrader_meta(cell).get("points") or 0), reason),
                    "status": "not run",
                }
            )
        self.grading["verdicts"] = ordered

    def _fail_cell(self, cell, reason):
        self._not_run(cell, reason)
        cell.outputs = [
            NotebookNode(
                output_type="error",
                ename="GradingError",
                evalue=reason,
                traceback=[f"GradingError: {reason}"],
            )
        ]

    def _mark_not_run(self, nb, start, reason):
        for cell in nb.cells[start:]:
            if cell.cell_type == "code":
                self._fail_cell(cell, f"not run: {reason}")

    def _not_run(self, cell, reason):
        if cell.get("id"):
            self.grading["not_run"][cell.id] = reason

    def _notice(self, text):
        self.grading["notices"].append(text)

    def _flag(self, text):
        if text not in self.grading["flags"]:
            self.grading["flags"].append(text)

    def _time(self, phase, seconds):
        timings = self.grading["timings"]
        timings[phase] = round(timings.get(phase, 0.0) + seconds, 4)


QUEUED_MESSAGES = 32  # messages a kernel may have waiting in the grader, per channel


def limited_client(make_client, message_bytes, kwargs):
    """A kernel client whose memory a kernel cannot fill: ZeroMQ drops any message bigger than
    message_bytes (a 1 GB print) and any beyond QUEUED_MESSAGES waiting to be read (a flood
    sent while the grader reads elsewhere). It connects once: after a disconnect it does not
    follow the socket paths again, which the kernel could have replaced with links."""
    context = zmq.asyncio.Context()
    context.setsockopt(zmq.MAXMSGSIZE, message_bytes)
    context.setsockopt(zmq.RCVHWM, QUEUED_MESSAGES)
    context.setsockopt(zmq.RECONNECT_STOP, zmq.RECONNECT_STOP_AFTER_DISCONNECT)
    client = make_client(context=context, **kwargs)
    client._created_context = True  # destroyed with the client
    # No heartbeat: the manager knows whether its kernel lives. The heartbeat thread awaits each
    # ping and pong on a socket that, once a kernel has broken the connection (garbage written
    # to its sockets), is never connected again; stopping the channels then joined that thread
    # for ever, and the worker hung until classgrade's time limit (seen in a test run).
    client.start_channels = functools.partial(client.start_channels, hb=False)
    return client


class SideKernel:
    """A second kernel for one submission, in the same kind of sandbox: the notebook's code cells
    (not its tests) are replayed into it, then suites that need the reference's code run there.
    Nothing it does reaches the student's own kernel; it is shut down after use."""

    def __init__(self, execute):
        self.execute, self.position = execute, 0
        self.km = execute.kernel_manager_class(kernel_name=execute.km.kernel_name)
        self.kc, self.channels = None, []
        try:
            run_sync(self.km.start_kernel)(
                cwd=execute.resources.get("metadata", {}).get("path") or None,
                extra_arguments=execute.extra_arguments,
            )
            execute._note_slot(self.km)
            self.kc = limited_client(self.km.client, execute.message_bytes, {})
            self.kc.start_channels()
            run_sync(self.kc.wait_for_ready)(timeout=60)
            host, inside = execute._agent_folder(self.km)
            agent = AgentChannel(host, "agent.sock")
            trip = TripwireChannel(host, "tripwire.sock")
            self.channels = [agent, trip]
            self._run(execute.install_code(inside))
            agent.accept(AGENT_SECONDS)
            trip.accept(AGENT_SECONDS)
        except BaseException:
            self.close()  # a half-started side kernel leaves nothing running
            raise
        self.prober = Prober(agent, execute.reference, execute._flag, execute.check_seconds)

    def _run(self, code):
        """Run code silently; wait for it within the notebook's budget. Outputs are dropped."""
        msg_id = self.kc.execute(code, silent=True, store_history=False)
        budget = min(self.execute.quick_cell_seconds, self.execute._remaining())
        deadline = time.monotonic() + budget
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ChannelError("the side kernel stopped answering")
            try:
                reply = run_sync(self.kc.get_shell_msg)(timeout=left)
            except Exception as error:
                raise ChannelError("the side kernel stopped answering") from error
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply

    def replay_until(self, position):
        """Replay the code cells before `position` that the student's kernel ran (answers,
        the instructor's set-up, the student's own cells; no tests, no demos)."""
        execute = self.execute
        for index in range(self.position, position):
            cell = execute.nb.cells[index]
            if cell.cell_type != "code" or utils.is_grade(cell) or index in execute.skipped:
                continue
            if cell.source in execute.demo_sources and not utils.is_solution(cell):
                continue
            self._run(cell.source)
        self.position = position

    def close(self):
        for channel in self.channels:
            channel.close()
        try:
            if self.kc is not None:
                self.kc.stop_channels()
            run_sync(self.km.shutdown_kernel)(now=True)
        except Exception:  # a dead side kernel is already shut
            pass


def _no_result(suite, points, reason):
    return {
        "suite": suite,
        "function": checks.SUITES[suite][0],
        "points": points,
        "earned": 0.0,
        "status": "no result",
        "reason": reason,
        "checks": [],
    }


def _failure_reason(error):
    if isinstance(error, CellTimeoutError):
        return "the kernel stopped responding (an endless loop that ignores interrupts?)"
    if isinstance(error, DeadKernelError):
        return "the kernel died (os._exit, a crash, or too much memory?)"
    return f"the kernel broke the grading protocol ({error})"


def _content_bytes(content):
    """The bytes an output message could add to the notebook: all of its content, as JSON
    (text, data and its keys, metadata, an error's name and traceback, whatever else the kernel
    put there), so that no field of a message escapes the output limits."""
    return len(json.dumps(content, default=repr, ensure_ascii=False).encode())
