# base: reference
# attacks: sigmoid
# class: pathological code: an endless loop
# %% sigmoid
def sigmoid(x):
    while True:
        pass
