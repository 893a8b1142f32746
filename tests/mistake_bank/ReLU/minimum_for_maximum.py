# base: reference
# expect: wrong
# why: np.minimum instead of np.maximum keeps the negative part
# %% ReLU
def ReLU(x):
    return np.minimum(x, 0)
