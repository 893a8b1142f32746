# base: reference
# expect: wrong
# why: np.maximum(x, 0, out=x) writes the result into the caller's array
# %% ReLU
def ReLU(x):
    if np.ndim(x) == 0:
        return max(x, 0.0)
    np.maximum(x, 0, out=x)
    return x
