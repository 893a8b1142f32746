# base: reference
# expect: correct
# why: the textbook formula: np.exp(1000) overflows with a RuntimeWarning, but 1/(1+inf) is 0
# %% sigmoid
def sigmoid(x):
    return 1 / (1 + np.exp(-x))
