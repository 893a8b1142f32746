# base: reference
# expect: wrong
# why: np.heaviside is the threshold (0 or 1), not the rectifier
# %% ReLU
def ReLU(x):
    return np.heaviside(x, 1.0)
