# base: reference
# expect: correct
# why: the @ operator for the weighted sum
# %% feed_forward
def feed_forward(data_row, input_weights, hidden_weight):
    purple = sigmoid(data_row @ input_weights)
    red = sigmoid(hidden_weight * purple)
    return purple, red
