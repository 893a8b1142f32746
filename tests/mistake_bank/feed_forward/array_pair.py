# base: reference
# expect: correct
# why: returns the pair as a NumPy array [purple, red]: it unpacks and indexes like the tuple
# known gap: the check accepts only a tuple or a list ("expected a pair (Purple, Red)"), so the
#   right values score 0 of 2
# %% feed_forward
def feed_forward(data_row, input_weights, hidden_weight):
    purple = sigmoid(np.dot(input_weights, data_row))
    red = sigmoid(hidden_weight * purple)
    return np.array([purple, red])
