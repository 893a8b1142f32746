# base: reference
# expect: correct
# why: sigmoid(x) = (1 + tanh(x/2)) / 2, which never overflows
# %% sigmoid
def sigmoid(x):
    return 0.5 * (1 + np.tanh(x / 2))
