# base: reference
# expect: correct
# why: the handout's template filled in, with its short names w1 and H
# %% hidden_weight_update
def hidden_weight_update(curr_hidden_weight, hidden_output):
    w1 = curr_hidden_weight
    H = hidden_output
    return lead_coef(w1 * H) * H
