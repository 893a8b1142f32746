# base: reference
# %% sigmoid
def sigmoid(x):
    # Right, but np.exp overflows (with a RuntimeWarning) for x below about -709.
    return 1 / (1 + np.exp(-x))

# %% lead_coef
def lead_coef(val_fx):
    # Mistake: treats val_fx as the sigmoid's output instead of its input.
    return val_fx * (1 - val_fx)

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
            # Mistake (the handout's sign): this climbs the error instead of descending it.
            hidden_weight -= learning_rate * (target - red) * hidden_weight_update(hidden_weight, hidden)
            input_weights = input_weights - learning_rate * (target - red) * np.array(grads)
    red = sigmoid(hidden_weight * sigmoid(features @ input_weights))
    predictions = (red >= sigmoid(hidden_weight / 2)).astype(int)
    return input_weights, hidden_weight, predictions
