# base: reference
# expect: wrong
# why: e^(+x) in the denominator, which mirrors the curve (right only at 0)
# %% sigmoid
def sigmoid(x):
    return 1 / (1 + np.exp(x))
