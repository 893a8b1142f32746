# base: reference
# expect: correct
# why: the in-place product done on a copy, so the caller's weights stay as they were
# %% input_hidden_weight_update
def input_hidden_weight_update(curr_hidden_weight, input_weights, data_row, weight_index):
    products = np.array(input_weights, dtype=float)
    products *= data_row
    beta = products.sum()
    outer = lead_coef(curr_hidden_weight * sigmoid(beta))
    return outer * curr_hidden_weight * lead_coef(beta) * data_row[weight_index]
