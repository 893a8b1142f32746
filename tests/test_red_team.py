"""The red team: a class of attackers between two honest students, graded for real.

Every attack in tests/red_team/ (an answer file each) and the notebook-level attacks built below
are graded in one class, twice: by the real `nbgrader autograde` (serial, the command line an
instructor runs) and by `coursepack.classgrade` with two workers. For each attacker: the attacked
function earns nothing; the honest students' grades are exactly full marks, the same both ways;
the run completes; no process of the sandbox survives; nothing of the course changed (hashed);
no reference code or hidden check reaches a graded notebook or a feedback page.
"""

import hashlib
import re
import subprocess
import time
from pathlib import Path

import nbformat
import pytest

from coursepack import ASSIGNMENT, COURSE_ROOT, sandbox_launch
from coursepack.build import run_nbgrader
from coursepack.checks import GRADED_FUNCTIONS
from coursepack.classgrade import grade_class
from coursepack.course import copy_course
from coursepack.grade import scores_by_part
from coursepack.guarded_execute import METADATA_KEY
from coursepack.submissions import (
    nbgrader_meta,
    parse_answer_file,
    reference_answers,
    submission_notebook,
    write_submission,
)

pytestmark = pytest.mark.slow

RED_TEAM = Path(__file__).parent / "red_team"
HONEST = ("aaa_honest_first", "zzz_honest_last")
# Strings found only in the reference module and the hidden checks (not in the notebook, whose
# solution regions the honest students submit): none may reach a student.
SECRETS = (
    "The instructor's answers to Lab 21",  # the reference module's docstring
    "def judge_suite",
    "def build_checks",
    "def implied_predictions",
    "Rows whose Red is within rounding",
)
AUTO_PARTS = GRADED_FUNCTIONS


def header(path, field):
    match = re.search(rf"^# {field}: (.+)$", path.read_text(), re.MULTILINE)
    return match.group(1).strip() if match else None


ATTACK_FILES = sorted(RED_TEAM.glob("*.py"))
ATTACKED = {path.stem: header(path, "attacks") for path in ATTACK_FILES}

# Attacks on the grader itself, with the functions they must not earn (none: they only probe or
# stall, and the rest of their notebook is the instructor's).
NOTEBOOK_ATTACKS = {
    # A cell after every test that looks for the probes, the checks and the reference in the
    # kernel's history, namespace, modules and memory, prints what it finds and writes it to a
    # file (which nbgrader would copy into the feedback folder if the kernel could write there).
    "history_probe": (),
    # firstNN's answer and tests moved to the top: firstNN captures the functions the grader lends
    # it, and every other answer is a one-line stub calling what was captured.
    "reordered_capture": (
        "sigmoid",
        "ReLU",
        "feed_forward",
        "sigmoid_perceptron",
        "lead_coef",
        "hidden_weight_update",
        "input_hidden_weight_update",
    ),
    # A cell that kills the kernel only while it is replayed, and a last cell that kills the
    # kernel to cause replays: grading must still end, within the notebook's budget.
    "replay_killer": (),
    # A correct sigmoid that prints 100 MB and thousands of lines: the graded notebook stays small.
    "output_flood": (),
    # The notebook's metadata carries grading notices of its own making (a plea for points, and
    # 200 kB of padding): none reaches the grading record.
    "notice_forger": (),
}
FORGED_NOTICE = "the grader lost this cell's result; please award the points by hand"

HISTORY_PROBE = """
import gc, sys
texts = [repr(In), repr(_ih), repr(Out), repr(sorted(globals())), repr(sorted(sys.modules))]
texts += [repr(list(get_ipython().history_manager.get_range(raw=True, output=False)))]
texts += [obj for obj in gc.get_objects() if isinstance(obj, str) and len(obj) > 20]
everything = "\\n".join(texts)
# The needles are stored reversed: this cell's own source must not contain them.
SECRETS = [needle[::-1] for needle in {secrets!r}]
print("FOUND:", [secret for secret in SECRETS if secret in everything])
open("leak.txt", "w").write(everything[:5_000_000])
"""

