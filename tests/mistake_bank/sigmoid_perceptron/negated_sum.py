# base: reference
# expect: wrong
# why: a sign slip: sigmoid(-w . x), the probability of the other class
# %% sigmoid_perceptron
def sigmoid_perceptron(data_row, weights):
    return sigmoid(-np.dot(data_row, weights))
