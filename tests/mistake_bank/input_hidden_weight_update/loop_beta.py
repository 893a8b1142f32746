# base: reference
# expect: correct
# why: the handout's template, with beta summed by a loop
# %% input_hidden_weight_update
def input_hidden_weight_update(curr_hidden_weight, input_weights, data_row, weight_index):
    w1, w0, d, i = curr_hidden_weight, input_weights, data_row, weight_index
    beta = 0.0
    for k in range(len(w0)):
        beta += w0[k] * d[k]
    red = sigmoid(w1 * sigmoid(beta))
    return red * (1 - red) * w1 * lead_coef(beta) * d[i]
