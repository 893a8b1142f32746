# base: reference
# expect: correct
# why: the two-branch stable form with the unused branch's overflow silenced by np.errstate
# %% sigmoid
def sigmoid(x):
    x = np.asarray(x, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        values = np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))
    return values.item() if values.ndim == 0 else values