CAPTURING_FIRSTNN = """
captured = {}


def firstNN(data, epochs, learning_rate=0.5):
    scope = globals()
    for name in ("sigmoid", "ReLU", "feed_forward", "sigmoid_perceptron", "lead_coef",
                 "hidden_weight_update", "input_hidden_weight_update"):
        captured[name] = scope.get(name)
        try:
            import marshal
            with open(f"/tmp/{name}.code", "wb") as handle:
                handle.write(marshal.dumps(scope[name].__code__))
        except Exception:
            pass
"""

STUBS = {
    "sigmoid": "def sigmoid(x):\n    return captured['sigmoid'](x)\n",
    "ReLU": "def ReLU(x):\n    return captured['ReLU'](x)\n",
    "feed_forward": "def feed_forward(data_row, input_weights, hidden_weight):\n"
    "    return captured['feed_forward'](data_row, input_weights, hidden_weight)\n",
    "sigmoid_perceptron": "def sigmoid_perceptron(data_row, weights):\n"
    "    return captured['sigmoid_perceptron'](data_row, weights)\n",
    "lead_coef": "def lead_coef(val_fx):\n    return captured['lead_coef'](val_fx)\n",
    "hidden_weight_update": "def hidden_weight_update(curr_hidden_weight, hidden_output):\n"
    "    return captured['hidden_weight_update'](curr_hidden_weight, hidden_output)\n",
    "input_hidden_weight_update": "def input_hidden_weight_update(curr_hidden_weight,"
    " input_weights, data_row, weight_index):\n    return captured['input_hidden_weight_update']("
    "curr_hidden_weight, input_weights, data_row, weight_index)\n",
}

REPLAYED_KILLER = (
    "import os\n\n"
    "if get_ipython().execution_count <= 1:  # only a replay runs this first\n"
    "    os._exit(1)\n\n\n"
)

FLOOD = "\n\nprint('x' * 100_000_000)\nfor line in range(20_000):\n    print(line, 'y' * 60)\n"


def code_cell(source):
    return nbformat.v4.new_code_cell(source)


def notebook_attack(name):
    """The submission notebook of one notebook-level attack."""
    answers = reference_answers()
    if name == "history_probe":
        notebook = submission_notebook({})
        reversed_secrets = [secret[::-1] for secret in SECRETS]
        notebook.cells.append(code_cell(HISTORY_PROBE.format(secrets=reversed_secrets)))
        return notebook
    if name == "reordered_capture":
        body = answers["firstNN"].split("\n", 1)[1]  # the reference loop, after its def line
        capturing = CAPTURING_FIRSTNN + body
        notebook = submission_notebook({"firstNN": capturing, **STUBS})
        firstNN_cells = [
            cell
            for cell in notebook.cells
            if "firstNN" in (nbgrader_meta(cell).get("grade_id") or "")
        ]
        others = [cell for cell in notebook.cells if cell not in firstNN_cells]
        notebook.cells = others[:3] + firstNN_cells + others[3:]
        return notebook
    if name == "replay_killer":
        notebook = submission_notebook({"ReLU": REPLAYED_KILLER + answers["ReLU"]})
        notebook.cells.append(code_cell("import os\nos._exit(1)\n"))
        return notebook
    if name == "output_flood":
        return submission_notebook({"sigmoid": answers["sigmoid"] + FLOOD})
    if name == "notice_forger":
        notebook = submission_notebook({})
        notebook.metadata[METADATA_KEY] = {"notices": [FORGED_NOTICE, "x" * 200_000], "flags": []}
        return notebook
    raise ValueError(name)


def write_class(course, students):
    submitted = course / "submitted"
    for student in students:
        folder = submitted / student / ASSIGNMENT
        if student in HONEST:
            write_submission(folder, submission_notebook({}))
        elif student in NOTEBOOK_ATTACKS:
            write_submission(folder, notebook_attack(student))
        else:
            text = (RED_TEAM / f"{student}.py").read_text()
            text = text.replace("@COURSE@", str(course)).replace("@REPO@", str(COURSE_ROOT))
            base, answers = parse_answer_file(text)
            write_submission(folder, submission_notebook(answers, base))
    skip = submitted / "skip_tag" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    if skip.exists():
        notebook = nbformat.read(skip, as_version=4)
        for cell in notebook.cells:
            if (nbgrader_meta(cell).get("grade_id") or "").startswith("test_lead_coef"):
                cell.metadata["tags"] = ["skip-execution"]
        nbformat.write(notebook, skip)


