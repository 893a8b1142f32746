# base: reference
# expect: wrong
# why: thresholds the output into a class inside the forward pass, so Red is 0 or 1
# %% feed_forward
def feed_forward(data_row, input_weights, hidden_weight):
    purple = sigmoid(np.dot(input_weights, data_row))
    red = 1.0 if sigmoid(hidden_weight * purple) >= 0.5 else 0.0
    return purple, red
