# base: reference
# expect: wrong
# why: forgets the hidden node's own slope H (1 - H): treats the hidden node as linear
# %% input_hidden_weight_update
def input_hidden_weight_update(curr_hidden_weight, input_weights, data_row, weight_index):
    beta = np.dot(input_weights, data_row)
    outer = lead_coef(curr_hidden_weight * sigmoid(beta))
    return outer * curr_hidden_weight * data_row[weight_index]
