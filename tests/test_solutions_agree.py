"""The master notebook's solution regions and solutions/lab21_reference.py are the same answers."""

import random

import numpy as np
import pytest

from coursepack.checks import GRADED_FUNCTIONS, SUITES
from coursepack.dataset import make_rows
from coursepack.hidden_tests import grade
from coursepack.reference import load_reference
from coursepack.submissions import reference_answers

REF = load_reference()


@pytest.fixture(scope="module")
def notebook_answers():
    namespace = {"np": np, "random": random}
    for grade_id, source in reference_answers().items():
        if grade_id in GRADED_FUNCTIONS:
            exec(compile(source, f"<answer {grade_id}>", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("name", GRADED_FUNCTIONS[:-1])
def test_same_results_on_random_inputs(notebook_answers, name):
    rng = np.random.default_rng(21)
    for _ in range(50):
        n = int(rng.integers(1, 5))
        row, w0, w1, x = (
            rng.normal(0, 2, n),
            rng.normal(0, 2, n),
            float(rng.normal()),
            rng.normal(0, 30, (3, n)),
        )
        args = {
            "sigmoid": (x,), "ReLU": (x,), "lead_coef": (x,), "parameters_per_step": (n,),
            "feed_forward": (row, w0, w1), "sigmoid_perceptron": (row, w0),
            "hidden_weight_update": (w1, float(rng.uniform())),
            "input_hidden_weight_update": (w1, w0, row, int(rng.integers(n))),
        }[name]  # fmt: skip
        assert np.allclose(notebook_answers[name](*args), getattr(REF, name)(*args), rtol=0, atol=0)


def test_same_training_run(notebook_answers):
    data = make_rows()
    runs = []
    for firstNN in (notebook_answers["firstNN"], REF.firstNN):
        np.random.seed(7)
        runs.append(firstNN(data, 5))
    for mine, theirs in zip(*runs, strict=True):
        assert np.array_equal(mine, theirs)


@pytest.mark.parametrize("suite", sorted(SUITES))
def test_the_notebooks_answers_earn_full_marks(notebook_answers, suite):
    assert grade(suite, notebook_answers, points=2) == 2.0
