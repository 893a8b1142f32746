# base: reference
# expect: correct
# why: the handout's signature firstNN(data, epochs), the learning rate fixed inside
# %% firstNN
def firstNN(data, epochs):
    learning_rate = 0.5
    num_in_weights = data.shape[1] - 1
    in_weights = np.random.normal(0.0, 0.5, num_in_weights)
    hid_weight = 1.0
    for _ in range(epochs):
        for d in data[np.random.permutation(len(data))]:
            x, truth = d[:-1], d[-1]
            purple, red = feed_forward(x, in_weights, hid_weight)
            hid_step = hidden_weight_update(hid_weight, purple)
            in_steps = np.zeros(num_in_weights)
            for i in range(num_in_weights):
                in_steps[i] = input_hidden_weight_update(hid_weight, in_weights, x, i)
            hid_weight = hid_weight + learning_rate * (truth - red) * hid_step
            in_weights = in_weights + learning_rate * (truth - red) * in_steps
    preds = np.array(
        [1 if feed_forward(d[:-1], in_weights, hid_weight)[1] >= sigmoid(hid_weight / 2) else 0
         for d in data]
    )
    return in_weights, hid_weight, preds
