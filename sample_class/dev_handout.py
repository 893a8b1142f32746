# base: reference
# %% ReLU
def ReLU(x):
    # Mistake: changes the caller's array, and fails on a plain number.
    x[x < 0] = 0
    return x

# %% firstNN
def firstNN(data, epochs, learning_rate=0.5):
    features, labels = data[:, :-1], data[:, -1]
    input_weights = np.random.normal(0.0, 0.5, features.shape[1])
    hidden_weight = 1.0
    for _ in range(epochs):
        for row in np.random.permutation(len(data)):
            x, target = features[row], labels[row]
            hidden = sigmoid(np.dot(input_weights, x))
            red = sigmoid(hidden_weight * hidden)
            grads = [input_hidden_weight_update(hidden_weight, input_weights, x, i)
                     for i in range(len(x))]
            hidden_weight += learning_rate * (target - red) * hidden_weight_update(hidden_weight, hidden)
            input_weights = input_weights + learning_rate * (target - red) * np.array(grads)
    red = sigmoid(hidden_weight * sigmoid(features @ input_weights))
    # Mistake (the handout's threshold): Red never crosses 0.5 in this network.
    predictions = (red >= 0.5).astype(int)
    return input_weights, hidden_weight, predictions
