# base: reference
# expect: wrong
# why: uses beta where the outer slope needs H = sigmoid(beta): lead_coef(w1 * beta)
# %% input_hidden_weight_update
def input_hidden_weight_update(curr_hidden_weight, input_weights, data_row, weight_index):
    beta = np.dot(input_weights, data_row)
    outer = lead_coef(curr_hidden_weight * beta)
    return outer * curr_hidden_weight * lead_coef(beta) * data_row[weight_index]
