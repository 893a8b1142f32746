# base: reference
# expect: wrong
# why: input_weights * data_row without the sum: Purple is an array (right only for one input)
# %% feed_forward
def feed_forward(data_row, input_weights, hidden_weight):
    purple = sigmoid(input_weights * data_row)
    red = sigmoid(hidden_weight * purple)
    return purple, red
