"""Helpers for the notebook's visible tests: the checks you run yourself (they earn no points).

- `visible_test(part, function)` wraps the checks of one part. When they pass, it prints one
  line saying so. When your function is not written yet (it still raises NotImplementedError),
  it says that in two short lines instead of a long traceback. A failed check shows as usual.
  Warnings are shown as ordinary output, because they cost no points. A part whose function
  calls one that fails its own visible tests says so, so that you fix that one first.
- `DerivativeCalls` watches which derivatives `firstNN` asks for while it trains, so that the
  visible test of Part J can check the training loop's rules.

Read it if you like; there is nothing to change here.
"""

import contextlib
import sys

import numpy as np

DERIVATIVES = ("hidden_weight_update", "input_hidden_weight_update")


class NotWrittenYet(Exception):
    """A part's function (or one it calls) still raises NotImplementedError."""

    def __init__(self, headline, detail):
        super().__init__(f"{headline} {detail}")
        self.lines = [f"NotWrittenYet: {headline}", detail]

    def _render_traceback_(self):
        # IPython shows these lines in place of a traceback, which would only point at the
        # template's `raise NotImplementedError()` line.
        return self.lines


def _raised_in(error):
    """The name of the function whose code raised `error` (the innermost frame)."""
    frame = error.__traceback__
    while frame.tb_next is not None:
        frame = frame.tb_next
    return frame.tb_frame.f_code.co_name


# function name -> whether its visible tests passed when last run (see `uses` below)
RESULTS = {}


@contextlib.contextmanager
def visible_test(part, function, uses=()):
    """Run one part's visible checks; say briefly that they pass, or that `function` is unwritten.

    uses: the lab's functions that `function` calls. When a check fails and one of them failed
    its own visible tests, the failure says so: fix that part first.
    Warnings and other text on stderr are shown as ordinary output: they cost no points.
    """
    name = getattr(function, "__name__", repr(function))
    RESULTS[name] = False
    try:
        with contextlib.redirect_stderr(sys.stdout):
            yield
    except NotImplementedError as error:
        culprit = _raised_in(error)
        if culprit in (name, "<module>"):
            raise NotWrittenYet(
                f"{part} is not written yet:", f"{name} still raises NotImplementedError."
            ) from None
        raise NotWrittenYet(
            f"{part} cannot be checked yet:",
            f"{name} calls {culprit}, which still raises NotImplementedError.",
        ) from None
    except Exception as error:
        failing = [used.__name__ for used in uses if RESULTS.get(used.__name__) is False]
        if failing:
            one = len(failing) == 1
            error.add_note(
                f"(it uses {', '.join(failing)}, which fail{'s its' if one else ' their'} own"
                f" visible tests: fix {'that' if one else 'those'} first)"
            )
        raise
    RESULTS[name] = True
    print(f"{part}: {name} passes the visible tests.")


class DerivativeCalls:
    """Record every call of the two derivative functions while a training function runs.

    namespace: the notebook's globals(), where firstNN looks its helpers up. The functions are
    replaced by recording copies during `train` only, and always put back.
    """

    def __init__(self, namespace):
        self.namespace = namespace
        self.calls = []  # (name, hidden weight, input weights or None, row or None, H or index)

    def train(self, train_function, data, epochs):
        originals = {name: self.namespace[name] for name in DERIVATIVES}

        def hidden_weight_update(curr_hidden_weight, hidden_output):
            self.calls.append(
                ("hidden", float(curr_hidden_weight), None, None, float(hidden_output))
            )
            return originals["hidden_weight_update"](curr_hidden_weight, hidden_output)

        def input_hidden_weight_update(curr_hidden_weight, input_weights, data_row, weight_index):
            self.calls.append(
                (
                    "input",
                    float(curr_hidden_weight),
                    np.array(input_weights, dtype=float),
                    np.array(data_row, dtype=float),
                    int(weight_index),
                )
            )
            return originals["input_hidden_weight_update"](
                curr_hidden_weight, input_weights, data_row, weight_index
            )

        self.namespace.update(
            hidden_weight_update=hidden_weight_update,
            input_hidden_weight_update=input_hidden_weight_update,
        )
        self.data = np.array(data, dtype=float)
        try:
            return train_function(self.data.copy(), epochs)
        finally:
            self.namespace.update(originals)

    def hidden_calls(self):
        """How often hidden_weight_update was called."""
        return sum(call[0] == "hidden" for call in self.calls)

    def input_calls(self, n_features):
        """How often input_hidden_weight_update was called for each weight index."""
        return [
            sum(call[0] == "input" and call[4] == index for call in self.calls)
            for index in range(n_features)
        ]

    def steps(self, n_features):
        """The calls grouped by row: one hidden_weight_update and one input_hidden_weight_update
        per input weight, in any order (the counts above are checked first)."""
        size = n_features + 1
        return [self.calls[i : i + size] for i in range(0, len(self.calls) - size + 1, size)]

    def steps_with_moved_weights(self, n_features):
        """In how many rows a derivative was taken after a weight of that row had moved: every
        derivative of a row should see the same weights and the same row."""
        moved = 0
        for step in self.steps(n_features):
            inputs = [call for call in step if call[0] == "input"]
            hidden = [call for call in step if call[0] == "hidden"]
            if len(hidden) != 1 or len(inputs) != n_features:
                moved += 1
                continue
            weights, row = inputs[0][2], inputs[0][3]
            same = all(
                call[1] == hidden[0][1]
                and np.array_equal(call[2], weights)
                and np.array_equal(call[3], row)
                for call in inputs
            )
            moved += not same
        return moved

    def steps_with_other_hidden_value(self, n_features):
        """In how many rows the H given to hidden_weight_update was not the hidden node's
        output, sigmoid(input_weights . row), for the weights the row's other derivatives saw."""
        other = 0
        for step in self.steps(n_features):
            inputs = [call for call in step if call[0] == "input"]
            hidden = [call for call in step if call[0] == "hidden"]
            if len(hidden) != 1 or not inputs:
                other += 1
                continue
            expected = 1 / (1 + np.exp(-np.dot(inputs[0][2], inputs[0][3])))
            other += not np.isclose(hidden[0][4], expected, rtol=1e-9, atol=1e-12)
        return other

    def epoch_orders(self, n_features):
        """The order in which the rows were visited, one list of row numbers per epoch."""
        features = self.data[:, :-1]
        visited = []
        for step in self.steps(n_features):
            row = next(call[3] for call in step if call[0] == "input")
            matches = np.flatnonzero(np.all(features == row, axis=1))
            visited.append(int(matches[0]) if matches.size else -1)
        n_rows = len(self.data)
        return [visited[i : i + n_rows] for i in range(0, len(visited), n_rows)]
