# base: reference
# expect: wrong
# why: ignores epochs: keeps training until every row is right (at most 50 passes)
# %% firstNN
def firstNN(data, epochs, learning_rate=0.5):
    features, labels = data[:, :-1], data[:, -1]
    input_weights = np.random.normal(0.0, 0.5, features.shape[1])
    hidden_weight = 1.0

    def predict():
        red = sigmoid(hidden_weight * sigmoid(features @ input_weights))
        return (red >= sigmoid(hidden_weight / 2)).astype(int)

    passes = 0
    while passes < 50 and np.any(predict() != labels):
        passes += 1
        for row in np.random.permutation(len(data)):
            x, target = features[row], labels[row]
            hidden, red = feed_forward(x, input_weights, hidden_weight)
            input_grads = np.array(
                [input_hidden_weight_update(hidden_weight, input_weights, x, i) for i in range(len(x))]
            )
            hidden_grad = hidden_weight_update(hidden_weight, hidden)
            hidden_weight += learning_rate * (target - red) * hidden_grad
            input_weights = input_weights + learning_rate * (target - red) * input_grads
    return input_weights, hidden_weight, predict()
