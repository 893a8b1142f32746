# base: reference
# expect: correct
# why: x * (x > 0): the boolean mask turns into 0/1, so the result is x or 0 (float for floats)
# %% ReLU
def ReLU(x):
    return x * (x > 0)
