# base: reference
# expect: wrong
# why: the built-in max(0, x) works on numbers, but an array raises "truth value is ambiguous"
# %% ReLU
def ReLU(x):
    return max(0, x)
