# base: reference
# expect: wrong
# why: 1 - s**2 is the derivative of tanh, not of the sigmoid
# %% lead_coef
def lead_coef(val_fx):
    return 1 - sigmoid(val_fx) ** 2
