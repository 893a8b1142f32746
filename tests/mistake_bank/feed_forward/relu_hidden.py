# base: reference
# expect: wrong
# why: uses ReLU for the hidden node where the lab's network uses the sigmoid
# %% feed_forward
def feed_forward(data_row, input_weights, hidden_weight):
    purple = ReLU(np.dot(input_weights, data_row))
    red = sigmoid(hidden_weight * purple)
    return purple, red
