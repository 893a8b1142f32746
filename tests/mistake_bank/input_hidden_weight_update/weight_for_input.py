# base: reference
# expect: wrong
# why: the last factor is the weight w0_i instead of the input x_i
# %% input_hidden_weight_update
def input_hidden_weight_update(curr_hidden_weight, input_weights, data_row, weight_index):
    beta = np.dot(input_weights, data_row)
    outer = lead_coef(curr_hidden_weight * sigmoid(beta))
    return outer * curr_hidden_weight * lead_coef(beta) * input_weights[weight_index]
