# base: reference
# expect: wrong
# why: the derivative of the error's sign leaks in: returns -dRed/dw1
# %% hidden_weight_update
def hidden_weight_update(curr_hidden_weight, hidden_output):
    return -lead_coef(curr_hidden_weight * hidden_output) * hidden_output
