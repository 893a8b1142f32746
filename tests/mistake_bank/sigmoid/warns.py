# base: reference
# expect: correct
# why: right, and raises a UserWarning through warnings.warn for large inputs
# %% sigmoid
import warnings


def sigmoid(x):
    if np.any(np.abs(x) > 700):
        warnings.warn("sigmoid: very large input, the result is 0 or 1", stacklevel=2)
    return np.exp(-np.logaddexp(0, -x))
