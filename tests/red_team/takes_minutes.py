# base: reference
# attacks: hidden_weight_update
# class: pathological code: a function that sleeps for ten minutes
# %% hidden_weight_update
import time


def hidden_weight_update(curr_hidden_weight, hidden_output):
    time.sleep(600)
