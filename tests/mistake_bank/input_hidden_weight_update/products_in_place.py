# base: reference
# expect: wrong
# why: the right value, but w0 *= d computes the products inside the caller's weight array
# %% input_hidden_weight_update
def input_hidden_weight_update(curr_hidden_weight, input_weights, data_row, weight_index):
    w0 = input_weights
    w0 *= data_row
    beta = np.sum(w0)
    outer = lead_coef(curr_hidden_weight * sigmoid(beta))
    return outer * curr_hidden_weight * lead_coef(beta) * data_row[weight_index]
