"""Start one grading slot's sandbox: the only part of grading that runs as root.

    python3 -I coursepack/sandbox_launch.py --slot N --venv DIR [--cold] [--group GID]

Run by the grading process (as root on `make grade`; through a sudo rule on the hub). It uses
only the standard library and does exactly this, then execs into the sandbox:

- a size-limited tmpfs for the slot's run folder (connection files and ZeroMQ sockets), owned
  by the slot's user, so that nothing a kernel writes there can fill a host disk;
- a control group for the slot (memory and process count), when the host has one to give;
- resource limits inherited by everything in the slot;
- `setpriv` to the slot's unprivileged uid (SLOT_UID_BASE + N, used by no one else), then
  bubblewrap: new user, mount, PID, network, IPC, UTS and cgroup namespaces, a read-only view
  of /usr, the venv and a few files of /etc, and nothing else of the host;
- inside it, the zygote (coursepack/zygote.py, passed through a pipe) that forks the kernels.

The launcher holds the slot's lock for as long as the sandbox runs: a slot another launcher
holds is refused (exit status SLOT_BUSY), and the caller tries another.
"""

import argparse
import fcntl
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

SLOT_UID_BASE = 61000
MAX_SLOTS = 512
RUN_BASE = Path("/run/lab21-sandbox")
LOCKS = RUN_BASE / "locks"  # one lock file per slot (coursepack.sandbox reserves slots)
SANDBOX_VENV = "/opt/lab21-venv"
SANDBOX_UID = 1000  # the zygote's uid inside the sandbox (zygote.SANDBOX_UID)
CGROUP_NAME = "lab21-sandbox"
# Files of /etc that Python, fontconfig and matplotlib read; nothing else of /etc is shown.
ETC_FILES = ("fonts", "ld.so.cache", "localtime", "mime.types", "ssl/openssl.cnf")


def slot_uid(slot):
    return SLOT_UID_BASE + slot


def is_mountpoint(path):
    target = str(path)
    with open("/proc/self/mountinfo") as mounts:
        return any(line.split()[4] == target for line in mounts)


SLOT_BUSY = 75  # the launcher's exit status when another launcher holds the slot


def hold_slot(slot):
    """An exclusive lock on the slot's lock file, or None when another launcher has it."""
    make_lock_files()
    descriptor = os.open(LOCKS / f"slot-{slot}.lock", os.O_RDONLY | os.O_CLOEXEC)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return None
    return descriptor


def make_lock_files(group=None):
    """The slots' lock files: readable (so lockable) by root and the graders' group only.

    group: the graders' group id; None keeps the one already set (the hub's setup gives it to
    the instructor: a later grading run as root must not take it away), root's on a new folder.
    """
    RUN_BASE.mkdir(mode=0o711, exist_ok=True)
    LOCKS.mkdir(mode=0o750, exist_ok=True)
    if group is None:
        group = os.stat(LOCKS).st_gid
    os.chown(LOCKS, 0, group)
    os.chmod(LOCKS, 0o750)
    for number in range(MAX_SLOTS):
        path = LOCKS / f"slot-{number}.lock"
        if not path.exists():
            path.touch(mode=0o640)
        status = path.stat()
        if (status.st_uid, status.st_gid) != (0, group):
            os.chown(path, 0, group)


def prepare_run_folder(slot, group):
    """The slot's run folder: a fresh 16 MiB tmpfs owned by the slot's user."""
    RUN_BASE.mkdir(mode=0o711, exist_ok=True)
    os.chmod(RUN_BASE, 0o711)
    folder = RUN_BASE / f"slot-{slot}"
    folder.mkdir(mode=0o700, exist_ok=True)
    if is_mountpoint(folder):
        subprocess.run(["umount", "--lazy", str(folder)], check=True)
    gid = group if group is not None else slot_uid(slot)
    options = f"size=16m,nr_inodes=4096,mode=2770,uid={slot_uid(slot)},gid={gid}"
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"{options},nosuid,nodev,noexec", "lab21-slot", folder],
        check=True,
    )
    return folder


