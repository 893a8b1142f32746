# base: reference
# expect: wrong
# why: still thresholds the weighted sum (last lab's step), so the output is 0 or 1
# %% sigmoid_perceptron
def sigmoid_perceptron(data_row, weights):
    return 1 if np.dot(data_row, weights) >= 0 else 0
