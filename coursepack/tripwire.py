"""The tripwire: notes what a student's kernel does that grading never needs, for a person to see.

It enforces nothing: the sandbox (coursepack/sandbox.py) is what keeps student code away from
the course, the network and other students. This only records, so that an instructor can look
twice at a submission that reached for the course's files, started programs, opened sockets,
signalled processes, loaded native code or dug through the interpreter's memory.

Installed in each kernel before any student code runs (coursepack.guarded_execute sends this
source; standard library only). Records leave through a datagram socket to the grader, one
record a message, so that later student code cannot take back what was already sent. An audit
hook cannot be removed once installed.
"""

import os
import socket
import sys

MAX_RECORDS = 200

# Events recorded whenever they happen, with what they say about the submission.
EVENTS = {
    "subprocess.Popen": "started a program (subprocess)",
    "os.system": "started a program (os.system)",
    "os.exec": "replaced the kernel with a program (os.exec*)",
    "os.posix_spawn": "started a program (posix_spawn)",
    "os.spawn": "started a program (os.spawn*)",
    "pty.spawn": "started a program (pty.spawn)",
    "socket.connect": "connected a socket",
    "socket.bind": "bound a socket",
    "ctypes.dlopen": "loaded native code with ctypes",
    "ctypes.dlsym": "looked up native code with ctypes",
    "mmap.__new__": "mapped memory or a file (mmap)",
    "sqlite3.connect": "opened an SQLite database",
    "gc.get_objects": "searched all objects in memory (gc.get_objects)",
    "gc.get_referrers": "searched objects in memory (gc.get_referrers)",
    "sys.settrace": "installed a trace function (sys.settrace)",
    "sys.setprofile": "installed a profile function (sys.setprofile)",
    "sys.addaudithook": "installed an audit hook of its own",
    "os.chmod": "changed a file's permissions",
    "os.link": "made a hard link",
    "os.symlink": "made a symbolic link",
}
# Events recorded when they come from the notebook's own code (libraries use them routinely).
FROM_NOTEBOOK = {
    "sys._getframe": "read the call stack (sys._getframe)",
    "os.fork": "forked the kernel (os.fork)",
    "os.kill": "sent a signal to a process",
    "os.killpg": "sent a signal to a process group",
    "os.listdir": "listed a folder outside its own",
    "os.scandir": "listed a folder outside its own",
}
OWN_FOLDERS = ("/home/student", "/tmp")


def _is_notebook_code(filename):
    # ipykernel compiles each cell to a file name under its temp folder, /tmp/ipykernel_<pid>/.
    return "ipykernel_" in filename or filename.startswith("<ipython-input")


def install(socket_path, watched_paths):
    """Connect to the grader and install the audit hook. watched_paths: path prefixes (the
    course's folders on the grading machine) whose mere mention is worth a record."""
    channel = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    channel.connect(socket_path)
    send, getframe, fsdecode = channel.send, sys._getframe, os.fsdecode
    watched = tuple(watched_paths)
    state = {"busy": False, "sent": 0}

    def record(detail):
        if state["sent"] < MAX_RECORDS:
            state["sent"] += 1
            try:
                send(detail.encode()[:1000])
            except OSError:
                pass

    def path_of(argument):
        try:
            return fsdecode(argument)
        except (TypeError, ValueError):
            return ""

    def hook(event, args):
        if state["busy"]:
            return
        state["busy"] = True
        try:
            if event == "open" and args:
                path = path_of(args[0])
                if path.startswith(watched):
                    record(f"tried to open {path} (a course file on the grading machine)")
            elif event in EVENTS:
                record(EVENTS[event])
            elif event in FROM_NOTEBOOK and _is_notebook_code(getframe(1).f_code.co_filename):
                if event in ("os.listdir", "os.scandir"):
                    path = path_of(args[0]) if args and args[0] is not None else "."
                    if path in (".", "") or path.startswith(OWN_FOLDERS):
                        return
                    record(f"{FROM_NOTEBOOK[event]}: {path}")
                else:
                    record(FROM_NOTEBOOK[event])
        finally:
            state["busy"] = False

    sys.addaudithook(hook)
