# base: reference
# expect: correct
# why: another start: input weights uniform in [-1, 1] and a random hidden weight in [0.5, 1.5]
# %% firstNN
def firstNN(data, epochs, learning_rate=0.5):
    features, labels = data[:, :-1], data[:, -1]
    input_weights = np.random.uniform(-1.0, 1.0, features.shape[1])
    hidden_weight = np.random.uniform(0.5, 1.5)
    for _ in range(epochs):
        for row in np.random.permutation(len(data)):
            x, target = features[row], labels[row]
            hidden, red = feed_forward(x, input_weights, hidden_weight)
            input_grads = np.array(
                [input_hidden_weight_update(hidden_weight, input_weights, x, i) for i in range(len(x))]
            )
            hidden_grad = hidden_weight_update(hidden_weight, hidden)
            hidden_weight += learning_rate * (target - red) * hidden_grad
            input_weights = input_weights + learning_rate * (target - red) * input_grads
    red = sigmoid(hidden_weight * sigmoid(features @ input_weights))
    predictions = (red >= sigmoid(hidden_weight / 2)).astype(int)
    return input_weights, hidden_weight, predictions
