# base: reference
# expect: wrong
# why: Purple is the raw weighted sum: the hidden node's sigmoid is missing
# %% feed_forward
def feed_forward(data_row, input_weights, hidden_weight):
    purple = np.dot(input_weights, data_row)
    red = sigmoid(hidden_weight * purple)
    return purple, red
