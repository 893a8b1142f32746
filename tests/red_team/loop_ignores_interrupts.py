# base: reference
# attacks: lead_coef
# class: pathological code: an endless loop that swallows interrupts
# %% lead_coef
def lead_coef(val_fx):
    while True:
        try:
            while True:
                pass
        except BaseException:
            pass
