"""The course's Execute preprocessor for `nbgrader autograde` (wired in by nbgrader_config.py).

It runs a submission like nbgrader's Execute, with four differences:

1. Before any student code, the kernel gets guards (coursepack.kernel_guard): the course's
   private files cannot be read, suspicious introspection is recorded, memory is limited.
2. Hidden test cells are not run as written. Their probes are sent into the kernel as source
   (the kernel never needs the course's files), the facts come back as JSON, and the verdict
   is given here, outside the kernel, against the reference. The cell's outputs are then the
   verdict's lines and the points earned, which nbgrader reads as partial credit.
3. A kernel that dies (os._exit, a segfault, the memory limit) or stops answering (an endless
   loop that swallows KeyboardInterrupt) costs only the cell it was running: the kernel is
   restarted, the earlier cells are re-run quietly, and grading goes on from the next cell.
4. The whole notebook has a time budget; cells past it are marked as not run.

What happened (flags, restarts, blocked reads) is recorded in the notebook's metadata under
`lab21_grading`, for the grading command and the class report.
"""

import ast
import copy
import inspect
import json
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import Execute
from traitlets import Bool, Float, Integer

import coursepack
from coursepack import ASSIGNMENT, COURSE_ROOT, checks, dataset, kernel_guard
from coursepack.hidden_tests import HIDDEN_CALL
from coursepack.reference import dependency_source, load_reference
from coursepack.submissions import nbgrader_meta

