# base: reference
# attacks: firstNN
# class: a firstNN whose weights cannot tell any two rows apart (the hidden weight 0, or every
#   input weight 0: each row's Red sits exactly on the threshold), so that any predictions seem
#   consistent with them; it hands in the labels it was given
# %% firstNN
calls = [0]


def firstNN(data, epochs):
    features, labels = data[:, :-1], data[:, -1]
    input_weights = np.random.normal(0.0, 0.5, features.shape[1])
    for _ in range(epochs):  # the calls the contract watches, the weights drifting at random
        for row in np.random.permutation(len(data)):
            hidden = sigmoid(np.dot(input_weights, features[row]))
            hidden_weight_update(1.0 + np.random.rand(), hidden)
            for index in range(len(input_weights)):
                input_hidden_weight_update(1.0, input_weights, features[row], index)
            input_weights = input_weights + np.random.normal(0, 0.01, len(input_weights))
    calls[0] += 1
    if calls[0] % 2:  # both ways of tying every row, one run after the other
        return input_weights, 0.0, labels.copy()
    return np.zeros_like(input_weights), 2.0, labels.copy()
