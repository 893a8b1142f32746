# base: reference
# expect: correct
# why: smaller steps (learning rate 0.2, start weights normal(0, 0.1)); predictions left as the
#   boolean array Red >= sigmoid(w1 / 2), which counts as 0/1
# %% firstNN
def firstNN(data, epochs, learning_rate=0.2):
    features, labels = data[:, :-1], data[:, -1]
    input_weights = np.random.normal(0.0, 0.1, features.shape[1])
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
    red = sigmoid(hidden_weight * sigmoid(features @ input_weights))
    return input_weights, hidden_weight, red >= sigmoid(hidden_weight / 2)