OBSERVATION_MARK = "LAB21-OBSERVATION "
METADATA_KEY = "lab21_grading"
DEGRADED_REASON = (
    "an earlier cell hung or crashed the kernel, so checks worth no points were skipped"
    " (every graded test still ran)"
)

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
}
SUSPICIOUS_ATTRIBUTES = {
    "_getframe": "reads stack frames",
    "settrace": "installs a trace function",
    "setprofile": "installs a profile function",
    "__globals__": "reads a function's globals",
    "__closure__": "reads a function's closure",
    "__code__": "reads or replaces a function's code",
    "showtraceback": "touches IPython's showtraceback",
    "run_cell": "touches IPython's run_cell",
    "input_transformers_post": "touches IPython's input transformers",
    "input_transformers_cleanup": "touches IPython's input transformers",
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


def _module_payload():
    """(name, path, source) of the modules the probes need, to rebuild them in the kernel."""
    return [
        (module.__name__, module.__file__, inspect.getsource(module))
        for module in (coursepack, dataset, checks)
    ]


PROBE_RUNNER = """
def _lab21_probe(suite, namespace, payload, dependency_source, names):
    import json, sys, types
    created = []
    try:
        for name, path, source in payload:
            module = types.ModuleType(name)
            module.__file__ = path
            if "." not in name:
                module.__path__ = []
            sys.modules[name] = module
            created.append(name)
            exec(compile(source, path, "exec"), module.__dict__)
        probes = sys.modules["coursepack.checks"]
        scope = {"np": sys.modules["numpy"]}
        exec(compile(dependency_source, "<reference dependencies>", "exec"), scope)
        dependencies = {name: scope[name] for name in names}
        observation = probes.probe_suite(suite, namespace, dependencies)
        print(MARK + json.dumps(observation))
    finally:
        for name in created:
            sys.modules.pop(name, None)
""".replace("MARK", repr(OBSERVATION_MARK))


class GuardError(Exception):
    """The guards could not be installed: a fault of the grading set-up, not of the student."""


class GuardedExecute(Execute):
    notebook_seconds = Float(
        600.0, help="Time budget for a whole notebook; cells past it are not run."
    ).tag(config=True)
    quick_cell_seconds = Integer(
        15,
        help="Timeout of every cell but the hidden tests (Execute.timeout): correct code runs"
        " them in about a second, and a hanging function should not cost minutes per cell.",
    ).tag(config=True)
    memory_bytes = Integer(
        3 * 1024**3, help="Address-space limit of a student's kernel (0 for none)."
    ).tag(config=True)
    skip_demos = Bool(
        True,
        help="Skip the instructor's demo cells (tagged `demo` in the release) when a submission"
        " has them unchanged: they only show plots and examples, and earn no points.",
    ).tag(config=True)
    max_restarts = Integer(
        10, help="Kernel restarts allowed per notebook before the rest is marked not run."
    ).tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        # The same set-up as nbconvert's ExecutePreprocessor.preprocess, then our own loop.
        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        self.reference = load_reference()
        self.demo_sources = self._release_demos() if self.skip_demos else set()
        self.payload = _module_payload()
        # Notices from the repairs made before grading (coursepack.preflight) are kept.
        before = nb.metadata.get(METADATA_KEY, {})
        self.grading = {
            "flags": [],
            "notices": list(before.get("notices", [])),
            "restarts": 0,
            "verdicts": [],
            "not_run": {},
        }
        self.record_dir = tempfile.TemporaryDirectory(prefix="lab21-guard-")
        self.record_path = Path(self.record_dir.name) / "records.jsonl"
        # The kernel may run as another user (coursepack/sandbox.py): it may append to the
        # record, but neither list the folder nor read the record back.
        self.record_path.touch(mode=0o622)
        self.record_path.chmod(0o622)
        Path(self.record_dir.name).chmod(0o711)
        try:
            self._run_all(nb)
        finally:
            self._collect_records()
            self.record_dir.cleanup()
        self._order_verdicts(nb)
        for cell in nb.cells:
            if utils.is_solution(cell) and cell.cell_type == "code":
                for flag in scan_answer(cell.source):
                    self._flag(f"answer cell {nbgrader_meta(cell).get('grade_id') or '?'}: {flag}")
        nb.metadata[METADATA_KEY] = self.grading
        return nb, self.resources

    # -- the execution loop ---------------------------------------------------------------

    def _run_all(self, nb):
        deadline = time.monotonic() + self.notebook_seconds
        self.skipped, start = set(), 0  # skipped: cells not to re-run after a restart
        # Once a cell hangs or kills the kernel, cells that earn no points are not run: they
        # would most likely call the same function and cost a timeout each.
        self.degraded = False
        while start < len(nb.cells):
            position = start
            try:
                with self.setup_kernel():
                    self._install_guard()
                    self._replay(nb, range(start))
                    for position in range(start, len(nb.cells)):
                        if time.monotonic() > deadline:
                            self._mark_not_run(nb, position, "the notebook's time budget ran out")
                            self._notice(f"time budget of {self.notebook_seconds:g} s ran out")
                            return
                        cell = nb.cells[position]
                        if self.degraded and self._earns_nothing(cell):
                            self._fail_cell(cell, "not run: " + DEGRADED_REASON)
                            continue
                        self._execute(cell, position)
                    return
            except (DeadKernelError, CellTimeoutError) as error:
                cell = nb.cells[position]
                reason = (
                    "the kernel stopped responding (an endless loop that ignores interrupts?)"
                    if isinstance(error, CellTimeoutError)
                    else "the kernel died (os._exit, a crash, or too much memory?)"
                )
                self._fail_cell(cell, reason)
                self._notice(
                    f"cell {nbgrader_meta(cell).get('grade_id') or position}: {reason}; restarted"
                )
                self.degraded = True
                self.grading["restarts"] += 1
                self.skipped.add(position)
                start = position + 1
                if self.grading["restarts"] > self.max_restarts:
                    self._mark_not_run(nb, start, "the kernel died too many times")
                    return

    def _install_guard(self):
        """Send the guards into the fresh kernel, before any cell runs."""
        protected = [str(COURSE_ROOT), str(self._course_root())]
        own_folder = self.resources.get("metadata", {}).get("path") or "."
        allowed = [str(Path(own_folder).resolve()), str(COURSE_ROOT / ".venv")]
        code = (
            inspect.getsource(kernel_guard)
            + f"\ninstall({str(self.record_path)!r}, {protected!r}, {allowed!r},"
            f" {self.memory_bytes})\ndel install\n"
        )
        reply = self.wait_for_reply(self.kc.execute(code, silent=True, store_history=False))
        if reply is None or reply["content"]["status"] != "ok":
            raise GuardError(f"could not install the kernel guards: {reply and reply['content']}")

    def _course_root(self):
        """The nbgrader course folder (the gradebook's), which may differ from the repo's."""
        db_url = self.resources.get("nbgrader", {}).get("db_url", "")
        if db_url.startswith("sqlite:///"):
            return Path(db_url[len("sqlite:///") :]).parent
        return COURSE_ROOT

    @staticmethod
    def _earns_nothing(cell):
        """Visible checks (0 points) and free cells: skippable once a notebook hangs or crashes."""
        if cell.cell_type != "code":
            return False
        meta = nbgrader_meta(cell)
        if not meta:
            return True
        return meta.get("grade", False) and not HIDDEN_CALL.search(cell.source)

    def _get_timeout(self, cell):
        timeout = super()._get_timeout(cell)
        if getattr(self, "running_hidden", False) or timeout is None:
            return timeout
        return min(timeout, self.quick_cell_seconds)

    def _replay(self, nb, positions):
        """Re-run earlier answer and instructor cells after a restart, keeping their outputs."""
        for position in positions:
            cell = nb.cells[position]
            if cell.cell_type != "code" or utils.is_grade(cell) or position in self.skipped:
                continue
            outputs, count = copy.deepcopy(cell.outputs), cell.get("execution_count")
            self.execute_cell(cell, position, store_history=False)
            cell.outputs, cell["execution_count"] = outputs, count

    def _release_demos(self):
        """Sources of the release's demo cells (tag `demo`, neither graded nor answered)."""
        path = self._course_root() / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        if not path.exists():
            return set()
        release = nbformat.read(path, as_version=4)
        return {
            cell.source
            for cell in release.cells
            if "demo" in cell.metadata.get("tags", [])
            and not (utils.is_grade(cell) or utils.is_solution(cell))
        }

    def _execute(self, cell, position):
        if utils.is_grade(cell) or utils.is_solution(cell):
            # nbclient skips cells tagged `skip-execution`: no student may skip a test that way.
            cell.metadata["tags"] = []
        elif cell.source in self.demo_sources:
            # An unchanged instructor demo: nothing to grade, nothing later needs it.
            self._not_run(cell, "an unchanged demo cell (pictures, examples): not run when grading")
            return
        match = HIDDEN_CALL.search(cell.source) if utils.is_grade(cell) else None
        if match is None:
            self.execute_cell(cell, position, store_history=True)
            timed_out = any(o.get("ename") == "CellTimeoutError" for o in cell.get("outputs", []))
            if timed_out:
                self.skipped.add(position)  # do not wait for it again after a restart
                self.degraded = True
                self._notice(f"cell {nbgrader_meta(cell).get('grade_id') or position}: timed out")
            return
        suite = match.group(1)
        names = checks.SUITES[suite][2]
        # The runner travels with every hidden cell: nothing in the kernel's namespace that
        # student code could have replaced beforehand is used.
        probe_call = PROBE_RUNNER + (
            f"_lab21_probe({suite!r}, globals(), {self.payload!r},"
            f" {dependency_source(names, self.reference)!r}, {names!r})"
        )
        written = cell.source
        cell.source, self.running_hidden = probe_call, True
        try:
            self.execute_cell(cell, position, store_history=True)
        finally:
            cell.source, self.running_hidden = written, False
        self._judge(cell, suite)

    # -- verdicts and records -------------------------------------------------------------

    def _judge(self, cell, suite):
        """Replace the probe's outputs by the verdict: report lines, then the points."""
        observation, errors = None, []
        for output in cell.outputs:
            if output.output_type == "stream" and output.name == "stdout":
                for line in output.text.splitlines():
                    if line.startswith(OBSERVATION_MARK):
                        observation = json.loads(line[len(OBSERVATION_MARK) :])
            elif output.output_type == "error":
                errors.append(output)
        points = float(cell.metadata["nbgrader"]["points"])
        if observation is None:
            verdict = {
                "suite": suite,
                "function": checks.SUITES[suite][0],
                "points": points,
                "earned": 0.0,
                "status": "no result",
                "reason": "the hidden checks could not run in this notebook",
                "checks": [],
            }
            self._flag(f"{suite}: hidden checks sent no result (kernel patched, or crashed)")
        else:
            verdict = checks.judge_suite(suite, observation, points, self.reference)
        self._record_verdict(cell, verdict)
        report = "\n".join(checks.report_lines(verdict)) + "\n"
        cell.outputs = [NotebookNode(output_type="stream", name="stdout", text=report)]
        if errors and observation is None:
            cell.outputs.extend(errors)
        else:
            cell.outputs.append(
                NotebookNode(
                    output_type="execute_result",
                    execution_count=cell.get("execution_count"),
                    metadata={},
                    data={"text/plain": repr(verdict["earned"])},
                )
            )

    def _record_verdict(self, cell, verdict):
        verdict = {"grade_id": nbgrader_meta(cell).get("grade_id"), **verdict}
        self.grading["verdicts"] = [
            v for v in self.grading["verdicts"] if v["grade_id"] != verdict["grade_id"]
        ] + [verdict]

    def _order_verdicts(self, nb):
        """One verdict per hidden test cell, in the notebook's order; unjudged ones 'not run'."""
        judged = {v["grade_id"]: v for v in self.grading["verdicts"]}
        ordered = []
        for cell in nb.cells:
            match = HIDDEN_CALL.search(cell.source) if utils.is_grade(cell) else None
            if match is None:
                continue
            grade_id = nbgrader_meta(cell).get("grade_id")
            suite = match.group(1)
            ordered.append(
                judged.get(grade_id)
                or {
                    "grade_id": grade_id,
                    "suite": suite,
                    "function": checks.SUITES[suite][0],
                    "points": float(nbgrader_meta(cell).get("points", 0)),
                    "earned": 0.0,
                    "status": "not run",
                    "reason": self.grading["not_run"].get(cell.get("id"), "not run"),
                    "checks": [],
                }
            )
        self.grading["verdicts"] = ordered

    def _not_run(self, cell, reason):
        if cell.get("id"):
            self.grading["not_run"][cell.id] = reason

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

    def _notice(self, text):
        self.grading["notices"].append(text)

    def _flag(self, text):
        if text not in self.grading["flags"]:
            self.grading["flags"].append(text)

    def _collect_records(self):
        if not self.record_path.exists():
            return
        for line in self.record_path.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            self._flag(f"kernel {record['kind']}: {record['detail']}")
