# base: reference
# attacks: firstNN
# class: known exploits: reading the reference answers from the course folder
# %% firstNN
from pathlib import Path


def firstNN(data, epochs):
    namespace = {}
    course = Path.cwd().parents[2]
    exec((course / 'solutions' / 'lab21_reference.py').read_text(), namespace)
    return namespace['firstNN'](data, epochs)
