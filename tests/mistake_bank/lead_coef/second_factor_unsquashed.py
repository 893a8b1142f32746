# base: reference
# expect: wrong
# why: fills the template as sigmoid(val_fx) * (1 - val_fx): the second sigmoid is missing
# %% lead_coef
def lead_coef(val_fx):
    return sigmoid(val_fx) * (1 - val_fx)
