"""Pathological and hostile submissions, graded by the real `nbgrader autograde`.

Each attacker sits in one class with an honest student. The attacked function must score 0,
every other function full marks, the honest student full marks, and the attempt must show up in
the grading record where the guard can see it.
"""

import nbformat
import pytest

from coursepack.checks import GRADED_FUNCTIONS
from coursepack.course import Course
from tests.conftest import grade_class

AUTO_PARTS = GRADED_FUNCTIONS  # every automatically graded part

ATTACKS = {
    # 4. pathological code
    "endless_loop": ("sigmoid", "def sigmoid(x):\n    while True:\n        pass\n"),
    "loop_ignores_interrupts": (
        "lead_coef",
        "def lead_coef(val_fx):\n"
        "    while True:\n"
        "        try:\n"
        "            while True:\n"
        "                pass\n"
        "        except BaseException:\n"
        "            pass\n",
    ),
    "os_exit": ("ReLU", "import os\n\n\ndef ReLU(x):\n    os._exit(3)\n"),
    "segfault": (
        "feed_forward",
        "import ctypes\n\n\ndef feed_forward(data_row, input_weights, hidden_weight):\n"
        "    return ctypes.string_at(0)\n",
    ),
    "memory_bomb": (
        "sigmoid_perceptron",
        "def sigmoid_perceptron(data_row, weights):\n    hog = np.ones(2 * 10**9)\n"
        "    return float(hog[0])\n",
    ),
    "takes_minutes": (
        "hidden_weight_update",
        "import time\n\n\ndef hidden_weight_update(curr_hidden_weight, hidden_output):\n"
        "    time.sleep(600)\n",
    ),
    # 5. known exploits
    "equals_anything": (
        "input_hidden_weight_update",
        "class Anything(float):\n"
        "    def __eq__(self, other):\n        return True\n"
        "    def __array__(self, *args, **kwargs):\n        raise TypeError('not an array')\n\n\n"
        "def input_hidden_weight_update(curr_hidden_weight, input_weights, data_row, i):\n"
        "    return Anything()\n",
    ),
    "patched_numpy": (
        "sigmoid",
        "np.isclose = lambda *args, **kwargs: np.array(True)\n"
        "np.allclose = lambda *args, **kwargs: True\n"
        "np.testing.assert_allclose = lambda *args, **kwargs: None\n\n\n"
        "def sigmoid(x):\n    return x\n",
    ),
    "silenced_traceback": (
        "lead_coef",
        "get_ipython().showtraceback = lambda *args, **kwargs: None\n\n\n"
        "def lead_coef(val_fx):\n    return -1.0\n",
    ),
    "reads_reference": (
        "firstNN",
        "from pathlib import Path\n\n\ndef firstNN(data, epochs):\n"
        "    namespace = {}\n"
        "    course = Path.cwd().parents[2]\n"
        "    exec((course / 'solutions' / 'lab21_reference.py').read_text(), namespace)\n"
        "    return namespace['firstNN'](data, epochs)\n",
    ),
    "skip_tag": ("lead_coef", "def lead_coef(val_fx):\n    return -1.0\n"),
    "vandal": (
        "parameters_per_step",
        "import os, sqlite3\nfrom pathlib import Path\n\n"
        "course = Path.cwd().parents[2]\n"
        "for attempt in (\n"
        "    lambda: (course / 'gradebook.db').write_text('gone'),\n"
        "    lambda: (course / 'source' / 'lab21' / 'lab21.ipynb').write_text('{}'),\n"
        "    lambda: (course / 'submitted' / 'honest' / 'lab21' / 'lab21.ipynb').unlink(),\n"
        "    lambda: os.rename(course / 'autograded' / 'honest', course / 'stolen'),\n"
        "    lambda: sqlite3.connect(course / 'gradebook.db').execute('DELETE FROM grade'),\n"
        "    lambda: os.system(f'rm -rf {course}/gradebook.db {course}/source'),\n"
        "):\n"
        "    try:\n        attempt()\n    except Exception:\n        pass\n\n\n"
        "def parameters_per_step(n_inputs):\n    return -1\n",
    ),
    "reads_gradebook": (
        "parameters_per_step",
        "from pathlib import Path\n\n\ndef parameters_per_step(n_inputs):\n"
        "    (Path.cwd().parents[2] / 'gradebook.db').read_bytes()\n"
        "    return n_inputs + 1\n",
    ),
    "imports_grader": (
        "firstNN",
        "def firstNN(data, epochs):\n"
        "    from coursepack.reference import load_reference\n"
        "    return load_reference().firstNN(data, epochs)\n",
    ),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return _graded(tmp_path_factory)


def _graded(tmp_path_factory):
    from coursepack.course import copy_course

    course = copy_course(tmp_path_factory.mktemp("attacks") / "course")
    # Short cell timeouts keep the suite quick; the behaviour is the same at the defaults.
    (course / "nbgrader_config.py").write_text(
        (course / "nbgrader_config.py").read_text()
        + "\nc.Execute.timeout = 12\nc.GuardedExecute.quick_cell_seconds = 6\n"
    )
    source_before = Course.at(course).notebook("source").read_bytes()
    class_answers = {"honest": {}}
    class_answers.update({name: {part: code} for name, (part, code) in ATTACKS.items()})
    graded = grade_class(course, class_answers, before_grading=tag_tests_to_skip)
    graded.source_before = source_before
    return graded


def tag_tests_to_skip(course):
    """The skip_tag attacker tags lead_coef's test cells `skip-execution` (nbclient's tag for
    cells it must not run): a test that never runs would show no error, so full marks."""
    path = Course.at(course).notebook("submitted", "skip_tag")
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id", "").startswith("test_lead_coef"):
            cell.metadata["tags"] = ["skip-execution"]
    nbformat.write(notebook, path)


def test_the_honest_student_is_unaffected(graded):
    for part in AUTO_PARTS:
        assert graded.full_marks("honest", part), part
    assert graded.record("honest")["flags"] == []


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_an_attack_costs_only_its_own_function(graded, attack):
    attacked = ATTACKS[attack][0]
    assert graded.points(attack, attacked) == 0
    others = [part for part in AUTO_PARTS if part != attacked]
    assert [part for part in others if not graded.full_marks(attack, part)] == []


@pytest.mark.parametrize(
    "attack, evidence",
    [
        ("reads_reference", "lab21_reference.py"),
        ("reads_gradebook", "gradebook.db"),
        ("os_exit", "kernel died"),
        ("segfault", "kernel died"),
        ("loop_ignores_interrupts", "stopped responding"),
        ("patched_numpy", "patches a library"),
        ("silenced_traceback", "showtraceback"),
        ("vandal", "tried to change"),
        ("vandal", "tried to start a program"),
    ],
)
def test_the_attempt_is_reported(graded, attack, evidence):
    record = graded.record(attack)
    assert any(evidence in line for line in record["flags"] + record["notices"]), record


def test_the_vandal_changed_nothing_of_the_course(graded):
    course = Course.at(graded.course)
    assert course.notebook("source").read_bytes() == graded.source_before
    assert course.notebook("submitted", "honest").exists()
    assert course.notebook("autograded", "honest").exists()
    assert not (course.root / "stolen").exists()
    # The gradebook is whole: every student's scores read back, the honest one's in full.
    for part in AUTO_PARTS:
        assert graded.full_marks("honest", part)
