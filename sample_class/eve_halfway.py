# base: release
# %% sigmoid
import math


def sigmoid(x):
    # Mistake: math.exp takes one number only, and overflows at x = -1000.
    return 1 / (1 + math.exp(-x))

# %% ReLU
def ReLU(x):
    return np.where(x >= 0, x, 0)

# %% feed_forward
def feed_forward(data_row, input_weights, hidden_weight):
    purple = sigmoid(sum(w * x for w, x in zip(input_weights, data_row)))
    return purple, sigmoid(hidden_weight * purple)
