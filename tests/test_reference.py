"""The instructor's reference, tested on its own: gradient checks and the lab's contract."""

import random
import warnings

import numpy as np
import pytest

from coursepack.checks import SUITES
from coursepack.dataset import make_rows
from coursepack.hidden_tests import grade
from coursepack.reference import load_reference

REF = load_reference()


def relative_error(a, b):
    return abs(a - b) / max(abs(a) + abs(b), 1e-12)


def red(row, input_weights, hidden_weight):
    return REF.feed_forward(row, input_weights, hidden_weight)[1]


@pytest.mark.parametrize("seed", range(5))
def test_derivatives_match_central_differences(seed):
    rng, h = np.random.default_rng(seed), 1e-6
    for _ in range(200):
        n = int(rng.integers(1, 6))
        row, w0, w1 = rng.normal(0, 2, n), rng.normal(0, 2, n), float(rng.normal(0, 2))
        numeric = (red(row, w0, w1 + h) - red(row, w0, w1 - h)) / (2 * h)
        analytic = REF.hidden_weight_update(w1, REF.sigmoid(np.dot(w0, row)))
        assert relative_error(numeric, analytic) < 1e-6 or abs(numeric - analytic) < 1e-9
        for i in range(n):
            nudge = np.eye(n)[i] * h
            numeric = (red(row, w0 + nudge, w1) - red(row, w0 - nudge, w1)) / (2 * h)
            analytic = REF.input_hidden_weight_update(w1, w0, row, i)
            assert relative_error(numeric, analytic) < 1e-6 or abs(numeric - analytic) < 1e-9


def test_lead_coef_is_the_sigmoids_slope():
    v, h = np.linspace(-8, 8, 101), 1e-6
    numeric = (REF.sigmoid(v + h) - REF.sigmoid(v - h)) / (2 * h)
    assert np.allclose(REF.lead_coef(v), numeric, atol=1e-9)


def test_sigmoid_properties():
    x = np.linspace(-50, 50, 1001)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning, even at +-1000
        s = REF.sigmoid(x)
        far = REF.sigmoid(np.array([-1000.0, 1000.0]))
    assert np.allclose(s + REF.sigmoid(-x), 1)
    assert np.all(np.diff(s) >= 0) and np.all((s >= 0) & (s <= 1))
    assert far.tolist() == [0.0, 1.0]
    assert isinstance(REF.sigmoid(0), float) and REF.sigmoid(0) == 0.5
    original = x.copy()
    REF.sigmoid(x)
    assert np.array_equal(x, original)


def test_relu_properties():
    x = np.array([[-2.0, 0.0], [0.5, 3.0]])
    assert REF.ReLU(x).tolist() == [[0.0, 0.0], [0.5, 3.0]]
    assert np.array_equal(REF.ReLU(REF.ReLU(x)), REF.ReLU(x))
    assert REF.ReLU(-1.5) == 0 and REF.ReLU(2) == 2
    assert x[0, 0] == -2.0


def test_parameters_per_step():
    assert [REF.parameters_per_step(n) for n in (1, 2, 7)] == [2, 3, 8]


@pytest.mark.parametrize("seed", range(8))
def test_firstNN_learns_and_keeps_its_contract(seed):
    data = make_rows()
    original = data.copy()
    np.random.seed(seed)
    random.seed(seed)
    input_weights, hidden_weight, predictions = REF.firstNN(data, 10)
    assert np.array_equal(data, original)
    assert input_weights.shape == (2,) and np.ndim(hidden_weight) == 0
    assert predictions.shape == (len(data),) and set(np.unique(predictions)) <= {0, 1}
    assert np.mean(predictions == data[:, -1]) >= 0.95


@pytest.mark.parametrize("suite", sorted(SUITES))
def test_the_reference_earns_full_marks_from_the_hidden_tests(suite):
    namespace = {name: getattr(REF, name) for name in dir(REF) if not name.startswith("_")}
    assert grade(suite, namespace, points=4) == 4.0
