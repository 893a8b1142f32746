"""Last lab's perceptron, supplied so that every student starts Lab 21 from the same one.

Read it, use it, but do not edit it: the copy used for grading is always this one.
A perceptron gathers its inputs into one weighted sum and thresholds it into a class.
Labels are 0/1 here (not -1/+1), as in the rest of Lab 21.
"""

import numpy as np


def threshold(z):
    """The step function: class 1 when the weighted sum is at least 0, class 0 otherwise."""
    return 1 if z >= 0 else 0


def perceptron(data_row, weights):
    """One perceptron's output for one example: gather (weighted sum), then threshold."""
    return threshold(np.dot(data_row, weights))


def train_perceptron(data, epochs, learning_rate=0.1):
    """The perceptron learning rule on `data` (features, then the 0/1 label, per row).

    Returns the learned weights. No bias term, as in the lab's network.
    """
    features, labels = data[:, :-1], data[:, -1]
    weights = np.zeros(features.shape[1])
    for _ in range(epochs):
        for x, label in zip(features, labels, strict=True):
            weights = weights + learning_rate * (label - perceptron(x, weights)) * x
    return weights
