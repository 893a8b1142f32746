# base: reference
# expect: wrong
# why: recurses over the elements of an array and returns (nested) Python lists, not an array,
#   so sigmoid(x) * (1 - sigmoid(x)) fails for arrays
# %% sigmoid
def sigmoid(x):
    if np.ndim(x) == 0:
        return 1 / (1 + np.exp(-x))
    return [sigmoid(value) for value in x]
