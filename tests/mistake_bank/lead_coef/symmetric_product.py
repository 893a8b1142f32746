# base: reference
# expect: correct
# why: uses 1 - sigmoid(v) = sigmoid(-v)
# %% lead_coef
def lead_coef(val_fx):
    return sigmoid(val_fx) * sigmoid(-val_fx)
