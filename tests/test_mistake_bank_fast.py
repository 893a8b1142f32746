"""The mistake bank graded in-process: each entry's function through its hidden suites, no nbgrader.

A quick check while writing entries or changing the hidden tests. Only the entry's own suites run
here (every other function is the reference's, so it cannot lose points in-process); that one
mistake costs one function only is checked by tests/test_mistake_bank.py, which grades the same
entries through the real nbgrader autograde.
"""

import contextlib
import io
import random
import re
from collections import defaultdict

import nbformat
import numpy as np
import pytest
from bank_entries import bank_entries, judge, verdict_table

from coursepack.checks import GRADED_FUNCTIONS
from coursepack.grade import part_of
from coursepack.hidden_tests import grade
from coursepack.reference import load_reference
from coursepack.submissions import SOURCE_NOTEBOOK, nbgrader_meta

REF = load_reference()
# A hidden test cell's call, e.g. grade("sigmoid", globals(), points=3).
GRADE_CALL = re.compile(r"""grade\(\s*["'](\w+)["'],\s*globals\(\),\s*points=([\d.]+)\s*\)""")
ENTRIES = bank_entries()


def hidden_suites():
    """[(part, suite, points)] for every hidden test cell of the master notebook."""
    suites = []
    for cell in nbformat.read(SOURCE_NOTEBOOK, as_version=4).cells:
        meta = nbgrader_meta(cell)
        if cell.cell_type == "code" and meta.get("grade") and meta.get("points"):
            for suite, points in GRADE_CALL.findall(cell.source):
                suites.append((part_of(meta["grade_id"]), suite, float(points)))
    return suites


SUITES = hidden_suites()


def student_namespace(entry):
    """What a notebook with the reference answers and this entry's one cell would hold."""
    namespace = {"__name__": "__main__", "np": np, "random": random}
    namespace.update({name: getattr(REF, name) for name in GRADED_FUNCTIONS})
    exec(compile(entry.source, str(entry.path), "exec"), namespace)
    return namespace


def grade_in_process(entry):
    """({part: (earned, possible)} for the entry's own part, the grader's messages)."""
    namespace = student_namespace(entry)
    scores = defaultdict(lambda: [0.0, 0.0])
    output = io.StringIO()
    for part, suite, points in SUITES:
        if part != entry.function:
            continue
        with contextlib.redirect_stdout(output):
            earned = grade(suite, namespace, points)
        scores[part][0] += earned
        scores[part][1] += points
    return {part: tuple(pair) for part, pair in scores.items()}, output.getvalue()


def test_every_graded_function_has_hidden_suites():
    assert {part for part, _, _ in SUITES} == set(GRADED_FUNCTIONS)


def test_bank_covers_every_function_both_ways():
    for function in GRADED_FUNCTIONS:
        kinds = {entry.expect for entry in ENTRIES if entry.function == function}
        assert "wrong" in kinds, f"no wrong implementation of {function} in the bank"
    assert sum(entry.expect == "wrong" for entry in ENTRIES) >= 40
    assert sum(entry.expect == "correct" for entry in ENTRIES) >= 15


def with_known_gaps(entries):
    """A known gap is expected to get the wrong verdict: strict, so that a fixed gap shows up."""
    return [
        pytest.param(
            entry,
            id=entry.student_id,
            marks=pytest.mark.xfail(strict=True, reason=entry.known_gap) if entry.known_gap else (),
        )
        for entry in entries
    ]


@pytest.mark.parametrize("entry", with_known_gaps(ENTRIES))
def test_entry_verdict_in_process(entry):
    scores, messages = grade_in_process(entry)
    verdict = judge(entry, scores)
    assert verdict.right, f"{verdict_table([verdict])}\n\n{entry.why}\n{messages}"
