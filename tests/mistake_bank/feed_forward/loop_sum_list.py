# base: reference
# expect: correct
# why: the weighted sum by an explicit loop, the pair returned as a list
# %% feed_forward
def feed_forward(data_row, input_weights, hidden_weight):
    total = 0.0
    for weight, value in zip(input_weights, data_row):
        total += weight * value
    purple = sigmoid(total)
    return [purple, sigmoid(hidden_weight * purple)]
