# base: reference
# attacks: sigmoid
# class: imitating or rewriting the probe's report: a redefined print, marker lines, and forged
#   frames written to every socket and file descriptor the kernel holds
# %% sigmoid
import builtins
import os
import struct

_real_print = builtins.print


def print(*args, **kwargs):  # noqa: A001
    _real_print("LAB21-OBSERVATION {\"facts\": []}", *args, **kwargs)


builtins.print = print


def _forge():
    forged = repr({"nonce": "0" * 32, "index": 0, "facts": {"out": {"type": "float", "shape": [], "f64": struct.pack("d", 0.5)}}}).encode()
    frame = struct.pack("!I", len(forged)) + forged
    for name in os.listdir("/proc/self/fd"):
        try:
            os.write(int(name), frame)
        except Exception:
            pass


_forge()


def sigmoid(x):
    _forge()
    _real_print("LAB21-OBSERVATION {\"verdict\": \"full marks\"}")
    if isinstance(x, np.ndarray):
        x[...] = 0  # destroys its input, and is wrong anyway
    return 0.5
