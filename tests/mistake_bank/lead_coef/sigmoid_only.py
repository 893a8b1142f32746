# base: reference
# expect: wrong
# why: returns sigmoid(val_fx) and forgets the factor (1 - sigmoid(val_fx))
# %% lead_coef
def lead_coef(val_fx):
    return sigmoid(val_fx)
