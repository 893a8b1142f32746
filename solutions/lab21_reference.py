"""The instructor's answers to Lab 21, in one module.

The master notebook's solution regions hold the same code (a test proves they agree), and the
hidden tests grade every student function against these. Nothing here is ever released.
"""

import numpy as np


def sigmoid(x):
    """The logistic function 1 / (1 + e^-x), element-wise, finite for any float input."""
    # exp(-log(1 + e^-x)) never forms e^1000, so there is no overflow at large |x|.
    values = np.exp(-np.logaddexp(0.0, -np.asarray(x, dtype=float)))
    return values.item() if np.ndim(x) == 0 else values


def ReLU(x):
    """x where x >= 0, and 0 elsewhere, element-wise."""
    values = np.maximum(np.asarray(x, dtype=float), 0.0)
    return values.item() if np.ndim(x) == 0 else values


def feed_forward(data_row, input_weights, hidden_weight):
    """The network's forward pass for one example: (Purple, Red)."""
    purple = sigmoid(np.dot(input_weights, data_row))
    red = sigmoid(hidden_weight * purple)
    return purple, red


def sigmoid_perceptron(data_row, weights):
    """Last lab's perceptron with the sigmoid in place of the threshold: a value in (0, 1)."""
    return sigmoid(np.dot(data_row, weights))


def lead_coef(val_fx):
    """The sigmoid's derivative at the pre-activation val_fx: sigmoid(v) * (1 - sigmoid(v))."""
    s = sigmoid(val_fx)
    return s * (1 - s)


def hidden_weight_update(curr_hidden_weight, hidden_output):
    """dRed / dw1, with H = hidden_output."""
    return lead_coef(curr_hidden_weight * hidden_output) * hidden_output


def input_hidden_weight_update(curr_hidden_weight, input_weights, data_row, weight_index):
    """dRed / dw0_i for i = weight_index, on one example data_row."""
    beta = np.dot(input_weights, data_row)
    hidden = sigmoid(beta)
    return (
        lead_coef(curr_hidden_weight * hidden)
        * curr_hidden_weight
        * lead_coef(beta)
        * data_row[weight_index]
    )


def parameters_per_step(n_inputs):
    """Weights changed by one backward step: n input weights and the hidden weight."""
    return n_inputs + 1


def firstNN(data, epochs, learning_rate=0.5):
    """Train the one-hidden-node network by per-example gradient descent.

    data: 2-D array, features in every column but the last, 0/1 label last.
    Returns (input_weights, hidden_weight, predictions), predictions 0/1 in row order.
    """
    features = np.asarray(data, dtype=float)[:, :-1]
    labels = np.asarray(data, dtype=float)[:, -1]
    n_rows, n_inputs = features.shape

    input_weights = np.random.normal(0.0, 0.5, n_inputs)
    hidden_weight = 1.0

    for _ in range(epochs):
        for row in np.random.permutation(n_rows):
            x, target = features[row], labels[row]
            _, red = feed_forward(x, input_weights, hidden_weight)
            # Descent on (target - Red)^2: step along +(target - Red) * dRed/dw
            # (the factor 2 is folded into the learning rate).
            step = learning_rate * (target - red)
            input_steps = [
                input_hidden_weight_update(hidden_weight, input_weights, x, i)
                for i in range(n_inputs)
            ]
            hidden_output = sigmoid(np.dot(input_weights, x))
            hidden_weight += step * hidden_weight_update(hidden_weight, hidden_output)
            input_weights = input_weights + step * np.array(input_steps)

    # Red only spans (0.5, sigmoid(w1)) or (sigmoid(w1), 0.5), so 0.5 is no threshold: use the
    # middle of that span, sigmoid(w1 / 2).
    threshold = sigmoid(hidden_weight / 2)
    predictions = np.array(
        [int(feed_forward(x, input_weights, hidden_weight)[1] >= threshold) for x in features]
    )
    return input_weights, hidden_weight, predictions
