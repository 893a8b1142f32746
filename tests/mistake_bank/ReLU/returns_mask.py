# base: reference
# expect: wrong
# why: returns the test x > 0 (True/False) instead of x itself where it is positive
# %% ReLU
def ReLU(x):
    return x > 0
