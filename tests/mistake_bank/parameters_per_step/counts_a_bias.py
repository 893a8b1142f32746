# base: reference
# expect: wrong
# why: adds a bias weight that this network does not have
# %% parameters_per_step
def parameters_per_step(n_inputs):
    return n_inputs + 2
