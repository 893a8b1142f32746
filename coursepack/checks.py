"""The hidden checks: each one a request (what to run) and a verdict (how to judge what ran).

A request is data: call the graded function with these arguments, or train firstNN on this
data from this seed. The probe agent in the student's kernel (coursepack.probe_agent) carries
it out and sends back plain facts (numbers, shapes, types, exceptions). The verdict is given
here, in the grading process, outside the student's kernel, against the reference answers.
Neither this module nor the reference ever enters a student's kernel.
"""

import contextlib
import os
import resource
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from coursepack.dataset import make_rows

PROBE_SECONDS = 10.0
FIRSTNN_EPOCHS = 10
ACCURACY_NEEDED = 0.95
DERIVATIVES = ("sigmoid", "lead_coef")
FORWARD_PASS = ("sigmoid", "ReLU", "feed_forward", "sigmoid_perceptron", "lead_coef")
TRAINING_PARTS = (*FORWARD_PASS, "hidden_weight_update", "input_hidden_weight_update")


class CheckFailed(Exception):
    """A verdict: the message says what was wrong."""


@dataclass
class Check:
    description: str  # what it checks, e.g. "sigmoid on the scalar 1.2"
    request: dict  # what the probe agent runs: {"op": "call", "args": [...]} or "train"
    verdict: Callable[[dict, Any], None]  # (facts, reference) -> raises CheckFailed


def call(*args):
    """A request to call the graded function once (on copies of the arrays)."""
    return {"op": "call", "args": list(args)}


def train(runs, epochs, seed, watch=False):
    """A request to train firstNN on each data set of `runs`, seeding both random generators
    with `seed` before each; with `watch`, its derivative calls are recorded."""
    return {"op": "train", "runs": list(runs), "epochs": epochs, "seed": seed, "watch": watch}


# ----------------------------------------------------------------------------------------------
# Facts: what a student's function returned, as plain data (coursepack.probe_agent.observe)


def numbers(fact, what):
    """The float array a fact describes, or CheckFailed saying why it is not one."""
    if fact.get("too_big"):
        raise CheckFailed(f"{what} returned an array of shape {tuple(fact['shape'])}, far too big")
    if "values" not in fact:
        raise CheckFailed(f"{what} returned {fact.get('repr', fact['type'])}, not a number")
    return np.asarray(fact["values"], dtype=float).reshape(fact["shape"])


def show(value):
    """A short, readable rendering of a number or array for a message."""
    if np.ndim(value) == 0:
        return f"{float(value):.6g}"
    array = np.asarray(value, dtype=float)
    if array.size > 6:
        return f"an array of shape {array.shape}"
    with np.printoptions(precision=4, suppress=True):
        return np.array2string(array)


def show_expected(value):
    """An expected value as feedback shows it: three significant digits, enough to see what is
    wrong, too few to copy as an answer (every check's tolerance is far finer), since the hidden
    inputs are the same for the whole class."""
    if np.ndim(value) == 0:
        return f"{float(value):.3g}"
    array = np.asarray(value, dtype=float)
    if array.size > 6:
        return f"an array of shape {array.shape}"
    with np.printoptions(precision=3, suppress=True):
        return np.array2string(array)


def call_text(name, *args):
    return f"{name}({', '.join(show(arg) if np.ndim(arg) < 2 else 'a 2-D array' for arg in args)})"


def expect_close(fact, want, what, rtol=1e-6, atol=1e-9):
    got = numbers(fact, what)
    want = np.asarray(want, dtype=float)
    if got.shape != want.shape:
        raise CheckFailed(f"{what} returned shape {got.shape}, expected shape {want.shape}")
    if not np.all(np.isfinite(got)):
        raise CheckFailed(f"{what} returned {show(got)}, which is not finite (nan or inf)")
    wrong = ~np.isclose(got, want, rtol=rtol, atol=atol)
    if not wrong.any():
        return
    if got.size <= 6:
        raise CheckFailed(f"{what} returned {show(got)}, expected {show_expected(want)}")
    first = tuple(int(i) for i in np.argwhere(wrong)[0])
    raise CheckFailed(
        f"{what}: {wrong.sum()} of {wrong.size} values are wrong; at index {first} it gave"
        f" {show(got[first])}, expected {show_expected(want[first])}"
    )


