# base: reference
# expect: wrong
# why: counts the input weights and forgets the hidden weight
# %% parameters_per_step
def parameters_per_step(n_inputs):
    return n_inputs
