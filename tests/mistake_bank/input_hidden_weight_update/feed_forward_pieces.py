# base: reference
# expect: correct
# why: takes Purple and Red from feed_forward and writes both slopes out as s * (1 - s)
# %% input_hidden_weight_update
def input_hidden_weight_update(curr_hidden_weight, input_weights, data_row, weight_index):
    purple, red = feed_forward(data_row, input_weights, curr_hidden_weight)
    return red * (1 - red) * curr_hidden_weight * purple * (1 - purple) * data_row[weight_index]
