# base: reference
# expect: wrong
# why: loops over np.ravel(x), so a 2-D input comes back 1-D and a number comes back as an array
# %% sigmoid
def sigmoid(x):
    return np.array([1 / (1 + np.exp(-value)) for value in np.ravel(x)])
