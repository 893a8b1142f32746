# base: reference
# expect: correct
# why: predicts row by row from the hidden output: H >= 0.5 when w1 > 0, H <= 0.5 when w1 < 0
#   (the same as Red >= sigmoid(w1 / 2))
# %% firstNN
def firstNN(data, epochs, learning_rate=0.5):
    features, labels = data[:, :-1], data[:, -1]
    input_weights = np.random.normal(0.0, 0.5, features.shape[1])
    hidden_weight = 1.0
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
    predictions = []
    for x in features:
        hidden, _ = feed_forward(x, input_weights, hidden_weight)
        above = hidden >= 0.5 if hidden_weight > 0 else hidden <= 0.5
        predictions.append(1 if above else 0)
    return input_weights, hidden_weight, np.array(predictions)