def relative_error(a, b):
    """CS231n's relative error, with a floor so that two tiny numbers count as equal."""
    return abs(a - b) / max(abs(a) + abs(b), 1e-8)


# ----------------------------------------------------------------------------------------------
# The suites. Each yields Checks; inputs are drawn from `rng` when the suite is built, so the
# kernel and the judge, building the same suite from the same seed, agree on every input.


def _changed(facts, args):
    """Whether the student's function changed any argument it was given."""
    return any(
        "values" not in after or not np.array_equal(np.asarray(after["values"]), arg)
        for after, arg in zip(facts["after"], args, strict=True)
    )


def _call_check(name, args, expected, description, scalar=False, elementwise=False):
    """A check that calls the student's function once and compares with the reference.

    scalar: a number went in, so a number must come out; elementwise: an array went in, so
    an array (not a list) must come out.
    """

    def verdict(facts, ref):
        what = call_text(name, *args)
        if _changed(facts, args):
            raise CheckFailed(f"{what} changed its input; return a new value instead")
        if scalar and len(facts["out"].get("shape", [])) != 0:
            raise CheckFailed(f"{what} returned an array; a number in should give a number out")
        if elementwise and facts["out"]["type"] != "ndarray":
            raise CheckFailed(
                f"{what} returned a {facts['out']['type']}; an array in should give a NumPy array"
            )
        expect_close(facts["out"], expected(ref), what)

    return Check(description, call(*args), verdict)


def _elementwise_checks(name, rng):
    """Shared by sigmoid and ReLU: scalars, arrays of any shape, ints, input left alone."""
    for x in [0.0, *np.round(rng.uniform(-6, 6, 3), 3)]:
        yield _call_check(
            name,
            [float(x)],
            lambda ref, x=float(x): getattr(ref, name)(x),
            f"{name} on the number {x:g}",
            scalar=True,
        )
    for shape in [(7,), (3, 4)]:
        values = rng.uniform(-8, 8, shape)
        yield _call_check(
            name,
            [values],
            lambda ref, values=values: getattr(ref, name)(values),
            f"{name} element-wise on an array of shape {shape}",
            elementwise=True,
        )
    ints = np.array([-3, 0, 2])
    yield _call_check(
        name,
        [ints],
        lambda ref: getattr(ref, name)(ints),
        f"{name} on an integer array",
        elementwise=True,
    )


def sigmoid_checks(rng):
    yield from _elementwise_checks("sigmoid", rng)
    far = np.array([-1000.0, -710.0, 710.0, 1000.0])
    yield _call_check(
        "sigmoid", [far], lambda ref: ref.sigmoid(far), "sigmoid far from 0", elementwise=True
    )


def relu_checks(rng):
    yield from _elementwise_checks("ReLU", rng)
    negatives = -rng.uniform(0.1, 5, 5)
    yield _call_check(
        "ReLU", [negatives], lambda ref: np.zeros(5), "ReLU of negative numbers", elementwise=True
    )


def feed_forward_checks(rng):
    for n in (1, 2, 4):
        args = [rng.normal(0, 1.5, n), rng.normal(0, 1.5, n), float(rng.normal(0, 2))]

        def verdict(facts, ref, args=args):
            what = call_text("feed_forward", *args)
            out = facts["out"]
            # A tuple, a list or an array of two: each unpacks as `purple, red = ...`.
            pair = out["type"] in ("tuple", "list", "ndarray") and out.get("shape") == [2]
            if not pair:
                raise CheckFailed(f"{what} should return a pair (purple, red)")
            expect_close(out, ref.feed_forward(*args), what)

        yield Check(f"feed_forward with {n} input(s)", call(*args), verdict)


def sigmoid_perceptron_checks(rng):
    for n in (2, 3, 5):
        args = [rng.normal(0, 1.5, n), rng.normal(0, 1.5, n)]
        yield _call_check(
            "sigmoid_perceptron",
            args,
            lambda ref, args=args: ref.sigmoid_perceptron(*args),
            f"sigmoid_perceptron on one row of {n} features",
        )


def lead_coef_checks(rng):
    for v in [0.0, *np.round(rng.uniform(-5, 5, 4), 3), 40.0]:
        yield _call_check(
            "lead_coef",
            [float(v)],
            lambda ref, v=float(v): ref.lead_coef(v),
            f"lead_coef at the pre-activation {v:g}",
        )
    values = rng.uniform(-4, 4, 6)
    yield _call_check(
        "lead_coef",
        [values],
        lambda ref: ref.lead_coef(values),
        "lead_coef on an array",
        elementwise=True,
    )


