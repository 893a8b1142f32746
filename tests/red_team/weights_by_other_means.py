# base: reference
# attacks: firstNN
# class: weights worked out without training (the difference of the two class means, a fine
#   boundary for this data), behind derivative calls made for show with weights that wander
# %% firstNN
def firstNN(data, epochs):
    features, labels = data[:, :-1], data[:, -1]
    shown = np.random.normal(0.0, 0.5, features.shape[1])
    for _ in range(epochs):
        for row in np.random.permutation(len(data)):
            hidden_weight_update(1.0 + np.random.rand(), sigmoid(np.dot(shown, features[row])))
            for index in range(len(shown)):
                input_hidden_weight_update(1.0, shown, features[row], index)
            shown = shown + np.random.normal(0, 0.01, len(shown))
    input_weights = 20 * (features[labels == 1].mean(0) - features[labels == 0].mean(0))
    hidden_weight = 5.0
    red = sigmoid(hidden_weight * sigmoid(features @ input_weights))
    return input_weights, hidden_weight, (red >= sigmoid(hidden_weight / 2)).astype(float)
