# base: reference
# expect: wrong
# why: avoids overflow by clipping x to [-10, 10], so sigmoid(-1000) is 4.5e-5, not ~0
# %% sigmoid
def sigmoid(x):
    return 1 / (1 + np.exp(-np.clip(x, -10, 10)))
