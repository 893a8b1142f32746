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
- inside it, the zygote (coursepack/zygote.py, passed as source) that forks the kernels.

The slot is reserved by the caller (coursepack.sandbox holds its lock for as long as it uses it).
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

SLOT_UID_BASE = 61000
MAX_SLOTS = 512
RUN_BASE = Path("/run/lab21-sandbox")
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
            for controller in ("memory", "pids", "cpuacct"):
                if controller in controllers.split(","):
                    folder = Path("/sys/fs/cgroup", controller) / path.lstrip("/")
                    found.append((controller, folder))
            if controllers == "" and Path("/sys/fs/cgroup/cgroup.controllers").exists():
                found.append(("unified", Path("/sys/fs/cgroup") / path.lstrip("/")))
    return found


def join_cgroups(slot, memory_bytes, max_tasks):
    """Put this process (and so the whole slot) in cgroups that bound memory and tasks.

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
            elif controller == "cpuacct":
                pass  # only counted: the grader reads how much CPU the slot's kernels used
            else:
                (group / "memory.max").write_text(str(memory_bytes))
                (group / "pids.max").write_text(str(max_tasks))
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
    parser.add_argument("--group", type=int, help="gid that may use the slot's run folder")
    parser.add_argument("--memory-bytes", type=int, default=4 * 1024**3)
    parser.add_argument("--max-tasks", type=int, default=512)
    arguments = parser.parse_args(argv)
    if os.geteuid() != 0:
        sys.exit("sandbox_launch: must run as root (it switches to the slot's own user)")
    if not 0 <= arguments.slot < MAX_SLOTS:
        sys.exit(f"sandbox_launch: slot must be in 0..{MAX_SLOTS - 1}")
    run_folder = prepare_run_folder(arguments.slot, arguments.group)
    limited = join_cgroups(arguments.slot, arguments.memory_bytes, arguments.max_tasks)
    resource.setrlimit(resource.RLIMIT_NPROC, (arguments.max_tasks, arguments.max_tasks))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    settings = {"warm": not arguments.cold, "cgroups": limited}
    command = bubblewrap_command(
        arguments.slot, arguments.venv, run_folder, settings, zygote_pipe()
    )
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()
