# base: reference
# expect: wrong
# why: data_row[weight_index - 1]: counts inputs from 1 (right only when there is one input)
# %% input_hidden_weight_update
def input_hidden_weight_update(curr_hidden_weight, input_weights, data_row, weight_index):
    beta = np.dot(input_weights, data_row)
    outer = lead_coef(curr_hidden_weight * sigmoid(beta))
    return outer * curr_hidden_weight * lead_coef(beta) * data_row[weight_index - 1]