def cgroup_parents():
    """(controller folder, current cgroup path) pairs where a child cgroup can be made."""
    found = []
    with open("/proc/self/cgroup") as lines:
        for line in lines:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for controller in ("memory", "pids", "cpu", "cpuacct"):
                if controller in controllers.split(","):
                    folder = Path("/sys/fs/cgroup", controller) / path.lstrip("/")
                    found.append((controller, folder))
            if controllers == "" and Path("/sys/fs/cgroup/cgroup.controllers").exists():
                found.append(("unified", Path("/sys/fs/cgroup") / path.lstrip("/")))
    return found


# CPU per slot: at most one core, and one task's share when cores are contended, however many
# processes (or sessions) the slot's kernel starts: a busy submission cannot slow down the
# kernel graded beside it (a slot shares the scheduler's time as one task does).
CPU_PERIOD_US = 100_000
CPU_QUOTA_US = 100_000


def join_cgroups(slot, memory_bytes, max_tasks):
    """Put this process (and so the whole slot) in cgroups that bound memory, tasks and CPU.

    Returns what was limited; an empty list when the host gives no writable cgroup (the
    per-process limits then remain the only bound)."""
    limited = []
    for controller, parent in cgroup_parents():
        group = parent / CGROUP_NAME / f"slot-{slot}"
        try:
            group.mkdir(parents=True, exist_ok=True)
            if controller == "memory":
                (group / "memory.limit_in_bytes").write_text(str(memory_bytes))
                swap = group / "memory.memsw.limit_in_bytes"
                if swap.exists():
                    swap.write_text(str(memory_bytes))
            elif controller == "pids":
                (group / "pids.max").write_text(str(max_tasks))
            elif controller == "cpu":
                (group / "cpu.shares").write_text("1024")
                (group / "cpu.cfs_period_us").write_text(str(CPU_PERIOD_US))
                (group / "cpu.cfs_quota_us").write_text(str(CPU_QUOTA_US))
            elif controller == "cpuacct":
                pass  # only counted: the grader reads how much CPU the slot's kernels used
            else:
                (group / "memory.max").write_text(str(memory_bytes))
                (group / "pids.max").write_text(str(max_tasks))
                try:  # the cpu controller may not be delegated to this subtree
                    (group / "cpu.max").write_text(f"{CPU_QUOTA_US} {CPU_PERIOD_US}")
                except OSError:
                    pass
            (group / "cgroup.procs").write_text(str(os.getpid()))
            limited.append(controller)
        except OSError:
            continue
    return limited


def zygote_pipe():
    """A pipe holding the zygote's source, its read end inheritable (see bubblewrap_command)."""
    read_end, write_end = os.pipe()
    os.write(write_end, (Path(__file__).resolve().parent / "zygote.py").read_bytes())
    os.close(write_end)
    os.set_inheritable(read_end, True)
    return read_end


