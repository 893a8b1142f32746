# base: reference
# attacks: sigmoid_perceptron
# class: pathological code: a 16 GB array
# %% sigmoid_perceptron
def sigmoid_perceptron(data_row, weights):
    hog = np.ones(2 * 10**9)
    return float(hog[0])
