# base: reference
# expect: wrong
# why: moves the hidden weight, then takes each input weight's derivative with the weights already
#   moved, where the lab asks for every derivative of a row before any weight moves
# %% firstNN
def firstNN(data, epochs, learning_rate=0.5):
    features, labels = data[:, :-1], data[:, -1]
    input_weights = np.random.normal(0.0, 0.5, features.shape[1])
    hidden_weight = 1.0
    for _ in range(epochs):
        for row in np.random.permutation(len(data)):
            x, target = features[row], labels[row]
            hidden, red = feed_forward(x, input_weights, hidden_weight)
            step = learning_rate * (target - red)
            hidden_weight += step * hidden_weight_update(hidden_weight, hidden)
            for i in range(len(x)):
                input_weights[i] += step * input_hidden_weight_update(
                    hidden_weight, input_weights, x, i
                )
    red = sigmoid(hidden_weight * sigmoid(features @ input_weights))
    predictions = (red >= sigmoid(hidden_weight / 2)).astype(int)
    return input_weights, hidden_weight, predictions
