"""The hidden tests: grade one student function against the reference, check by check.

A hidden test cell in the master notebook ends with `grade("sigmoid", globals(), points=2)`.
That call runs every check of the suite, prints one line per failed check (what went in, what
was expected, what came back), and returns the points earned as a plain float, which nbgrader
reads as partial credit. While a suite runs, the functions the graded one calls are replaced by
the reference versions, so one mistake costs the points of one function only.
"""

import contextlib
import io
import random
import signal
import warnings

import numpy as np

from coursepack.dataset import make_rows
from coursepack.reference import load_reference

REF = load_reference()
CHECK_SECONDS = 10.0
GRADED_FUNCTIONS = (
    "sigmoid",
    "ReLU",
    "feed_forward",
    "sigmoid_perceptron",
    "lead_coef",
    "hidden_weight_update",
    "input_hidden_weight_update",
    "parameters_per_step",
    "firstNN",
)
FIRSTNN_EPOCHS = 10
ACCURACY_NEEDED = 0.95


class CheckFailed(Exception):
    """A check's verdict: the message says what was wrong."""


class CheckTimeout(BaseException):
    """Raised inside student code that runs too long (a BaseException, so `except Exception` in
    the student's loop does not swallow it)."""


# ----------------------------------------------------------------------------------------------
# Comparing results


def show(value):
    """A short, readable rendering of a value for a message."""
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    if isinstance(value, (list, tuple, np.ndarray)):
        array = np.asarray(value, dtype=object if isinstance(value, (list, tuple)) else None)
        if array.size > 6:
            return f"an array of shape {array.shape}"
        with np.printoptions(precision=4, suppress=True):
            text = str(value) if array.dtype == object else np.array2string(array)
    else:
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def as_floats(value, what):
    """Coerce a result to a float array: objects that only pretend to be numbers fail here."""
    if isinstance(value, (str, bytes)) or value is None:
        raise CheckFailed(f"{what} returned {show(value)}, not a number")
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise CheckFailed(
            f"{what} returned {show(value)}, not a number or array of numbers"
        ) from None


def expect_close(got, want, what, rtol=1e-6, atol=1e-9):
    got_floats = as_floats(got, what)
    want_floats = np.asarray(want, dtype=float)
    if got_floats.shape != want_floats.shape:
        raise CheckFailed(
            f"{what} returned shape {got_floats.shape}, expected shape {want_floats.shape}"
        )
    if not np.all(np.isfinite(got_floats)):
        raise CheckFailed(f"{what} returned {show(got)}, which is not finite (nan or inf)")
    wrong = ~np.isclose(got_floats, want_floats, rtol=rtol, atol=atol)
    if wrong.any():
        if got_floats.size <= 6:
            raise CheckFailed(f"{what} returned {show(got)}, expected {show(want)}")
        first = tuple(int(i) for i in np.argwhere(wrong)[0])
        raise CheckFailed(
            f"{what}: {wrong.sum()} of {wrong.size} values are wrong; at index {first}"
            f" it gave {show(got_floats[first])}, expected {show(want_floats[first])}"
        )


def relative_error(a, b):
    """CS231n's relative error, with a floor so that two tiny numbers count as equal."""
    return abs(a - b) / max(abs(a) + abs(b), 1e-8)


def call_text(name, *args):
    return f"{name}({', '.join(show(arg) for arg in args)})"


# ----------------------------------------------------------------------------------------------
# Running student code safely


@contextlib.contextmanager
def time_limit(seconds):
    """Interrupt a check that runs longer than `seconds` (main thread only, as in a kernel)."""

    def interrupt(signum, frame):
        raise CheckTimeout()

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
    """Warnings and stderr lines from a correct function must not cost it its points."""
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


def run_check(check):
    """Run one check; return None when it passes, or the message that says why it failed."""
    try:
        with quiet(), time_limit(CHECK_SECONDS):
            check()
    except CheckFailed as failure:
        return str(failure)
    except CheckTimeout:
        return f"{check.__doc__}: stopped after {CHECK_SECONDS:g} s (an endless loop?)"
    except Exception as error:  # the student's code raised: that is the verdict, not a crash
        return f"{check.__doc__}: raised {type(error).__name__}: {str(error)[:120]}"
    return None


# ----------------------------------------------------------------------------------------------
# The checks of each suite. Each suite yields small functions whose docstring says what they
# check; a check raises CheckFailed (or lets the student's exception through) when it fails.


