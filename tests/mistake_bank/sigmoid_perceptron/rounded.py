# base: reference
# expect: wrong
# why: rounds the sigmoid's output, which is a threshold at 0.5 in disguise
# %% sigmoid_perceptron
def sigmoid_perceptron(data_row, weights):
    return round(float(sigmoid(np.dot(data_row, weights))))
