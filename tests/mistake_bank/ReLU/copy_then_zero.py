# base: reference
# expect: correct
# why: copies x first, then zeroes the negatives of the copy (the fix of the in-place mistake)
# %% ReLU
def ReLU(x):
    values = np.array(x, dtype=float)
    values[values < 0] = 0.0
    return values
