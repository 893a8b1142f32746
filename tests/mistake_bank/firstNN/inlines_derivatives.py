# base: reference
# expect: wrong
# why: learns, but writes the derivatives inline where the lab asks for hidden_weight_update
#   (one call per row per epoch) and input_hidden_weight_update
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
            red_slope = red * (1 - red)
            hidden_grad = red_slope * hidden
            input_grads = red_slope * hidden_weight * hidden * (1 - hidden) * x
            hidden_weight += learning_rate * (target - red) * hidden_grad
            input_weights = input_weights + learning_rate * (target - red) * input_grads
    red = sigmoid(hidden_weight * sigmoid(features @ input_weights))
    predictions = (red >= sigmoid(hidden_weight / 2)).astype(int)
    return input_weights, hidden_weight, predictions
