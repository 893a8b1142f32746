# base: reference
# attacks: firstNN
# class: a firstNN that learns nothing: it makes the calls the contract watches, never changes
#   a weight, and returns the labels it was given as its predictions
# %% firstNN
def firstNN(data, epochs):
    features, labels = data[:, :-1], data[:, -1]
    input_weights = np.random.normal(0.0, 0.5, features.shape[1])
    hidden_weight = 1.0
    for _ in range(epochs):
        for row in np.random.permutation(len(data)):
            hidden = sigmoid(np.dot(input_weights, features[row]))
            hidden_weight_update(hidden_weight, hidden)
            for index in range(len(input_weights)):
                input_hidden_weight_update(hidden_weight, input_weights, features[row], index)
    return input_weights, hidden_weight, labels.copy()
