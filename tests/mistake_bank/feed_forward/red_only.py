# base: reference
# expect: wrong
# why: returns Red alone, not the pair (Purple, Red)
# %% feed_forward
def feed_forward(data_row, input_weights, hidden_weight):
    purple = sigmoid(np.dot(input_weights, data_row))
    return sigmoid(hidden_weight * purple)
