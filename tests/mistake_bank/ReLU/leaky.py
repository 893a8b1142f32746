# base: reference
# expect: wrong
# why: a leaky ReLU (0.01 x below 0), not the ReLU the lab defines
# %% ReLU
def ReLU(x):
    return np.where(x >= 0, x, 0.01 * x)
