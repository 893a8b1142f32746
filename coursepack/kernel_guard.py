"""Guards installed in a student's kernel before any of the student's code runs.

The autograder sends this module's source into each fresh kernel and calls `install`. It
uses only the standard library: the kernel may have no access to the course's files.

- An audit hook refuses to open, write, move or remove the course's private files (solutions,
  source notebook, gradebook, the grading tools, other students' work), and to start other
  programs (a shell would be outside its reach), and records every attempt.
- The same hook records introspection that grading never needs from a student: walking the
  garbage collector, reading stack frames from notebook code, tracing, ctypes.
- A memory limit turns a memory bomb into a MemoryError in one cell instead of a dead kernel.

Records go to a file the grading process chose, one JSON line each, written through a file
descriptor opened here, so later student code cannot take them back. An audit hook cannot be
removed once installed.
"""

import json
import os
import resource
import sys

WATCHED_EVENTS = {
    "gc.get_objects": "searched all objects in memory (gc.get_objects)",
    "gc.get_referrers": "searched objects in memory (gc.get_referrers)",
    "gc.get_referents": "searched objects in memory (gc.get_referents)",
    "sys.settrace": "installed a trace function (sys.settrace)",
    "sys.setprofile": "installed a profile function (sys.setprofile)",
    "ctypes.dlopen": "loaded native code with ctypes",
    "ctypes.dlsym": "loaded native code with ctypes",
}


# Events whose first argument is a path that must not be touched (written, moved, removed).
PATH_EVENTS = {
    "os.remove",
    "os.rename",
    "os.rmdir",
    "os.chmod",
    "os.chown",
    "os.truncate",
    "os.link",
    "os.symlink",
    "os.utime",
    "shutil.rmtree",
    "shutil.move",
    "shutil.copyfile",
    "sqlite3.connect",
}
# Starting other programs: grading never needs it, and a shell is outside the hook's reach.
PROGRAM_EVENTS = {
    "subprocess.Popen",
    "os.system",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "pty.spawn",
}


def _is_notebook_code(filename):
    # ipykernel compiles each cell to a file name under its temp folder, /tmp/ipykernel_<pid>/.
    return "ipykernel_" in filename or filename.startswith("<ipython-input")


def install(record_path, protected, allowed, memory_bytes):
    """Install the guards. protected/allowed: path prefixes (allowed wins where they overlap)."""
    record_fd = os.open(record_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    protected = tuple(os.path.realpath(p) for p in protected)
    allowed = tuple(os.path.realpath(p) for p in allowed)
    busy = [False]

    def record(kind, detail):
        line = json.dumps({"kind": kind, "detail": detail}) + "\n"
        os.write(record_fd, line.encode())

    def is_protected(path):
        try:
            real = os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):  # a file descriptor, or no path at all
            return False
        if any(real == a or real.startswith(a + os.sep) for a in allowed):
            return False
        return any(real == p or real.startswith(p + os.sep) for p in protected)

    def hook(event, args):
        if busy[0]:
            return
        busy[0] = True
        try:
            if event in ("open", "os.listdir", "os.scandir") and args and is_protected(args[0]):
                caller = sys._getframe(1).f_code.co_filename
                path = os.fsdecode(args[0])
                # Libraries probe every folder on sys.path (zipfile, the import system): refuse
                # quietly. Opening a file, or listing a folder from notebook code, is recorded.
                opens_file = event == "open" and not os.path.isdir(path)
                if opens_file or _is_notebook_code(caller):
                    record("blocked", f"tried to read {path}")
                raise PermissionError(f"{path} cannot be read while grading")
            if event in PATH_EVENTS and args and any(is_protected(a) for a in args[:2]):
                target = next(a for a in args[:2] if is_protected(a))
                record("blocked", f"tried to change {os.fsdecode(target)} ({event})")
                raise PermissionError(f"{os.fsdecode(target)} cannot be changed while grading")
            if event in PROGRAM_EVENTS:
                record("blocked", f"tried to start a program ({event})")
                raise PermissionError("starting programs is not allowed while grading")
            if event in WATCHED_EVENTS:
                record("flag", WATCHED_EVENTS[event])
            elif event == "sys._getframe":
                caller = sys._getframe(1).f_code.co_filename
                if _is_notebook_code(caller):
                    record("flag", "read the call stack (sys._getframe) from notebook code")
        finally:
            busy[0] = False

    sys.addaudithook(hook)
    if memory_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
