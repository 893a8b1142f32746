# base: reference
# expect: wrong
# why: s * (s - 1): the right size with the wrong sign
# %% lead_coef
def lead_coef(val_fx):
    s = sigmoid(val_fx)
    return s * (s - 1)
