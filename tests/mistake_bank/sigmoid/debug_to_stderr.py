# base: reference
# expect: correct
# why: right, and prints a debug line to sys.stderr on every call
# %% sigmoid
import sys


def sigmoid(x):
    print(f"sigmoid called on {np.shape(x)}", file=sys.stderr)
    return 1 / (1 + np.exp(-x))
