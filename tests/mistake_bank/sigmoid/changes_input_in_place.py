# base: reference
# expect: wrong
# why: reuses the caller's array as scratch space, so the input comes back changed
# %% sigmoid
def sigmoid(x):
    if isinstance(x, np.ndarray):
        np.negative(x, out=x)
        np.exp(x, out=x)
        x += 1
        return 1 / x
    return 1 / (1 + np.exp(-x))
