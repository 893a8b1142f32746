"""The sandbox's zygote: a warm Python that forks one fresh, isolated kernel per submission.

This file runs INSIDE the bubblewrap sandbox that coursepack/sandbox_launch.py starts, as the
slot's unprivileged user, with nothing of the course in view. Its source arrives through a pipe;
it uses only the standard library and the venv's packages.

Start-up imports what every kernel of the lab needs (numpy, pandas, matplotlib, seaborn,
ipykernel) once. Then, for each kernel the grader asks for, it forks a child that

1. makes new user, mount, PID, network, IPC and UTS namespaces of its own (nested in the
   sandbox's), so that the kernel cannot see, signal or trace the zygote or any earlier kernel,
   has no network, and no file it writes outlives it;
2. mounts fresh size-limited tmpfs folders on /home/student (its working folder, filled with
   the submission's files), /tmp and /dev/shm, and shows only its own run folder (/run/kernel:
   the connection file and ZeroMQ sockets), covering the slot's other run folders; everything
   else is read-only;
3. forks the kernel as PID 1 of the new PID namespace: when the kernel exits, the Linux kernel
   kills everything it started, whatever it forked or setsid'd;
4. in the kernel: mounts its /proc, sets resource limits, drops every capability, and starts
   ipykernel in the already-warm interpreter (or execs a fresh one when not warm).

Commands arrive on stdin, one JSON object per line; replies and exit notices leave on stdout.
"""

import base64
import ctypes
import json
import os
import resource
import select
import signal
import subprocess
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP = 1, 4, 24
CAP_LAST = 63

WORK = "/home/student"
RUN = "/run/kernel"
SLOT_RUN = "/run/lab21"
SANDBOX_UID = 1000  # the sandbox's uid, mapped by bubblewrap to the slot's host uid

libc = ctypes.CDLL(None, use_errno=True)


def _check(result, what):
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def mount(source, target, fstype, flags, data=None):
    _check(
        libc.mount(
            source.encode() if source else None,
            target.encode(),
            fstype.encode() if fstype else None,
            ctypes.c_ulong(flags),
            data.encode() if data else None,
        ),
        f"mount {target}",
    )


def drop_capabilities():
    """No capabilities left, now or after any exec: the kernel is an ordinary process."""
    for cap in range(CAP_LAST + 1):
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)  # fails past the last known cap: fine

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [(n, ctypes.c_uint32) for n in ("effective", "permitted", "inheritable")]

    header, data = Header(0x20080522, 0), (Data * 2)()  # _LINUX_CAPABILITY_VERSION_3
    _check(libc.capset(ctypes.byref(header), data), "capset")


# ----------------------------------------------------------------------------------------------
# Warm-up: what every kernel of the lab imports, done once


def warm_up():
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    import ipykernel.debugger  # noqa: F401  (imported by every kernel's start: debugpy, 0.07 s)
    import ipykernel.ipkernel  # noqa: F401
    import ipykernel.kernelapp  # noqa: F401
    import ipykernel.zmqshell  # noqa: F401
    import IPython.core.history  # noqa: F401
    import matplotlib.pyplot  # noqa: F401
    import matplotlib_inline.backend_inline  # noqa: F401
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import seaborn  # noqa: F401


# ----------------------------------------------------------------------------------------------
# One kernel


def write_id_map(path, line):
    with open(path, "w") as handle:
        handle.write(line)


def enter_namespaces():
    """New namespaces for this process; it keeps the sandbox uid and has capabilities only
    inside its own user namespace (used below for mounts, then dropped)."""
    _check(
        libc.unshare(
            CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
        ),
        "unshare",
    )
    write_id_map("/proc/self/setgroups", "deny")
    write_id_map("/proc/self/uid_map", f"{SANDBOX_UID} {SANDBOX_UID} 1")
    write_id_map("/proc/self/gid_map", f"{SANDBOX_UID} {SANDBOX_UID} 1")


