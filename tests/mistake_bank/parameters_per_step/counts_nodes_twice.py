# base: reference
# expect: wrong
# why: counts one weight per input for each of the two layers (2 n)
# %% parameters_per_step
def parameters_per_step(n_inputs):
    return 2 * n_inputs
