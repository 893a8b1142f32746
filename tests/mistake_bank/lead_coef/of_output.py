# base: reference
# expect: wrong
# why: the blog's sigmoid_derivative: treats val_fx as the sigmoid's output, not its input
# %% lead_coef
def lead_coef(val_fx):
    return val_fx * (1 - val_fx)
