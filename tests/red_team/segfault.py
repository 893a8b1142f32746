# base: reference
# attacks: feed_forward
# class: pathological code: a segmentation fault (ctypes)
# %% feed_forward
import ctypes


def feed_forward(data_row, input_weights, hidden_weight):
    return ctypes.string_at(0)