def bubblewrap_command(slot, venv, run_folder, settings, source_fd):
    venv = Path(venv).resolve()
    # fmt: off
    command = [
        "setpriv",
        f"--reuid={slot_uid(slot)}",
        f"--regid={slot_uid(slot)}",
        "--clear-groups",
        "--inh-caps=-all",
        "--",
        shutil.which("bwrap") or "bwrap",
        "--unshare-all",
        "--uid", str(SANDBOX_UID),
        "--gid", str(SANDBOX_UID),
        "--hostname", "lab21-sandbox",
        "--new-session",
        "--clearenv",
        "--setenv", "HOME", "/home/student",
        "--setenv", "PATH", f"{SANDBOX_VENV}/bin:/usr/bin:/bin",
        "--setenv", "LANG", "C.UTF-8",
        "--setenv", "MPLCONFIGDIR", "/tmp/.matplotlib",
        "--setenv", "XDG_CACHE_HOME", "/tmp/.cache",
        "--ro-bind", "/usr", "/usr",
        "--symlink", "usr/bin", "/bin",
        "--symlink", "usr/sbin", "/sbin",
        "--symlink", "usr/lib", "/lib",
        "--symlink", "usr/lib64", "/lib64",
        "--proc", "/proc",
        "--dev", "/dev",
        "--size", str(16 * 1024**2), "--tmpfs", "/dev/shm",
        "--size", str(64 * 1024**2), "--tmpfs", "/tmp",
        "--dir", "/home/student",
        "--dir", "/run/kernel",
        "--bind", str(run_folder), "/run/lab21",
        "--ro-bind", str(venv), SANDBOX_VENV,
    ]
    # fmt: on
    for name in ETC_FILES:
        command += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    # The venv's own path file points at the course folder: not shown, even as a name.
    for path_file in venv.glob("lib/python*/site-packages/coursepack.pth"):
        command += ["--ro-bind", "/dev/null", f"{SANDBOX_VENV}/{path_file.relative_to(venv)}"]
    # Everything else read-only: the sandbox's own root is a tmpfs that every kernel of the slot
    # would otherwise share (a file planted there would meet the next student).
    command += ["--remount-ro", "/dev", "--remount-ro", "/"]
    # The zygote's code arrives through a pipe (read, then closed): no file of the course in
    # view, and a short command line.
    bootstrap = (
        "import os,sys;f=int(sys.argv[1]);s=b''\n"
        "while c:=os.read(f,1<<16):s+=c\n"
        "os.close(f);exec(compile(s,'<lab21 zygote>','exec'))"
    )
    command += [
        "--chdir", "/",
        "--",
        f"{SANDBOX_VENV}/bin/python", "-I", "-c", bootstrap, str(source_fd), json.dumps(settings),
    ]  # fmt: skip
    return command


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slot", type=int, required=True)
    parser.add_argument("--venv", required=True)
    parser.add_argument("--cold", action="store_true", help="no warm imports: exec per kernel")
    parser.add_argument(
        "--group", type=int, help="gid that may use the slot run folder (under sudo: the caller)"
    )
    parser.add_argument("--memory-bytes", type=int, default=4 * 1024**3)
    parser.add_argument("--max-tasks", type=int, default=512)
    arguments = parser.parse_args(argv)
    if os.geteuid() != 0:
        sys.exit("sandbox_launch: must run as root (it switches to the slot's own user)")
    if not 0 <= arguments.slot < MAX_SLOTS:
        sys.exit(f"sandbox_launch: slot must be in 0..{MAX_SLOTS - 1}")
    # The slot is this launcher's while it runs: no other grading process, whatever copy of the
    # course it runs, can start (and so remount) it meanwhile.
    lock = hold_slot(arguments.slot)
    if lock is None:
        sys.exit(SLOT_BUSY)
    # Through sudo, the slot's folder is shared with the grader who asked for it, no one else.
    group = int(os.environ["SUDO_GID"]) if "SUDO_GID" in os.environ else arguments.group
    run_folder = prepare_run_folder(arguments.slot, group)
    limited = join_cgroups(arguments.slot, arguments.memory_bytes, arguments.max_tasks)
    resource.setrlimit(resource.RLIMIT_NPROC, (arguments.max_tasks, arguments.max_tasks))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    settings = {"warm": not arguments.cold, "cgroups": limited}
    source = zygote_pipe()
    command = bubblewrap_command(arguments.slot, arguments.venv, run_folder, settings, source)
    # The sandbox talks to the grader on this process's stdin and stdout; this process only
    # holds the slot's lock until the sandbox ends (the grader closing the pipe ends it).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sandbox = subprocess.Popen(command, pass_fds=(source,))
    os.close(source)
    sys.exit(sandbox.wait())


if __name__ == "__main__":
    main()
