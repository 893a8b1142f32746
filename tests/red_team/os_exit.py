# base: reference
# attacks: ReLU
# class: pathological code: os._exit in the function
# %% ReLU
import os


def ReLU(x):
    os._exit(3)
