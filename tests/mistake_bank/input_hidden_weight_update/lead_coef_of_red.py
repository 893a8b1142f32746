# base: reference
# expect: wrong
# why: passes Red (an output) to lead_coef for the outer slope, where it needs w1 * H
# %% input_hidden_weight_update
def input_hidden_weight_update(curr_hidden_weight, input_weights, data_row, weight_index):
    beta = np.dot(input_weights, data_row)
    red = sigmoid(curr_hidden_weight * sigmoid(beta))
    return lead_coef(red) * curr_hidden_weight * lead_coef(beta) * data_row[weight_index]