def _gradient_check(name, args, wiggle, description):
    """Compare the student's derivative of Red with a central difference of the reference's Red.

    wiggle(ref, h) gives Red with the weight in question moved by h.
    """
    step = 1e-6

    def verdict(facts, ref):
        what = call_text(name, *args)
        if _changed(facts, args):
            raise CheckFailed(f"{what} changed its input arrays")
        got = numbers(facts["out"], what)
        if got.size != 1 or not np.isfinite(got).all():
            raise CheckFailed(f"{what} returned {show(got)}; expected one finite number")
        got = float(got.reshape(-1)[0])
        numeric = (wiggle(ref, step) - wiggle(ref, -step)) / (2 * step)
        if relative_error(got, numeric) > 1e-5 and abs(got - numeric) > 1e-9:
            raise CheckFailed(
                f"{what} returned {got:.6g}; the numerical derivative of Red is about"
                f" {show_expected(numeric)} (relative error {relative_error(got, numeric):.1e};"
                " at most 1e-05 passes)"
            )

    return Check(description, call(*args), verdict)


def hidden_weight_update_checks(rng):
    for _ in range(5):
        n = int(rng.integers(1, 4))
        row, weights, hidden = rng.normal(0, 1.5, n), rng.normal(0, 1.5, n), float(rng.normal(0, 2))
        hidden_output = float(1 / (1 + np.exp(-np.dot(weights, row))))
        yield _gradient_check(
            "hidden_weight_update",
            [hidden, hidden_output],
            lambda ref, h, row=row, weights=weights, hidden=hidden: ref.feed_forward(
                row, weights, hidden + h
            )[1],
            f"hidden_weight_update at w1 = {hidden:.3g}, against a numerical derivative",
        )


def input_hidden_weight_update_checks(rng):
    for n in (1, 2, 3, 5):
        row, weights, hidden = rng.normal(0, 1.5, n), rng.normal(0, 1.5, n), float(rng.normal(0, 2))
        for index in sorted({0, n - 1}):
            nudge = np.eye(n)[index]
            yield _gradient_check(
                "input_hidden_weight_update",
                [hidden, weights, row, index],
                lambda ref, h, row=row, weights=weights, hidden=hidden, nudge=nudge: (
                    ref.feed_forward(row, weights + h * nudge, hidden)[1]
                ),
                f"input_hidden_weight_update with {n} inputs, weight {index}",
            )


def parameters_per_step_checks(rng):
    for n in (1, 2, int(rng.integers(3, 50))):
        yield _call_check(
            "parameters_per_step",
            [n],
            lambda ref, n=n: ref.parameters_per_step(n),
            f"parameters_per_step({n})",
        )


MAX_CALLS = 20_000  # recorded calls read from one run (an honest watched run makes <= 1,800)


def recorded_calls(run, data, what):
    """The derivative calls a watched run recorded, read strictly: ("hidden", H, w1) with two
    floats, or ("input", index, row, input weights) with an int and two float vectors of the
    data's width. The log comes from the student's kernel, which may write anything in it: an
    entry of another shape fails the check here, before any arithmetic, so that no shape the
    kernel chose can make the grader's own sums large."""
    log = run.get("log", [])
    n_inputs = data.shape[1] - 1
    if not isinstance(log, list) or len(log) > MAX_CALLS:
        raise CheckFailed(f"{what}: its recorded calls could not be read")
    calls = []
    for entry in log:
        if isinstance(entry, list) and len(entry) == 3 and entry[0] == "hidden":
            hidden_value, hidden_weight = entry[1], entry[2]
            if all(type(value) is float for value in (hidden_value, hidden_weight)):
                calls.append(("hidden", hidden_value, hidden_weight))
                continue
        elif isinstance(entry, list) and len(entry) == 4 and entry[0] == "input":
            index, row, weights = entry[1], _vector(entry[2], n_inputs), _vector(entry[3], n_inputs)
            if type(index) is int and row is not None and weights is not None:
                calls.append(("input", index, row, weights))
                continue
        raise CheckFailed(
            f"{what}: a call to hidden_weight_update or input_hidden_weight_update had arguments"
            " of the wrong kind or size (numbers for the weight and H; one value per input for"
            " the row and the input weights)"
        )
    return calls


