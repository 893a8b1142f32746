# base: reference
# expect: wrong
# why: answers for the two-input picture (one input weight and the hidden weight), whatever n is
# %% parameters_per_step
def parameters_per_step(n_inputs):
    return 2
