# base: reference
# expect: correct
# why: Red * (1 - Red) * H written out, without lead_coef
# %% hidden_weight_update
def hidden_weight_update(curr_hidden_weight, hidden_output):
    red = sigmoid(curr_hidden_weight * hidden_output)
    return red * (1 - red) * hidden_output
