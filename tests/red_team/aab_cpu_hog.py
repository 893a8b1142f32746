# base: reference
# attacks: hidden_weight_update
# class: starving the kernel graded beside it of CPU, so that honest code runs out of wall
#   time: sixty busy loops, each in a session of its own (so the scheduler's per-session
#   grouping does not fold them into one), kept alive by slow answer cells. Named to be graded
#   first, beside aaa_honest_first (classgrade takes the class in name order).
# %% sigmoid
import subprocess
import time

for _ in range(60):
    subprocess.Popen(["sh", "-c", "while :; do :; done"], start_new_session=True)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


time.sleep(3.5)
# %% ReLU
def ReLU(x):
    return np.maximum(x, 0.0)


time.sleep(3.5)
# %% lead_coef
def lead_coef(val_fx):
    return sigmoid(val_fx) * (1 - sigmoid(val_fx))


time.sleep(3.5)
# %% hidden_weight_update
def hidden_weight_update(curr_hidden_weight, hidden_output):
    return curr_hidden_weight
