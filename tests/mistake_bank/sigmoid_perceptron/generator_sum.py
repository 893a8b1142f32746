# base: reference
# expect: correct
# why: the weighted sum with a generator expression and the built-in sum
# %% sigmoid_perceptron
def sigmoid_perceptron(data_row, weights):
    return sigmoid(sum(w * x for w, x in zip(weights, data_row)))
