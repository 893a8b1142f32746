# base: reference
# attacks: firstNN
# class: known exploits: importing the grader's own package
# %% firstNN
def firstNN(data, epochs):
    from coursepack.reference import load_reference
    return load_reference().firstNN(data, epochs)
