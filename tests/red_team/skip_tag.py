# base: reference
# attacks: lead_coef
# class: known exploits: lead_coef's test cells tagged skip-execution (the test adds the tag)
# %% lead_coef
def lead_coef(val_fx):
    return -1.0
