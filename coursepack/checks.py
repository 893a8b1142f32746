"""The hidden checks: each one a probe (runs the student's code) and a verdict (judges it).

The probe runs inside the student's kernel. It calls the student's function on hidden inputs
and returns plain facts (numbers, shapes, types, exceptions) that survive JSON. The verdict
runs where the grader wants it: during autograde, in the grading process, outside the
student's kernel, with the reference answers at hand. Student code can patch numpy or
IPython inside its own kernel, but it cannot change how its facts are judged.

This module imports nothing from the course but `coursepack.dataset`, so the grader can send
its source into a kernel that cannot read the course's files.
"""

import contextlib
import io
import random
import signal
import warnings
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


class ProbeTimeout(BaseException):
    """Raised in student code that runs too long (a BaseException, so that `except Exception`
    in the student's loop does not swallow it)."""


@dataclass
class Check:
    description: str  # what it checks, e.g. "sigmoid on the scalar 1.2"
    probe: Callable[[Callable], dict]  # student function -> facts (in the kernel)
    verdict: Callable[[dict, Any], None]  # (facts, reference) -> raises CheckFailed


# ----------------------------------------------------------------------------------------------
# Facts: what a student's function returned, as plain JSON-able data


def observe(value):
    """Describe a returned value by its type and, if it is numeric, its float values.

    Coercion with np.asarray(..., dtype=float) is what defeats objects that claim to equal
    anything: they are not numbers, so they are reported as `other`.
    """
    kind = type(value).__name__
    if value is None or isinstance(value, (str, bytes)):
        return {"type": kind, "repr": repr(value)[:80]}
    try:
        values = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return {"type": kind, "repr": repr(value)[:80]}
    return {"type": kind, "shape": list(values.shape), "values": values.tolist()}


def numbers(fact, what):
    """The float array a fact describes, or CheckFailed saying why it is not one."""
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
        raise CheckFailed(f"{what} returned {show(got)}, expected {show(want)}")
    first = tuple(int(i) for i in np.argwhere(wrong)[0])
    raise CheckFailed(
        f"{what}: {wrong.sum()} of {wrong.size} values are wrong; at index {first} it gave"
        f" {show(got[first])}, expected {show(want[first])}"
    )


def relative_error(a, b):
    """CS231n's relative error, with a floor so that two tiny numbers count as equal."""
    return abs(a - b) / max(abs(a) + abs(b), 1e-8)


# ----------------------------------------------------------------------------------------------
# Running student code


