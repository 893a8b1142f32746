"""The visible tests of the released notebook teach: each passes on the instructor's answers and on
every right answer of the mistake bank, fails on the untouched release (saying in a short line
which part is not written), and catches wrong answers from the bank with a message.

They run in-process, cheaply: the release's set-up cells, then a student's answer cells, then one
visible test cell, all in one namespace, as in a kernel (IPython magics aside).
"""

import contextlib
import io
import os
import re
import sys

import nbformat
import pytest
from bank_entries import bank_entries

from coursepack.checks import GRADED_FUNCTIONS
from coursepack.submissions import RELEASE_FOLDER, answer_cells, reference_answers

RELEASED = nbformat.read(RELEASE_FOLDER / "lab21.ipynb", as_version=4)
VISIBLE_TEST = re.compile(r'^with visible_test\("Part (\w)", (\w+)[,)]', re.MULTILINE)
SET_UP = ("imports", "load_data")  # the cells every later cell relies on


def visible_tests():
    """{function: (part letter, source)} for every cell of the release that runs visible tests."""
    found = {}
    for cell in RELEASED.cells:
        match = VISIBLE_TEST.search(cell.source) if cell.cell_type == "code" else None
        if match:
            found[match.group(2)] = (match.group(1), cell.source)
    return found


TESTS = visible_tests()
BANK = bank_entries()
RELEASE_STUBS = {gid: cell.source for gid, cell in answer_cells(RELEASED).items()}
CODE_ANSWERS = [gid for gid, cell in answer_cells(RELEASED).items() if cell.cell_type == "code"]


@pytest.fixture(scope="module")
def set_up():
    """The namespace after the release's set-up cells, run in the release folder."""
    namespace = {"__name__": "__main__"}
    here = os.getcwd()
    sys.path.insert(0, str(RELEASE_FOLDER))
    os.chdir(RELEASE_FOLDER)
    try:
        for cell in RELEASED.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") in SET_UP:
                lines = cell.source.splitlines()
                code = "\n".join(line for line in lines if not line.startswith("%"))
                exec(compile(code, "<set-up>", "exec"), namespace)
    finally:
        os.chdir(here)
    yield namespace
    sys.path.remove(str(RELEASE_FOLDER))


def run_visible_test(set_up, function, answers, first=()):
    """Run `function`'s visible test after the answer cells `answers` (grade_id -> source), and
    after the visible tests of the functions `first`, whatever their outcome.

    Returns (None, printed text) when it passes, or (the exception, printed text).
    """
    namespace = dict(set_up)
    sys.modules["lab21_checks"].RESULTS.clear()  # a fresh kernel knows no earlier results
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        for grade_id in CODE_ANSWERS:
            exec(compile(answers[grade_id], f"<answer {grade_id}>", "exec"), namespace)
        for earlier in first:
            with contextlib.suppress(Exception):
                exec(compile(TESTS[earlier][1], f"<visible test of {earlier}>", "exec"), namespace)
        try:
            exec(compile(TESTS[function][1], f"<visible test of {function}>", "exec"), namespace)
        except Exception as error:  # the test failed: that is the result
            return error, printed.getvalue()
    return None, printed.getvalue()


def with_entry(entry):
    """The instructor's answers with the bank entry's one cell in place."""
    return {**reference_answers(), entry.function: entry.source}


def test_every_graded_function_has_a_visible_test():
    assert sorted(TESTS) == sorted(GRADED_FUNCTIONS)
    assert sorted(part for part, _ in TESTS.values()) == list("ABCDEFGHJ")


@pytest.mark.parametrize("function", sorted(TESTS))
def test_passes_on_the_reference(set_up, function):
    error, printed = run_visible_test(set_up, function, reference_answers())
    assert error is None, f"{type(error).__name__}: {error}\n{printed}"
    part = TESTS[function][0]
    assert f"Part {part}: {function} passes the visible tests." in printed


@pytest.mark.parametrize("function", sorted(TESTS))
def test_fails_on_the_untouched_release_in_two_short_lines(set_up, function):
    error, _ = run_visible_test(set_up, function, RELEASE_STUBS)
    assert type(error).__name__ == "NotWrittenYet"
    part = TESTS[function][0]
    assert error.lines == [
        f"NotWrittenYet: Part {part} is not written yet:",
        f"{function} still raises NotImplementedError.",
    ]
    # nbgrader validate prints 90 columns, indented by 4: nothing is cut off.
    assert all(len(line) <= 83 for line in error.lines)


def test_a_part_that_calls_an_unwritten_one_says_which(set_up):
    answers = {**reference_answers(), "lead_coef": RELEASE_STUBS["lead_coef"]}
    error, _ = run_visible_test(set_up, "hidden_weight_update", answers)
    assert error.lines == [
        "NotWrittenYet: Part F cannot be checked yet:",
        "hidden_weight_update calls lead_coef, which still raises NotImplementedError.",
    ]


@pytest.mark.parametrize("function", sorted(TESTS))
def test_catches_wrong_answers_from_the_bank_with_a_message(set_up, function):
    caught, missed = [], []
    for entry in (e for e in BANK if e.function == function and e.expect == "wrong"):
        error, _ = run_visible_test(set_up, function, with_entry(entry))
        if error is None:
            missed.append(entry.name)
            continue
        caught.append(entry.name)
        if isinstance(error, AssertionError):
            assert str(error), f"{entry.name}: an assertion without a message"
    assert caught, f"no wrong answer of {function} fails its visible test (missed: {missed})"
    print(f"\n{function}: visible test catches {len(caught)} of {len(caught) + len(missed)}")


@pytest.mark.parametrize(
    "entry",
    [e for e in BANK if e.expect == "correct"],
    ids=lambda e: e.student_id,
)
@pytest.mark.filterwarnings("ignore")  # some right answers warn: that must not fail them
def test_right_answers_from_the_bank_pass(set_up, entry):
    """Visible tests never reject a right answer (warnings and stderr included)."""
    error, printed = run_visible_test(set_up, entry.function, with_entry(entry))
    assert error is None, f"{entry.why}\n{type(error).__name__}: {error}\n{printed}"


def test_firstNN_loop_rules_are_checked_with_reasons(set_up):
    """Rule 2 (every derivative of a row before any weight moves) is checked by the visible test
    only: the hidden tests do not grade it (the bank's entry records that gap)."""
    (entry,) = [e for e in BANK if e.name == "moves_hidden_weight_first"]
    error, _ = run_visible_test(set_up, "firstNN", with_entry(entry))
    assert isinstance(error, AssertionError)
    assert "compute all the derivatives of a row first, then move the weights" in str(error)
    (entry,) = [e for e in BANK if e.name == "inlines_derivatives"]
    error, _ = run_visible_test(set_up, "firstNN", with_entry(entry))
    assert "called hidden_weight_update 0 times; expected once per row per epoch: 40" in str(error)


def test_a_part_failing_because_of_another_says_which(set_up):
    """Visible tests use the student's own functions: a wrong lead_coef also fails Part F's
    visible test, which then names Part E's function as the one to fix first."""
    wrong = {e.name: e for e in BANK if e.function == "lead_coef"}["of_output"]
    answers = with_entry(wrong)
    error, _ = run_visible_test(set_up, "hidden_weight_update", answers, first=["lead_coef"])
    assert isinstance(error, AssertionError)
    assert error.__notes__ == [
        "(it uses lead_coef, which fails its own visible tests: fix that first)"
    ]
    # Without lead_coef's own failure on record, no note: the message is about Part F alone.
    error, _ = run_visible_test(set_up, "hidden_weight_update", answers)
    assert not getattr(error, "__notes__", None)
