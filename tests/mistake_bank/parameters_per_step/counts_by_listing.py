# base: reference
# expect: correct
# why: lists the weights by name and counts them
# %% parameters_per_step
def parameters_per_step(n_inputs):
    names = [f"w0_{i}" for i in range(n_inputs)] + ["w1"]
    return len(names)
