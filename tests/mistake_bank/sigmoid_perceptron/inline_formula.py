# base: reference
# expect: correct
# why: writes the logistic formula inline instead of calling sigmoid
# %% sigmoid_perceptron
def sigmoid_perceptron(data_row, weights):
    return 1.0 / (1.0 + np.exp(-(weights @ data_row)))
