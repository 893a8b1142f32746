# base: reference
# expect: wrong
# why: applies the sigmoid to each product and sums, instead of the sigmoid of the sum
# %% sigmoid_perceptron
def sigmoid_perceptron(data_row, weights):
    return np.sum(sigmoid(data_row * weights))