def course_hash(course):
    """Everything of the course that grading must leave as it was, and the repo's own code."""
    digest = hashlib.sha256()
    places = [course / "source", course / "release", course / "submitted"]
    places += [COURSE_ROOT / "solutions", COURSE_ROOT / "coursepack"]
    files = [course / "nbgrader_config.py"]
    for place in places:
        files += sorted(p for p in place.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in files:
        digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def sandbox_processes(slots):
    """Live (not zombie) processes of the users of these sandbox slots."""
    uids = {sandbox_launch.slot_uid(slot) for slot in slots}
    listing = subprocess.run(
        ["ps", "-eo", "uid=,stat=,pid=,args="], capture_output=True, text=True, check=True
    ).stdout
    found = []
    for line in listing.splitlines():
        uid, stat, pid, *args = line.split(None, 3)
        if int(uid) in uids and not stat.startswith("Z"):
            found.append(f"{pid} {' '.join(args)[:120]}")
    return found


def quick_timeouts(course):
    # Short limits keep the suite quick; the behaviour is the same at the defaults.
    config = course / "nbgrader_config.py"
    config.write_text(
        config.read_text()
        + "\nc.Execute.timeout = 8\nc.GuardedExecute.quick_cell_seconds = 4\n"
        + "c.GuardedExecute.check_seconds = 5.0\nc.GuardedExecute.notebook_seconds = 240\n"
    )


class Graded:
    def __init__(self, course, students, seconds, hash_before):
        self.course, self.students = course, students
        self.seconds, self.hash_before = seconds, hash_before
        self.scores = scores_by_part(course)
        self.slots = sorted({slot for s in students for slot in self.record(s).get("slots", [])})
        deadline = time.monotonic() + 10
        while sandbox_processes(self.slots) and time.monotonic() < deadline:
            time.sleep(0.2)
        self.survivors = sandbox_processes(self.slots)

    def points(self, student, part):
        return self.scores[student][part][0]

    def full_marks(self, student, part):
        score, max_score, _ = self.scores[student][part]
        return score == max_score

    def notebook(self, student):
        path = self.course / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        return path

    def record(self, student):
        return nbformat.read(self.notebook(student), as_version=4).metadata.get(METADATA_KEY, {})


def scratch_class(tmp_path_factory, name, students):
    course = copy_course(tmp_path_factory.mktemp(name) / "course")
    quick_timeouts(course)
    write_class(course, students)
    return course


@pytest.fixture(scope="module")
def by_nbgrader(tmp_path_factory):
    course = scratch_class(tmp_path_factory, "red_team_cli", BY_COMMAND_LINE)
    before = course_hash(course)
    started = time.perf_counter()
    run_nbgrader("autograde", ASSIGNMENT, "--force", course_root=course)
    run_nbgrader("generate_feedback", ASSIGNMENT, "--force", course_root=course)
    seconds = time.perf_counter() - started
    return Graded(course, BY_COMMAND_LINE, seconds, before)


@pytest.fixture(scope="module")
def by_classgrade(tmp_path_factory):
    course = scratch_class(tmp_path_factory, "red_team", STUDENTS)
    before = course_hash(course)
    summary = grade_class(course, workers=2, force=True, progress=False)
    graded = Graded(course, STUDENTS, summary.seconds, before)
    graded.summary = summary
    return graded


@pytest.fixture(params=["nbgrader autograde", "classgrade, 2 workers"])
def graded(request):
    name = "by_nbgrader" if request.param == "nbgrader autograde" else "by_classgrade"
    return request.getfixturevalue(name)


STUDENTS = [*HONEST, *ATTACKED, *NOTEBOOK_ATTACKS]
# The command line grades a smaller class: the attacks on the run itself (on the grader, the
# students graded after, the gradebook). Both ways run the same Execute step.
BY_COMMAND_LINE = [
    *HONEST,
    "signals",
    "daemons",
    "vandal",
    "other_kernels",
    "fork_bomb",
    "forged_report",
    "read_bypass",
]


def test_every_submission_was_graded(graded):
    assert sorted(graded.scores) == sorted(graded.students)
    for student in graded.students:
        assert graded.notebook(student).exists(), student


def test_honest_students_get_full_marks(graded):
    for student in HONEST:
        assert [p for p in AUTO_PARTS if not graded.full_marks(student, p)] == [], student
        assert graded.record(student)["flags"] == [], student


# A firstNN that never learns keeps the contract's credit for the shape of its loop (one call
# per row and epoch, shuffled rows, a sigmoid hidden value) and earns nothing that needs learning.
LEARNS_NOTHING = {
    "labels_as_predictions": (
        "firstNN updates every weight after each row",
        "firstNN's predictions come from its weights, in row order",
    )
}


@pytest.mark.parametrize("attack", sorted(ATTACKED))
def test_the_attacked_function_earns_nothing(graded, attack):
    if attack not in graded.students:
        pytest.skip("graded by classgrade only")
    if attack in LEARNS_NOTHING:
        verdicts = {v["suite"]: v for v in graded.record(attack)["verdicts"]}
        assert verdicts["firstNN_accuracy"]["earned"] == 0
        contract = verdicts["firstNN_contract"]["checks"]
        failed = {check["description"] for check in contract if not check["passed"]}
        assert failed >= set(LEARNS_NOTHING[attack])
        return
    assert graded.points(attack, ATTACKED[attack]) == 0


@pytest.mark.parametrize("attack", sorted(NOTEBOOK_ATTACKS))
def test_grader_attacks_gain_nothing(graded, attack):
    if attack not in graded.students:
        pytest.skip("graded by classgrade only")
    stubbed = NOTEBOOK_ATTACKS[attack]
    for part in AUTO_PARTS:
        if part in stubbed:
            assert graded.points(attack, part) == 0, part
        else:
            assert graded.full_marks(attack, part), part


def test_the_course_did_not_change(graded):
    assert course_hash(graded.course) == graded.hash_before


def test_no_process_survives_grading(graded):
    assert graded.slots  # the kernels ran in sandbox slots, whose users now run nothing
    assert graded.survivors == []


def test_no_secret_reaches_a_graded_notebook_or_feedback(graded):
    # What a student may get back: graded notebooks and feedback (the grading record and logs
    # stay with the instructor).
    places = [p for p in (graded.course / "autograded").rglob("*") if "grading_" not in str(p)]
    places += list((graded.course / "feedback").rglob("*"))
    assert places
    for path in places:
        if path.is_file():
            text = path.read_bytes()
            for secret in SECRETS:
                assert secret.encode() not in text, (path, secret)
    assert not list((graded.course / "feedback").rglob("leak.txt"))
    assert not list((graded.course / "autograded").rglob("leak.txt"))


def test_the_history_probe_finds_nothing(by_classgrade):
    graded = by_classgrade
    notebook = nbformat.read(graded.notebook("history_probe"), as_version=4)
    printed = "".join(o.get("text", "") for o in notebook.cells[-1].get("outputs", []))
    assert "FOUND: []" in printed


def test_side_kernel_verdicts_carry_no_numbers_of_the_students(by_classgrade):
    """firstNN ran beside the reference's code: its failed checks say only that they failed."""
    verdicts = by_classgrade.record("side_kernel_leak")["verdicts"]
    messages = [c["message"] for v in verdicts if v["function"] == "firstNN" for c in v["checks"]]
    failed = [message for message in messages if message]
    assert failed and all("details withheld" in message for message in failed)
    assert not any("shape" in message for message in failed)


def test_forged_notices_are_dropped(by_classgrade):
    record = by_classgrade.record("notice_forger")
    assert not any(FORGED_NOTICE in notice for notice in record["notices"])
    assert all(len(notice) < 1000 for notice in record["notices"])


def test_output_floods_are_cut(by_classgrade):
    graded = by_classgrade
    path = graded.notebook("output_flood")
    assert path.stat().st_size < 3 * 1024**2
    assert "output truncated" in path.read_text()


def test_both_ways_give_the_same_grades(by_nbgrader, by_classgrade):
    """Honest students alike, attacked functions nothing, both ways (attacks that race their own
    probes, like the daemons, may cost them other points differently from run to run)."""
    for student in HONEST:
        assert by_nbgrader.scores[student] == by_classgrade.scores[student]
    for student in BY_COMMAND_LINE:
        if student in ATTACKED:
            part = ATTACKED[student]
            assert by_nbgrader.points(student, part) == by_classgrade.points(student, part) == 0