def _elementwise_checks(name, student, reference, rng):
    """Shared by sigmoid and ReLU: scalars, arrays of any shape, ints, input left alone."""
    for x in [0.0, *np.round(rng.uniform(-6, 6, 3), 3)]:

        def scalar(x=float(x)):
            got = student(x)
            if np.ndim(got) != 0:
                raise CheckFailed(f"{call_text(name, x)} returned {show(got)}, expected a scalar")
            expect_close(got, reference(x), call_text(name, x))

        scalar.__doc__ = f"{name} on the scalar {x:g}"
        yield scalar

    for shape in [(7,), (3, 4)]:
        values = rng.uniform(-8, 8, shape)

        def array(values=values):
            original = values.copy()
            got = student(values)
            if not np.array_equal(values, original):
                raise CheckFailed(f"{name} changed its input array; it must return a new one")
            expect_close(got, reference(original), f"{name}(array of shape {values.shape})")

        array.__doc__ = f"{name} element-wise on an array of shape {shape}"
        yield array

    def integers():
        """ints in, floats out"""
        values = np.array([-3, 0, 2])
        expect_close(student(values), reference(values), call_text(name, values))

    integers.__doc__ = f"{name} on an integer array"
    yield integers


def sigmoid_checks(student, rng):
    yield from _elementwise_checks("sigmoid", student, REF.sigmoid, rng)

    def extremes():
        """sigmoid at x = -1000, -710, 710, 1000"""
        values = np.array([-1000.0, -710.0, 710.0, 1000.0])
        expect_close(student(values), REF.sigmoid(values), call_text("sigmoid", values))

    yield extremes


def relu_checks(student, rng):
    yield from _elementwise_checks("ReLU", student, REF.ReLU, rng)

    def negatives_to_zero():
        """ReLU sends every negative value to 0"""
        values = -rng.uniform(0.1, 5, 5)
        expect_close(student(values), np.zeros(5), call_text("ReLU", values))

    yield negatives_to_zero


def feed_forward_checks(student, rng):
    for n in (1, 2, 4):
        row, weights, hidden = rng.normal(0, 1.5, n), rng.normal(0, 1.5, n), rng.normal(0, 2)

        def forward(row=row, weights=weights, hidden=hidden):
            what = call_text("feed_forward", row, weights, hidden)
            got = student(row, weights, hidden)
            if not isinstance(got, (tuple, list)) or len(got) != 2:
                raise CheckFailed(f"{what} returned {show(got)}, expected a pair (Purple, Red)")
            expect_close(got, REF.feed_forward(row, weights, hidden), what)

        forward.__doc__ = f"feed_forward with {n} input(s)"
        yield forward


def sigmoid_perceptron_checks(student, rng):
    for n in (2, 3, 5):
        row, weights = rng.normal(0, 1.5, n), rng.normal(0, 1.5, n)

        def one_row(row=row, weights=weights):
            what = call_text("sigmoid_perceptron", row, weights)
            expect_close(student(row, weights), REF.sigmoid_perceptron(row, weights), what)

        one_row.__doc__ = f"sigmoid_perceptron on one row of {n} features"
        yield one_row


def lead_coef_checks(student, rng):
    for v in [0.0, *np.round(rng.uniform(-5, 5, 4), 3), 40.0]:

        def at(v=float(v)):
            expect_close(student(v), REF.lead_coef(v), call_text("lead_coef", v))

        at.__doc__ = f"lead_coef at the pre-activation {v:g}"
        yield at

    def array():
        """lead_coef element-wise on an array"""
        values = rng.uniform(-4, 4, 6)
        expect_close(student(values), REF.lead_coef(values), "lead_coef(array of 6 values)")

    yield array


def _red(row, input_weights, hidden_weight):
    return REF.feed_forward(row, input_weights, hidden_weight)[1]


def _gradient_check(got, numeric, what):
    """Analytic against central-difference gradient, by relative error (with an atol floor)."""
    got = float(as_floats(got, what))
    if not np.isfinite(got):
        raise CheckFailed(f"{what} returned {got}, which is not finite")
    if relative_error(got, numeric) > 1e-5 and abs(got - numeric) > 1e-9:
        raise CheckFailed(
            f"{what} returned {got:.6g}; the numerical derivative of Red is {numeric:.6g}"
        )