def _vector(value, length):
    """A float vector of `length` from a recorded field (one value comes as a bare float)."""
    values = [value] if type(value) is float else value
    if not isinstance(values, list) or len(values) != length:
        return None
    if not all(type(item) is float for item in values):
        return None
    return np.array(values, dtype=float)


def _changing(values):
    """The share of consecutive steps at which each column of `values` changed."""
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return np.zeros(values.shape[1:] if values.ndim > 1 else ())
    return np.mean(values[1:] != values[:-1], axis=0)


def _weights_learned(log):
    """Whether the weights firstNN passed to its derivative functions changed as it trained:
    (share of steps at which each input weight changed, the same for the hidden weight)."""
    input_weights = [event[3] for event in log if event[0] == "input" and event[1] == 0]
    hidden_weights = [event[2] for event in log if event[0] == "hidden"]
    return _changing(input_weights), float(_changing(hidden_weights))


def _learning_rule_breaks(log, data, returned, tail=False):
    """Why the weights firstNN passed to its derivative functions, step after step, and the
    weights it returned, are not those of its own gradient descent; None when they are. `log`:
    the calls as recorded_calls reads them.

    From each row's calls: the weights before the step (w0, w1), the row and its label. One
    learning rate must explain every step: w1 moves by lr * (t - Red) * dRed/dw1 and w0 by
    lr * (t - Red) * dRed/dw0, every derivative taken before any weight moves; the returned
    weights are one more step on from the last row's. Weights worked out some other way (class
    means, say) behind calls made for show fail here, unless the calls' weights are a trail
    solved backwards from them (README, "What remains"). tail: the log is the end of the run
    only (its first step may be cut).
    """
    features, labels = data[:, :-1], data[:, -1]
    n_inputs = features.shape[1]
    hidden_first = bool(log) and log[0][0] == "hidden"
    steps = []
    for position, event in enumerate(log):
        if event[0] != "hidden":
            continue
        window = (
            range(position + 1, position + 1 + n_inputs)
            if hidden_first
            else range(position - n_inputs, position)
        )
        firsts = [log[i] for i in window if 0 <= i < len(log) and log[i][0] == "input"]
        firsts = [e for e in firsts if e[1] == 0]
        if not firsts and tail and min(window) < 0:
            continue  # the step began before the kept calls
        if not firsts:
            return "its calls do not show the weights of each step"
        _, _, row, weights = firsts[0]  # float vectors of the data's width (recorded_calls)
        match = np.flatnonzero(np.all(np.isclose(features, row), axis=1))
        if not match.size:
            return "its calls do not show the rows and weights of each step"
        steps.append((event[2], weights, row, labels[match[0]]))
    if len(steps) < 2:
        return "it made too few steps to follow"

    def direction(w1, weights, row, target):
        hidden = 1 / (1 + np.exp(-np.dot(weights, row)))
        red = 1 / (1 + np.exp(-w1 * hidden))
        common = (target - red) * red * (1 - red)
        return common * hidden, common * w1 * hidden * (1 - hidden) * row

    moves = [
        (w1, weights, *direction(w1, weights, row, target)) for w1, weights, row, target in steps
    ]
    after = [(w1, weights) for w1, weights, *_ in moves[1:]] + [(returned[1], returned[0])]
    rates = []
    for (w1, weights, hidden_dir, input_dir), (w1_after, weights_after) in zip(
        moves, after, strict=True
    ):
        scale = abs(hidden_dir) + np.abs(input_dir).sum()
        if scale < 1e-9:
            continue  # a row the network already fits: no step to measure
        both = np.concatenate([[hidden_dir], input_dir])
        moved = np.concatenate([[w1_after - w1], np.asarray(weights_after) - weights])
        rate = float(np.dot(moved, both) / np.dot(both, both))
        rates.append((rate, float(np.abs(moved - rate * both).max()), scale))
    if not rates:
        return "no step moved its weights"
    rate = float(np.median([r for r, _, _ in rates]))
    off = [
        (r, miss)
        for r, miss, scale in rates
        if rate <= 0 or abs(r - rate) > 1e-3 * abs(rate) or miss > 1e-3 * abs(rate) * scale + 1e-9
    ]
    if rate <= 0:
        return (
            "its steps move the weights against the error (the sign: add, do not subtract,"
            " learning_rate * (target - Red) * dRed/dw)"
        )
    if len(off) > 0.1 * len(rates):
        return (
            f"{len(off)} of its {len(rates)} steps (the returned weights counted as the last) do"
            " not move the weights by one learning rate times (target - Red) times dRed/dw"
        )
    return None


