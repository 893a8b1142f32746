# base: reference
# expect: correct
# why: the two-branch stable form; np.where evaluates both branches, so it still warns
# %% sigmoid
def sigmoid(x):
    x = np.asarray(x, dtype=float)
    values = np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))
    return values.item() if values.ndim == 0 else values
