# base: reference
# expect: wrong
# why: math.exp works on one number only: arrays raise TypeError and exp(1000) overflows
# %% sigmoid
import math


def sigmoid(x):
    return 1 / (1 + math.exp(-x))
