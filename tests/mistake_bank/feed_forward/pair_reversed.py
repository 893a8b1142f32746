# base: reference
# expect: wrong
# why: returns (Red, Purple), the pair in the wrong order
# %% feed_forward
def feed_forward(data_row, input_weights, hidden_weight):
    purple = sigmoid(np.dot(input_weights, data_row))
    red = sigmoid(hidden_weight * purple)
    return red, purple
