# base: reference
# expect: wrong
# why: multiplies by w1 instead of H (the derivative of w1 * H with respect to H, not w1)
# %% hidden_weight_update
def hidden_weight_update(curr_hidden_weight, hidden_output):
    return lead_coef(curr_hidden_weight * hidden_output) * curr_hidden_weight
