# base: reference
# expect: wrong
# why: the tanh identity without halving x: 0.5 * (1 + tanh(x)) is sigmoid(2x)
# %% sigmoid
def sigmoid(x):
    return 0.5 * (1 + np.tanh(x))
