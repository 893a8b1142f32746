# base: reference
# expect: wrong
# why: takes the slope at w1 instead of at the pre-activation w1 * H
# %% hidden_weight_update
def hidden_weight_update(curr_hidden_weight, hidden_output):
    return lead_coef(curr_hidden_weight) * hidden_output