def _training_summary(log, data):
    """What the training loop did, read from its calls (recorded_calls) in the grading process."""
    features = data[:, :-1]
    hidden_calls = sum(1 for event in log if event[0] == "hidden")
    per_index = [0] * features.shape[1]
    rows_seen, sigmoid_like = [], []
    for position, event in enumerate(log):
        if event[0] == "input":
            _, index, row, _ = event
            if 0 <= index < len(per_index):
                per_index[index] += 1
            if index == 0:
                matches = np.flatnonzero(np.all(np.isclose(features, row), axis=1))
                rows_seen.append(int(matches[0]) if matches.size else -1)
            continue
        # The input-weight calls of the same step come just before or just after this one.
        neighbours = [
            log[i]
            for i in (position - 1, position + 1)
            if 0 <= i < len(log) and log[i][0] == "input"
        ]
        sigmoid_like.append(
            any(
                abs(event[1] - 1 / (1 + np.exp(-np.dot(weights, row)))) <= 0.05
                for _, _, row, weights in neighbours
            )
        )
    return hidden_calls, per_index, sigmoid_like, rows_seen


def _one_run(facts, what):
    """The facts of a single-run training request (the watched runs have one data set)."""
    runs = facts.get("runs")
    if not isinstance(runs, list) or len(runs) != 1:
        raise CheckFailed(f"{what}: no result came back")
    return runs[0]


def _trained(run, what, data):
    """Check the shape of what firstNN returned; give back (w0, w1, predictions)."""
    n_rows, n_features = data.shape[0], data.shape[1] - 1
    after = run["data_after"]
    if "values" not in after or not np.array_equal(np.asarray(after["values"]), data):
        raise CheckFailed(f"{what} changed the data it was given; work on a copy")
    if not run["triple"]:
        raise CheckFailed(f"{what} should return (input_weights, hidden_weight, predictions)")
    input_weights = numbers(run["input_weights"], f"{what}'s input weights").reshape(-1)
    if input_weights.shape != (n_features,):
        raise CheckFailed(
            f"{what} returned {input_weights.size} input weights for {n_features} features"
        )
    hidden_weight = numbers(run["hidden_weight"], f"{what}'s hidden weight")
    if hidden_weight.size != 1:
        raise CheckFailed(f"{what}'s hidden weight should be a single number")
    predictions = numbers(run["predictions"], f"{what}'s predictions")
    if predictions.shape != (n_rows,):
        raise CheckFailed(
            f"{what}'s predictions should be a 1-D array of {n_rows} values,"
            f" not shape {predictions.shape}"
        )
    if not np.isin(predictions, (0, 1)).all():
        raise CheckFailed(f"{what}'s predictions should be 0 or 1, not probabilities or labels")
    if not (np.isfinite(input_weights).all() and np.isfinite(hidden_weight).all()):
        raise CheckFailed(f"{what} returned weights that are not finite (nan or inf)")
    return input_weights, float(hidden_weight.reshape(-1)[0]), predictions


def implied_predictions(ref, data, input_weights, hidden_weight, predictions):
    """The predictions the returned weights make, row by row, and how many returned ones differ.

    Red >= sigmoid(w1 / 2) is the rule the lab teaches (Red's value when the hidden node is
    undecided). A row whose Red is within rounding of the threshold may be returned as either
    class (the student's arithmetic may round the other way), but it counts as the rule's
    class 1: the student's own predictions never decide a row (with w1 = 0, or all input
    weights 0, every row ties, and the labels handed in would otherwise score 100%).
    """
    red = ref.sigmoid(hidden_weight * ref.sigmoid(data[:, :-1] @ input_weights))
    threshold = ref.sigmoid(hidden_weight / 2)
    undecided = np.isclose(red, threshold, rtol=0, atol=1e-9)
    implied = ((red >= threshold) | undecided).astype(float)
    return implied, int(np.sum((implied != predictions) & ~undecided))


