# base: reference
# attacks: input_hidden_weight_update
# class: the network: loopback services of the grading machine, the outside world, abstract
#   Unix sockets; an answer fetched from anywhere would be used
# %% input_hidden_weight_update
import socket


def _fetch():
    for address in [("127.0.0.1", port) for port in (22, 80, 5432, 8021, 8888)] + [("1.1.1.1", 80), ("pypi.org", 443)]:
        try:
            with socket.create_connection(address, timeout=0.5) as connection:
                connection.sendall(b"GET / HTTP/1.0\r\n\r\n")
                return connection.recv(100)
        except Exception:
            pass
    for name in ("\0jupyter", "\0lab21", "\0/tmp/.X11-unix/X0"):
        try:
            connection = socket.socket(socket.AF_UNIX)
            connection.connect(name)
            return b"abstract"
        except Exception:
            pass
    return None


def input_hidden_weight_update(curr_hidden_weight, input_weights, data_row, weight_index):
    answer = _fetch()
    if answer is not None:
        raise SystemExit(f"network reached: {answer!r}")
    return 0.0  # wrong
