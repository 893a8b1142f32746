# base: reference
# expect: correct
# why: a stable scalar sigmoid with math.exp, lifted to arrays by np.vectorize (0-d for numbers)
# %% sigmoid
import math


def _sigmoid_of_one(value):
    if value >= 0:
        return 1 / (1 + math.exp(-value))
    exp_value = math.exp(value)
    return exp_value / (1 + exp_value)


def sigmoid(x):
    return np.vectorize(_sigmoid_of_one, otypes=[float])(x)