def _predictions_from_weights(run, ref, what, data):
    """The accuracy-relevant predictions: those the returned weights make. Returned predictions
    that disagree with the weights fail the check (labels handed in are not predictions)."""
    input_weights, hidden_weight, predictions = _trained(run, what, data)
    implied, differing = implied_predictions(ref, data, input_weights, hidden_weight, predictions)
    if differing:
        raise CheckFailed(
            f"{what}: {differing} of {len(data)} returned predictions are not what the returned"
            " weights predict; return the trained network's own predictions, in the data's row"
            " order, thresholded at sigmoid(hidden_weight / 2)"
        )
    return implied


def firstNN_contract_checks(rng):
    data = make_rows(seed=int(rng.integers(1000, 10_000)), rows_per_class=20)
    n_rows = len(data)

    def shapes(facts, ref):
        _trained(_one_run(facts, "firstNN on 40 rows"), "firstNN on 40 rows", data)

    yield Check(
        "firstNN returns weights and 0/1 predictions of the right shapes",
        train([data], 3, seed=1),
        shapes,
    )

    def log(facts):
        return recorded_calls(_one_run(facts, "firstNN"), data, "firstNN")

    for epochs in (0, 1, 3):

        def verdict(facts, ref, epochs=epochs):
            hidden_calls = _training_summary(log(facts), data)[0]
            if hidden_calls != epochs * n_rows:
                raise CheckFailed(
                    f"firstNN(data, {epochs}) on {n_rows} rows called hidden_weight_update"
                    f" {hidden_calls} times; one update per row per epoch is {epochs * n_rows}"
                )

        yield Check(
            f"firstNN trains for exactly {epochs} epoch(s)",
            train([data], epochs, seed=2, watch=True),
            verdict,
        )

    watched = train([data], 3, seed=4, watch=True)

    def every_weight(facts, ref):
        calls = log(facts)
        input_calls = _training_summary(calls, data)[1]
        if input_calls != [3 * n_rows] * 2:
            raise CheckFailed(
                f"firstNN(data, 3) on {n_rows} rows and 2 features called"
                f" input_hidden_weight_update {input_calls} times for weights 0 and 1;"
                f" every input weight is updated once per row per epoch ({3 * n_rows})"
            )
        input_changes, hidden_changes = _weights_learned(calls)
        broken = _learning_rule_breaks(
            calls, data, _trained(_one_run(facts, "firstNN"), "firstNN", data)
        )
        if broken and not (np.any(input_changes < 0.5) or hidden_changes < 0.5):
            raise CheckFailed(
                f"firstNN's weights are not those of its own training: {broken}; after each"
                " row, take every derivative first, then add"
                " learning_rate * (target - Red) * dRed/dw to each weight, and return the weights"
                " the last row left"
            )
        if np.any(input_changes < 0.5) or hidden_changes < 0.5:
            raise CheckFailed(
                "firstNN called the derivative functions but its weights hardly changed between"
                f" rows (input weights changed at {np.round(input_changes, 2).tolist()} of the"
                f" steps, the hidden weight at {hidden_changes:.2f}); after each row, add"
                " learning_rate * (target - Red) * dRed/dw to every weight"
            )

    def hidden_value(facts, ref):
        seen = _training_summary(log(facts), data)[2]
        if not seen or np.mean(seen) < 0.9:
            raise CheckFailed(
                "firstNN gave hidden_weight_update a hidden value H that is not"
                " sigmoid(input_weights . row) for the row being learned; the hidden node's"
                " activation is the sigmoid"
            )

    def shuffled(facts, ref):
        rows = _training_summary(log(facts), data)[3]
        epochs = [rows[i : i + n_rows] for i in range(0, len(rows), n_rows)]
        if len(epochs) >= 2 and all(order == epochs[0] for order in epochs):
            raise CheckFailed(
                "firstNN visited the rows in the same order in every epoch; shuffle them at the"
                " start of each epoch (np.random.permutation)"
            )

    yield Check("firstNN updates every weight after each row", watched, every_weight)
    yield Check("firstNN's hidden value is the sigmoid's", watched, hidden_value)
    yield Check("firstNN shuffles the rows each epoch", watched, shuffled)

    def consistent(facts, ref):
        what = "firstNN"
        _predictions_from_weights(_one_run(facts, what), ref, what, data)

    yield Check(
        "firstNN's predictions come from its weights, in row order",
        train([data], 5, seed=3),
        consistent,
    )


def swapped(data):
    """The same points with the labels swapped."""
    flipped = data.copy()
    flipped[:, -1] = 1 - flipped[:, -1]
    return flipped


