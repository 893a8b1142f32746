# base: reference
# expect: correct
# why: s - s**2, the same product multiplied out
# %% lead_coef
def lead_coef(val_fx):
    s = sigmoid(val_fx)
    return s - s**2
