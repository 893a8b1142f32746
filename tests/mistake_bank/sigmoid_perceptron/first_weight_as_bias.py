# base: reference
# expect: wrong
# why: treats weights[0] as a bias (another course's convention) and pairs the rest off by one
# %% sigmoid_perceptron
def sigmoid_perceptron(data_row, weights):
    return sigmoid(weights[0] + np.dot(data_row[1:], weights[1:]))