def _trained_by_itself(run, data, what):
    """CheckFailed unless the weights a (tail-)watched run returned come from its own steps."""
    calls = recorded_calls(run, data, what)
    broken = _learning_rule_breaks(calls, data, _trained(run, what, data), tail=True)
    if broken:
        raise CheckFailed(
            f"{what}: the returned weights are not those of its own training ({broken}); return"
            " the weights that the last row's update left"
        )


def firstNN_accuracy_checks(rng):
    """Each check trains twice from the same seed: on a data set and on the same points with
    the labels swapped. Accuracy is that of the predictions the returned weights make. A network
    that does not learn makes the same predictions both times, so its two accuracies add up to
    1: it cannot reach the bar on both. The last rows' updates are watched: the returned weights
    must be where its own training left them."""
    lab_data = make_rows()
    three_features = make_rows(seed=int(rng.integers(1000, 10_000)), n_features=3)
    cases = [
        ("the lab's data", lab_data, int(rng.integers(0, 1000))),
        ("the lab's data", lab_data, int(rng.integers(0, 1000))),
        ("a 3-feature data set", three_features, int(rng.integers(0, 1000))),
    ]
    for label, data, seed in cases:
        pair = [(label, data), (f"{label} with labels swapped", swapped(data))]

        def verdict(facts, ref, pair=pair, seed=seed):
            runs = facts.get("runs")
            if not isinstance(runs, list) or len(runs) != len(pair):
                raise CheckFailed(f"firstNN on {pair[0][0]}: no result came back")
            for run, (name, data) in zip(runs, pair, strict=True):
                what = f"firstNN on {name}"
                predicted = _predictions_from_weights(run, ref, what, data)
                _trained_by_itself(run, data, what)
                score = np.mean(predicted == data[:, -1])
                if score < ACCURACY_NEEDED:
                    raise CheckFailed(
                        f"{what}, {FIRSTNN_EPOCHS} epochs, random seed {seed}: accuracy"
                        f" {score:.2f} (of the predictions its weights make); at least"
                        f" {ACCURACY_NEEDED} is needed"
                    )

        yield Check(
            f"firstNN learns {label} and its label-swapped twin, seed {seed}",
            train([data for _, data in pair], FIRSTNN_EPOCHS, seed, watch="tail"),
            verdict,
        )


# suite -> (graded function, its checks, the reference functions it may call)
SUITES = {
    "sigmoid": ("sigmoid", sigmoid_checks, ()),
    "ReLU": ("ReLU", relu_checks, ()),
    "feed_forward": ("feed_forward", feed_forward_checks, ("sigmoid",)),
    "sigmoid_perceptron": ("sigmoid_perceptron", sigmoid_perceptron_checks, ("sigmoid",)),
    "lead_coef": ("lead_coef", lead_coef_checks, ("sigmoid",)),
    "hidden_weight_update": ("hidden_weight_update", hidden_weight_update_checks, DERIVATIVES),
    "input_hidden_weight_update": (
        "input_hidden_weight_update",
        input_hidden_weight_update_checks,
        DERIVATIVES,
    ),
    "parameters_per_step": ("parameters_per_step", parameters_per_step_checks, ()),
    "firstNN_contract": ("firstNN", firstNN_contract_checks, TRAINING_PARTS),
    "firstNN_accuracy": ("firstNN", firstNN_accuracy_checks, TRAINING_PARTS),
}


# Suites whose function calls its dependencies thousands of times (firstNN's training loop).
TRAINING_SUITES = ("firstNN_contract", "firstNN_accuracy")


def lent_dependencies(suite, passed):
    """The dependencies of `suite` to lend as stubs of the reference: those whose own checks did
    not all pass, and those that call one of them (one call to the grader then stands for the
    several nested ones the student's version would make)."""
    dependencies = SUITES[suite][2]
    failed = {name for name in dependencies if not passed.get(name)}
    return [
        name
        for name in dependencies
        if name in failed or failed & set(SUITES[name][2] if name in SUITES else ())
    ]


def build_checks(suite):
    """The suite's checks, built from a fixed seed: every student meets the same hidden cases."""
    _, make_checks, _ = SUITES[suite]
    return list(make_checks(np.random.default_rng(sum(map(ord, suite)))))


VERDICT_MEMORY = 2 * 1024**3  # address space a suite's verdicts may add to the grader's


