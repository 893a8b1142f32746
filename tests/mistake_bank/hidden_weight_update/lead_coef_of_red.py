# base: reference
# expect: wrong
# why: computes Red first and passes it to lead_coef, which expects the pre-activation
# %% hidden_weight_update
def hidden_weight_update(curr_hidden_weight, hidden_output):
    red = sigmoid(curr_hidden_weight * hidden_output)
    return lead_coef(red) * hidden_output
