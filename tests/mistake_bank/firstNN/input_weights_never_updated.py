# base: reference
# expect: wrong
# why: updates the hidden weight only: the input weights keep their random start
# %% firstNN
def firstNN(data, epochs, learning_rate=0.5):
    features, labels = data[:, :-1], data[:, -1]
    input_weights = np.random.normal(0.0, 0.5, features.shape[1])
    hidden_weight = 1.0
    for _ in range(epochs):
        for row in np.random.permutation(len(data)):
            x, target = features[row], labels[row]
            hidden, red = feed_forward(x, input_weights, hidden_weight)
            hidden_weight += learning_rate * (target - red) * hidden_weight_update(hidden_weight, hidden)
    red = sigmoid(hidden_weight * sigmoid(features @ input_weights))
    predictions = (red >= sigmoid(hidden_weight / 2)).astype(int)
    return input_weights, hidden_weight, predictions