@contextlib.contextmanager
def memory_ceiling(extra=VERDICT_MEMORY):
    """While the verdicts run, the grading process may grow by `extra` bytes at most: past it,
    an allocation raises MemoryError (the check fails) instead of the machine running out of
    memory. The facts come from the student's kernel; the verdicts read them strictly, and this
    is the operating system's bound on whatever they still make the grader compute."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as statm:
        in_use = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    ceiling = in_use + extra
    if hard != resource.RLIM_INFINITY:
        ceiling = min(ceiling, hard)
    if soft != resource.RLIM_INFINITY and soft <= ceiling:
        yield  # already bounded as tightly
        return
    resource.setrlimit(resource.RLIMIT_AS, (ceiling, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def judge_suite(suite, observation, points, reference):
    """Outside the kernel: turn the facts into a verdict (plain data, see `report_lines`).

    The verdict: {suite, function, points, earned, status, reason, checks}; status is "judged"
    when the checks ran, "no result" when they could not; each check is {id, description,
    passed, message}.
    """
    function = SUITES[suite][0]
    verdict = {
        "suite": suite,
        "function": function,
        "points": float(points),
        "earned": 0.0,
        "status": "no result",
        "reason": "",
        "checks": [],
    }
    if "missing" in observation:
        verdict["reason"] = f"no function called {observation['missing']} was found"
        return verdict
    checks = build_checks(suite)
    facts_list = observation.get("facts", [])
    if len(facts_list) != len(checks):
        verdict["reason"] = "the hidden checks did not report back"
        return verdict
    for number, (check, facts) in enumerate(zip(checks, facts_list, strict=True), start=1):
        message = ""
        try:
            if "raised" in facts:
                raise CheckFailed(f"{check.description}: raised {facts['raised']}")
            if "timeout" in facts:
                raise CheckFailed(
                    f"{check.description}: stopped after {facts['timeout']:g} s of computing"
                    " (an endless loop?)"
                )
            if "crashed" in facts:
                raise CheckFailed(f"{check.description}: {facts['crashed']}")
            with memory_ceiling():
                check.verdict(facts, reference)
        except CheckFailed as failure:
            message = str(failure)
        except Exception as error:  # malformed facts (tampering): the check fails, grading goes on
            message = f"{check.description}: unreadable result ({type(error).__name__})"
        verdict["checks"].append(
            {
                "id": f"{suite}/{number}",
                "description": check.description,
                "passed": not message,
                "message": message,
            }
        )
    passed = sum(check["passed"] for check in verdict["checks"])
    verdict["earned"] = float(round(points * passed / len(checks), 2))
    verdict["status"] = "judged"
    return verdict


SIDE_KERNEL_FAILED = (
    "the checks ran with the reference versions of {names} (your own do not match yet; fix"
    " those first) and gave no result"
)


def withhold_details(verdict, lent):
    """The verdict of a suite that ran beside the reference's code (a side kernel): each failed
    check says only that it failed. Its details come from numbers the student's code chose
    (shapes, counts), which could otherwise carry that code out into the feedback."""
    names = ", ".join(lent)
    if verdict["status"] != "judged":  # its reason, too, may carry what the kernel chose
        return {**verdict, "reason": SIDE_KERNEL_FAILED.format(names=names), "checks": []}
    checks = [
        check
        if check["passed"]
        else {
            **check,
            "message": f"{check['description']}: failed (details withheld: it ran with the"
            f" reference versions of {names}, which your own versions do not match yet; fix"
            " those first)",
        }
        for check in verdict["checks"]
    ]
    return {**verdict, "checks": checks}


def report_lines(verdict):
    """The verdict as the lines a student reads under a hidden test cell."""
    suite, points = verdict["suite"], verdict["points"]
    if verdict["status"] != "judged":
        return [f"{suite}: no points: {verdict['reason'] or 'the hidden checks could not run'}."]
    failed = [check["message"] for check in verdict["checks"] if not check["passed"]]
    total = len(verdict["checks"])
    lines = [
        f"{suite}: {total - len(failed)} of {total} hidden checks passed,"
        f" {verdict['earned']:g} of {points:g} points."
    ]
    return lines + [f"  - {message}" for message in failed]


GRADED_FUNCTIONS = tuple(dict.fromkeys(function for function, _, _ in SUITES.values()))
