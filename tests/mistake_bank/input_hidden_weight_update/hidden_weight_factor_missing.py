# base: reference
# expect: wrong
# why: forgets the factor w1 that the chain rule brings out of w1 * H
# %% input_hidden_weight_update
def input_hidden_weight_update(curr_hidden_weight, input_weights, data_row, weight_index):
    beta = np.dot(input_weights, data_row)
    return lead_coef(curr_hidden_weight * sigmoid(beta)) * lead_coef(beta) * data_row[weight_index]