def prepare_filesystem(spec):
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    tmpfs_flags = MS_NOSUID | MS_NODEV
    work_size, tmp_size = spec["work_bytes"], spec["tmp_bytes"]
    mount("tmpfs", WORK, "tmpfs", tmpfs_flags, f"size={work_size},nr_inodes=8192,mode=0700")
    mount("tmpfs", "/tmp", "tmpfs", tmpfs_flags, f"size={tmp_size},nr_inodes=8192,mode=1777")
    mount("tmpfs", "/dev/shm", "tmpfs", tmpfs_flags, "size=16m,nr_inodes=1024,mode=1777")
    # Only this kernel's run folder stays in view; the slot's folder is covered by an empty,
    # read-only tmpfs.
    mount(f"{SLOT_RUN}/{spec['name']}", RUN, None, MS_BIND)
    with open(f"{RUN}/kernel.json", "w") as handle:
        json.dump(spec["connection"], handle)
    mount("tmpfs", SLOT_RUN, "tmpfs", MS_RDONLY | tmpfs_flags, "size=4096,nr_inodes=8,mode=0555")
    for name, content in spec["files"].items():
        path = os.path.join(WORK, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(base64.b64decode(content))
    libc.sethostname(b"lab21", 5)


def set_limits(limits):
    for name, value in limits.items():
        kind = getattr(resource, f"RLIMIT_{name.upper()}")
        resource.setrlimit(kind, (value, value))


def become_kernel(spec, warm):
    """In PID 1 of the new namespace: finish isolating, then run ipykernel."""
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    os.setsid()  # its own group: kill(0) reaches nothing outside its namespace
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    try:  # no further user namespaces (and so no capabilities) for anything the kernel starts
        write_id_map("/proc/sys/user/max_user_namespaces", "0")
    except OSError:
        pass
    set_limits(spec["limits"])
    drop_capabilities()
    for number in range(1, signal.NSIG):
        try:
            signal.signal(number, signal.SIG_DFL)
        except (OSError, ValueError):
            pass
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    null = os.open("/dev/null", os.O_RDWR)
    for descriptor in (0, 1, 2):
        os.dup2(null, descriptor)
    os.closerange(3, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    os.environ.clear()
    os.environ.update(spec["environment"])
    os.umask(0o007)  # its sockets stay usable by the slot's group (the grader on the hub)
    os.chdir(WORK)
    connection = f"{RUN}/kernel.json"
    if not warm:
        arguments = ["-m", "ipykernel_launcher", "-f", connection, *spec["options"]]
        os.execv(sys.executable, [sys.executable, *arguments])
    # Fresh randomness: the zygote's generators must not be shared by every student.
    import random

    import numpy

    random.seed()
    numpy.random.seed()
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize(["-f", connection, *spec["options"]])
    # Pyplot was imported before IPython existed: connect the inline backend now, as its import
    # would have in a cold kernel.
    from matplotlib_inline.backend_inline import _enable_matplotlib_integration

    _enable_matplotlib_integration()
    app.start()


def run_child(spec, warm):
    """The forked child: namespaces and mounts, then the kernel as PID 1; wait for it."""
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    # The zygote is not dumpable; the child must be, to write its own uid map.
    libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
    null = os.open("/dev/null", os.O_RDWR)
    os.dup2(null, 0)  # the zygote's command pipe is not the kernel's business
    os.dup2(null, 1)
    # A session and process group of its own: kill(0) or killpg from the kernel must not reach
    # the zygote, whose group it would otherwise share across the PID namespace boundary.
    os.setsid()
    try:
        enter_namespaces()
        prepare_filesystem(spec)
        kernel = os.fork()
        if kernel == 0:
            become_kernel(spec, warm)
            os._exit(0)
        # Interrupts from the grader reach the kernel through this process.
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT):
            signal.signal(number, lambda signum, frame: os.kill(kernel, signum))
        while True:
            try:
                _, status = os.waitpid(kernel, 0)
                break
            except InterruptedError:
                continue
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    except BaseException:
        import traceback

        os.write(2, f"lab21 zygote: kernel set-up failed:\n{traceback.format_exc()}".encode())
        os._exit(70)


# ----------------------------------------------------------------------------------------------
# The zygote's loop


def remove_run_folder(path):
    """Empty and remove a finished kernel's run folder, whatever the kernel left there (folders
    it made read-only, deep trees): the next kernel of the slot must find the slot clean."""
    subprocess.run(["chmod", "-R", "u+rwX", path], stderr=subprocess.DEVNULL, check=False)
    subprocess.run(["rm", "-rf", "--one-file-system", path], stderr=subprocess.DEVNULL, check=False)


def reply(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def serve(warm):
    children = {}  # pid -> kernel name
    wakeup_read, wakeup_write = os.pipe()
    os.set_blocking(wakeup_write, False)
    signal.set_wakeup_fd(wakeup_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    buffered = b""
    reply({"ready": os.getpid(), "warm": warm})
    while True:
        readable, _, _ = select.select([0, wakeup_read], [], [])
        if wakeup_read in readable:
            os.read(wakeup_read, 4096)
            while children:
                try:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    break
                if pid == 0:
                    break
                name = children.pop(pid, None)
                remove_run_folder(f"{SLOT_RUN}/{name}")
                reply({"exited": name, "code": os.waitstatus_to_exitcode(status)})
        if 0 not in readable:
            continue
        chunk = os.read(0, 1 << 20)
        if not chunk:  # the grader is gone: so are its kernels
            for pid in children:
                os.kill(pid, signal.SIGKILL)
            return
        buffered += chunk
        while b"\n" in buffered:
            line, buffered = buffered.split(b"\n", 1)
            command = json.loads(line)
            if "start" in command:
                spec = command["start"]
                os.mkdir(f"{SLOT_RUN}/{spec['name']}", 0o2770)
                pid = os.fork()
                if pid == 0:
                    signal.set_wakeup_fd(-1)
                    os.close(wakeup_read)
                    os.close(wakeup_write)
                    run_child(spec, warm)
                children[pid] = spec["name"]
                reply({"started": spec["name"], "pid": pid})
            elif "signal" in command:
                for pid, name in children.items():
                    if name == command["signal"]:
                        os.kill(pid, command["number"])


def main():
    settings = json.loads(sys.argv[2])
    os.umask(0o007)  # run folders stay usable by the slot's group (the grader, on the hub)
    if settings["warm"]:
        warm_up()
    # Nothing in the sandbox may trace the zygote or read its memory.
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    serve(settings["warm"])


if __name__ == "__main__":
    main()
