# base: reference
# expect: wrong
# why: stops at the sigmoid's slope and forgets the chain rule's factor H
# %% hidden_weight_update
def hidden_weight_update(curr_hidden_weight, hidden_output):
    return lead_coef(curr_hidden_weight * hidden_output)
