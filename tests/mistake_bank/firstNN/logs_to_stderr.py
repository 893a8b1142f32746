# base: reference
# expect: correct
# why: right, and prints each epoch's training error to sys.stderr and warns when epochs is 0
# %% firstNN
import sys
import warnings


def firstNN(data, epochs, learning_rate=0.5):
    if epochs == 0:
        warnings.warn("firstNN: 0 epochs, the weights stay random", stacklevel=2)
    features, labels = data[:, :-1], data[:, -1]
    input_weights = np.random.normal(0.0, 0.5, features.shape[1])
    hidden_weight = 1.0
    for epoch in range(epochs):
        squared_errors = []
        for row in np.random.permutation(len(data)):
            x, target = features[row], labels[row]
            hidden, red = feed_forward(x, input_weights, hidden_weight)
            squared_errors.append((target - red) ** 2)
            input_grads = np.array(
                [input_hidden_weight_update(hidden_weight, input_weights, x, i) for i in range(len(x))]
            )
            hidden_grad = hidden_weight_update(hidden_weight, hidden)
            hidden_weight += learning_rate * (target - red) * hidden_grad
            input_weights = input_weights + learning_rate * (target - red) * input_grads
        print(f"epoch {epoch}: MSE {np.mean(squared_errors):.4f}", file=sys.stderr)
    red = sigmoid(hidden_weight * sigmoid(features @ input_weights))
    predictions = (red >= sigmoid(hidden_weight / 2)).astype(int)
    return input_weights, hidden_weight, predictions
