# base: reference
# expect: correct
# why: returns the pair as a NumPy array [purple, red]: it unpacks and indexes like the tuple
# %% feed_forward
def feed_forward(data_row, input_weights, hidden_weight):
    purple = sigmoid(np.dot(input_weights, data_row))
    red = sigmoid(hidden_weight * purple)
    return np.array([purple, red])