def hidden_weight_update_checks(student, rng):
    step = 1e-6
    for _ in range(5):
        n = int(rng.integers(1, 4))
        row, weights, hidden = rng.normal(0, 1.5, n), rng.normal(0, 1.5, n), rng.normal(0, 2)

        def check(row=row, weights=weights, hidden=hidden):
            hidden_output = REF.sigmoid(np.dot(weights, row))
            numeric = (_red(row, weights, hidden + step) - _red(row, weights, hidden - step)) / (
                2 * step
            )
            _gradient_check(
                student(hidden, hidden_output),
                numeric,
                call_text("hidden_weight_update", hidden, hidden_output),
            )

        check.__doc__ = f"hidden_weight_update({hidden:.3g}, H) against a numerical derivative"
        yield check


def input_hidden_weight_update_checks(student, rng):
    step = 1e-6
    for n in (1, 2, 3, 5):
        row, weights, hidden = rng.normal(0, 1.5, n), rng.normal(0, 1.5, n), rng.normal(0, 2)
        for index in sorted({0, n - 1}):

            def check(row=row, weights=weights, hidden=hidden, index=index):
                nudge = np.zeros_like(weights)
                nudge[index] = step
                numeric = (
                    _red(row, weights + nudge, hidden) - _red(row, weights - nudge, hidden)
                ) / (2 * step)
                what = call_text("input_hidden_weight_update", hidden, weights, row, index)
                originals = weights.copy(), row.copy()
                got = student(hidden, weights, row, index)
                if not (
                    np.array_equal(weights, originals[0]) and np.array_equal(row, originals[1])
                ):
                    raise CheckFailed(f"{what} changed its input arrays")
                _gradient_check(got, numeric, what)

            check.__doc__ = f"input_hidden_weight_update, {n} inputs, weight {index}"
            yield check


def parameters_per_step_checks(student, rng):
    for n in (1, 2, int(rng.integers(3, 50))):

        def check(n=n):
            expect_close(
                student(n), REF.parameters_per_step(n), call_text("parameters_per_step", n)
            )

        check.__doc__ = f"parameters_per_step({n})"
        yield check


class CallCounter:
    """A reference function that counts its calls (to see whether epochs are respected)."""

    def __init__(self, function):
        self.function, self.calls = function, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.function(*args, **kwargs)


def _train(student, data, epochs, seed):
    np.random.seed(seed)
    random.seed(seed)
    result = student(data, epochs)
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        raise CheckFailed(
            f"firstNN returned {show(result)}; expected (input_weights, hidden_weight, predictions)"
        )
    return result


def _predictions(result, n_rows, what):
    predictions = as_floats(result[2], what).reshape(-1) if np.ndim(result[2]) else None
    if predictions is None or predictions.shape != (n_rows,):
        raise CheckFailed(f"{what}: predictions should be a 1-D array of {n_rows} values")
    if not np.isin(predictions, (0, 1)).all():
        raise CheckFailed(
            f"{what}: predictions should be 0 or 1, got {show(np.unique(predictions))}"
        )
    return predictions


def firstNN_contract_checks(student, rng):
    data = make_rows(seed=int(rng.integers(1000, 10_000)), rows_per_class=20)

    def shapes():
        """firstNN's weights, hidden weight and predictions have the right shapes and values"""
        original = data.copy()
        result = _train(student, data, 3, seed=1)
        if not np.array_equal(data, original):
            raise CheckFailed("firstNN changed the data it was given; work on a copy")
        input_weights = as_floats(result[0], "firstNN's input weights")
        if input_weights.shape != (2,):
            raise CheckFailed(
                f"firstNN on 2 features returned input weights of shape {input_weights.shape},"
                " expected (2,)"
            )
        if as_floats(result[1], "firstNN's hidden weight").size != 1:
            raise CheckFailed("firstNN's hidden weight should be a single number")
        _predictions(result, len(data), "firstNN on 40 rows")

    yield shapes

    for epochs in (0, 1, 3):

        def respects_epochs(epochs=epochs):
            counter = CallCounter(REF.hidden_weight_update)
            with reference_dependencies(student, {"hidden_weight_update": counter}):
                _train(student, data, epochs, seed=2)
            expected = epochs * len(data)
            if counter.calls != expected:
                raise CheckFailed(
                    f"firstNN(data, {epochs}) on {len(data)} rows called hidden_weight_update"
                    f" {counter.calls} times; one update per row per epoch is {expected}"
                )

        respects_epochs.__doc__ = f"firstNN trains for exactly {epochs} epoch(s)"
        yield respects_epochs

    def consistent():
        """firstNN's predictions come from the weights it returns, in the data's row order"""
        input_weights, hidden_weight, predictions = _train(student, data, 5, seed=3)
        hidden_weight = float(as_floats(hidden_weight, "hidden weight").reshape(-1)[0])
        input_weights = as_floats(input_weights, "input weights")
        red = REF.sigmoid(hidden_weight * REF.sigmoid(data[:, :-1] @ input_weights))
        implied = (red >= REF.sigmoid(hidden_weight / 2)).astype(float)
        agreement = np.mean(_predictions((0, 0, predictions), len(data), "firstNN") == implied)
        if agreement < 0.95:
            raise CheckFailed(
                f"only {agreement:.0%} of firstNN's predictions match its returned weights, row by"
                " row; return the predictions of the trained network in the data's order"
            )

    yield consistent