@contextlib.contextmanager
def time_limit(seconds):
    """Interrupt a probe that runs longer than `seconds` (main thread only, as in a kernel)."""

    def interrupt(signum, frame):
        raise ProbeTimeout()

    try:
        previous = signal.signal(signal.SIGALRM, interrupt)
    except ValueError:  # not the main thread: run without a limit
        yield
        return
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def quiet():
    """Warnings, prints and stderr lines from a correct function must not cost it points."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            yield


@contextlib.contextmanager
def reference_dependencies(student_function, replacements):
    """Let the student's function call reference versions of the lab's other functions."""
    scope = getattr(student_function, "__globals__", {})
    saved = {name: scope[name] for name in replacements if name in scope}
    scope.update(replacements)
    try:
        yield
    finally:
        for name in replacements:
            if name in saved:
                scope[name] = saved[name]
            else:
                scope.pop(name, None)


def run_probe(check, student):
    """Run one probe under a time limit; exceptions become facts, never crashes."""
    try:
        with quiet(), time_limit(PROBE_SECONDS):
            return check.probe(student)
    except ProbeTimeout:
        return {"timeout": PROBE_SECONDS}
    except Exception as error:  # the student's code raised: that is the fact to judge
        return {"raised": f"{type(error).__name__}: {str(error)[:120]}"}


# ----------------------------------------------------------------------------------------------
# The suites. Each yields Checks; inputs are drawn from `rng` when the suite is built, so the
# kernel and the judge, building the same suite from the same seed, agree on every input.


def _call_probe(args):
    """A probe that calls the student's function once on copies of `args`.

    It reports the result and the arguments as they were afterwards; whether they changed is
    for the verdict to say (probes compare nothing: student code may have patched numpy).
    """

    def probe(student):
        given = [arg.copy() if isinstance(arg, np.ndarray) else arg for arg in args]
        out = student(*given)
        return {"out": observe(out), "after": [observe(arg) for arg in given]}

    return probe


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

    return Check(description, _call_probe(args), verdict)


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

        def probe(student, args=args):
            out = student(*args)
            # A tuple, a list or an array of two: each unpacks as `purple, red = ...`.
            pair = isinstance(out, (tuple, list, np.ndarray)) and np.shape(out) == (2,)
            return {"pair": pair, "out": observe(out)}

        def verdict(facts, ref, args=args):
            what = call_text("feed_forward", *args)
            if not facts["pair"]:
                raise CheckFailed(f"{what} should return a pair (purple, red)")
            expect_close(facts["out"], ref.feed_forward(*args), what)

        yield Check(f"feed_forward with {n} input(s)", probe, verdict)


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
                f"{what} returned {got:.6g}; the numerical derivative of Red is {numeric:.6g}"
            )

    return Check(description, _call_probe(args), verdict)


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


class Recorder:
    """A dependency that notes how firstNN calls it (row, weights, hidden value...)."""

    def __init__(self, function, name, log):
        self.function, self.name, self.log = function, name, log

    def __call__(self, *args):
        if self.name == "hidden_weight_update":
            self.log.append(("hidden", float(np.asarray(args[1], dtype=float))))
        else:
            weights, row, index = (np.asarray(a, dtype=float) for a in args[1:4])
            self.log.append(("input", int(index), row.tolist(), weights.tolist()))
        return self.function(*args)


def _train(student, data, epochs, seed):
    """Seed both random generators, train on a copy, and describe what came back."""
    np.random.seed(seed)
    random.seed(seed)
    given = data.copy()
    result = student(given, epochs)
    facts = {"data_after": observe(given), "triple": False}
    if isinstance(result, (tuple, list)) and len(result) == 3:
        facts.update(
            triple=True,
            input_weights=observe(result[0]),
            hidden_weight=observe(result[1]),
            predictions=observe(result[2]),
        )
    return facts


def _watch_training(student, data, epochs, seed):
    """Train with recording derivatives; the facts are the calls, in order."""
    log = []
    scope = student.__globals__
    recorders = {
        name: Recorder(scope[name], name, log)
        for name in ("hidden_weight_update", "input_hidden_weight_update")
    }
    with reference_dependencies(student, recorders):
        _train(student, data, epochs, seed)
    return {"log": log}


def _training_summary(log, data):
    """What the training loop did, read from its calls (in the grading process)."""
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


def _trained(facts, n_rows, n_features, what, data):
    """Check the shape of what firstNN returned; give back (w0, w1, predictions)."""
    after = facts["data_after"]
    if "values" not in after or not np.array_equal(np.asarray(after["values"]), data):
        raise CheckFailed(f"{what} changed the data it was given; work on a copy")
    if not facts["triple"]:
        raise CheckFailed(f"{what} should return (input_weights, hidden_weight, predictions)")
    input_weights = numbers(facts["input_weights"], f"{what}'s input weights").reshape(-1)
    if input_weights.shape != (n_features,):
        raise CheckFailed(
            f"{what} returned {input_weights.size} input weights for {n_features} features"
        )
    hidden_weight = numbers(facts["hidden_weight"], f"{what}'s hidden weight")
    if hidden_weight.size != 1:
        raise CheckFailed(f"{what}'s hidden weight should be a single number")
    predictions = numbers(facts["predictions"], f"{what}'s predictions")
    if predictions.shape != (n_rows,):
        raise CheckFailed(
            f"{what}'s predictions should be a 1-D array of {n_rows} values,"
            f" not shape {predictions.shape}"
        )
    if not np.isin(predictions, (0, 1)).all():
        raise CheckFailed(f"{what}'s predictions should be 0 or 1, not probabilities or labels")
    return input_weights, float(hidden_weight.reshape(-1)[0]), predictions


def firstNN_contract_checks(rng):
    data = make_rows(seed=int(rng.integers(1000, 10_000)), rows_per_class=20)
    n_rows = len(data)

    def shapes(facts, ref):
        _trained(facts, n_rows, 2, "firstNN on 40 rows", data)

    yield Check(
        "firstNN returns weights and 0/1 predictions of the right shapes",
        lambda student: _train(student, data, 3, seed=1),
        shapes,
    )

    for epochs in (0, 1, 3):

        def verdict(facts, ref, epochs=epochs):
            hidden_calls = _training_summary(facts["log"], data)[0]
            if hidden_calls != epochs * n_rows:
                raise CheckFailed(
                    f"firstNN(data, {epochs}) on {n_rows} rows called hidden_weight_update"
                    f" {hidden_calls} times; one update per row per epoch is {epochs * n_rows}"
                )

        yield Check(
            f"firstNN trains for exactly {epochs} epoch(s)",
            lambda student, epochs=epochs: _watch_training(student, data, epochs, seed=2),
            verdict,
        )

    def watch(student):
        return _watch_training(student, data, 3, seed=4)

    def every_input_weight(facts, ref):
        input_calls = _training_summary(facts["log"], data)[1]
        if input_calls != [3 * n_rows] * 2:
            raise CheckFailed(
                f"firstNN(data, 3) on {n_rows} rows and 2 features called"
                f" input_hidden_weight_update {input_calls} times for weights 0 and 1;"
                f" every input weight is updated once per row per epoch ({3 * n_rows})"
            )

    def hidden_value(facts, ref):
        seen = _training_summary(facts["log"], data)[2]
        if not seen or np.mean(seen) < 0.9:
            raise CheckFailed(
                "firstNN gave hidden_weight_update a hidden value H that is not"
                " sigmoid(input_weights . row) for the row being learned; the hidden node's"
                " activation is the sigmoid"
            )

    def shuffled(facts, ref):
        rows = _training_summary(facts["log"], data)[3]
        epochs = [rows[i : i + n_rows] for i in range(0, len(rows), n_rows)]
        if len(epochs) >= 2 and all(order == epochs[0] for order in epochs):
            raise CheckFailed(
                "firstNN visited the rows in the same order in every epoch; shuffle them at the"
                " start of each epoch (np.random.permutation)"
            )

    yield Check("firstNN updates every input weight", watch, every_input_weight)
    yield Check("firstNN's hidden value is the sigmoid's", watch, hidden_value)
    yield Check("firstNN shuffles the rows each epoch", watch, shuffled)

    def consistent(facts, ref):
        input_weights, hidden_weight, predictions = _trained(facts, n_rows, 2, "firstNN", data)
        red = ref.sigmoid(hidden_weight * ref.sigmoid(data[:, :-1] @ input_weights))
        implied = red >= ref.sigmoid(hidden_weight / 2)
        agreement = np.mean(predictions == implied)
        if agreement < 0.95:
            raise CheckFailed(
                f"only {agreement:.0%} of firstNN's predictions match its returned weights, row by"
                " row; return the trained network's predictions, in the data's row order,"
                " thresholded at sigmoid(hidden_weight / 2)"
            )

    yield Check(
        "firstNN's predictions come from its weights, in row order",
        lambda student: _train(student, data, 5, seed=3),
        consistent,
    )


def firstNN_accuracy_checks(rng):
    lab_data = make_rows()
    # The same points with the labels swapped: a network that does not learn cannot score well
    # on both.
    flipped = lab_data.copy()
    flipped[:, -1] = 1 - flipped[:, -1]
    three_features = make_rows(seed=int(rng.integers(1000, 10_000)), n_features=3)
    sets = [
        ("the lab's data", lab_data),
        ("the lab's data with labels swapped", flipped),
        ("a 3-feature data set", three_features),
    ]
    for label, data in sets:
        for seed in (int(rng.integers(0, 1000)), int(rng.integers(0, 1000))):

            def verdict(facts, ref, data=data, seed=seed, label=label):
                what = f"firstNN on {label}"
                _, _, predictions = _trained(facts, len(data), data.shape[1] - 1, what, data)
                score = np.mean(predictions == data[:, -1])
                if score < ACCURACY_NEEDED:
                    raise CheckFailed(
                        f"{what}, {FIRSTNN_EPOCHS} epochs, random seed {seed}: accuracy"
                        f" {score:.2f}; at least {ACCURACY_NEEDED} is needed"
                    )

            yield Check(
                f"firstNN's accuracy on {label}, seed {seed}",
                lambda student, data=data, seed=seed: _train(
                    student, data.copy(), FIRSTNN_EPOCHS, seed
                ),
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


def build_checks(suite):
    """The suite's checks, built from a fixed seed: every student meets the same hidden cases."""
    _, make_checks, _ = SUITES[suite]
    return list(make_checks(np.random.default_rng(sum(map(ord, suite)))))


def probe_suite(suite, namespace, dependencies):
    """In the kernel: run every probe of `suite` on the student's function; return the facts.

    dependencies: name -> reference function, put in place of the student's own while probing.
    """
    name = SUITES[suite][0]
    student = namespace.get(name)
    if not callable(student):
        return {"missing": name}
    facts = []
    with reference_dependencies(student, dependencies):
        for check in build_checks(suite):
            # After one timeout, the rest of the suite is not run: a slow function costs one
            # time limit, not one per check.
            timed_out = facts and "timeout" in facts[-1]
            facts.append(facts[-1] if timed_out else run_probe(check, student))
    return {"facts": facts}


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
                    f"{check.description}: stopped after {facts['timeout']:g} s (an endless loop?)"
                )
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
