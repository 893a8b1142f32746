# base: reference
# expect: correct
# why: np.clip with no upper bound
# %% ReLU
def ReLU(x):
    return np.clip(x, 0, None)