def firstNN_accuracy_checks(student, rng):
    lab_data = make_rows()
    sets = [("the lab's data", lab_data)]
    # The same points with the labels swapped: a network that does not learn cannot score well
    # on both.
    flipped = lab_data.copy()
    flipped[:, -1] = 1 - flipped[:, -1]
    sets.append(("the lab's data with labels swapped", flipped))
    sets.append(
        ("a 3-feature data set", make_rows(seed=int(rng.integers(1000, 10_000)), n_features=3))
    )
    for label, data in sets:
        for seed in (int(rng.integers(0, 1000)), int(rng.integers(0, 1000))):

            def accuracy(data=data, seed=seed, label=label):
                result = _train(student, data.copy(), FIRSTNN_EPOCHS, seed)
                predictions = _predictions(result, len(data), f"firstNN on {label}")
                score = np.mean(predictions == data[:, -1])
                if score < ACCURACY_NEEDED:
                    raise CheckFailed(
                        f"firstNN({label}, {FIRSTNN_EPOCHS}) with random seed {seed} reached"
                        f" accuracy {score:.2f}; at least {ACCURACY_NEEDED} is needed"
                    )

            accuracy.__doc__ = f"firstNN's accuracy on {label}, seed {seed}"
            yield accuracy


# suite name -> (graded function, its checks, the reference functions it may call)
SUITES = {
    "sigmoid": ("sigmoid", sigmoid_checks, ()),
    "ReLU": ("ReLU", relu_checks, ()),
    "feed_forward": ("feed_forward", feed_forward_checks, ("sigmoid",)),
    "sigmoid_perceptron": ("sigmoid_perceptron", sigmoid_perceptron_checks, ("sigmoid",)),
    "lead_coef": ("lead_coef", lead_coef_checks, ("sigmoid",)),
    "hidden_weight_update": (
        "hidden_weight_update",
        hidden_weight_update_checks,
        ("sigmoid", "lead_coef"),
    ),
    "input_hidden_weight_update": (
        "input_hidden_weight_update",
        input_hidden_weight_update_checks,
        ("sigmoid", "lead_coef"),
    ),
    "parameters_per_step": ("parameters_per_step", parameters_per_step_checks, ()),
    "firstNN_contract": ("firstNN", firstNN_contract_checks, GRADED_FUNCTIONS[:-2]),
    "firstNN_accuracy": ("firstNN", firstNN_accuracy_checks, GRADED_FUNCTIONS[:-2]),
}


def grade(suite, namespace, points):
    """Run one suite against the student's function in `namespace`; return the points earned."""
    name, make_checks, dependencies = SUITES[suite]
    student = namespace.get(name)
    if not callable(student):
        print(f"{name}: no function called {name} was found, so none of its checks could run.")
        return 0.0
    # A fixed seed per suite: every student meets the same hidden cases, which they never see.
    rng = np.random.default_rng(sum(map(ord, suite)))
    replacements = {dep: getattr(REF, dep) for dep in dependencies}
    failures = []
    total = 0
    with reference_dependencies(student, replacements):
        for check in make_checks(student, rng):
            total += 1
            message = run_check(check)
            if message:
                failures.append(message)
    passed = total - len(failures)
    earned = round(points * passed / total, 2)
    print(f"{suite}: {passed} of {total} hidden checks passed, {earned:g} of {points:g} points.")
    for message in failures:
        print(f"  - {message}")
    return float(earned)
