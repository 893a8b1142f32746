"""Student kernels in a sandbox: the grader's side.

Every kernel that runs student code while grading is started here, on every grading path
(`nbgrader autograde` with the course's config, `coursepack.classgrade`, `make grade`, the hub's
formgrader). The isolation is the operating system's, through bubblewrap (coursepack/
sandbox_launch.py) and the zygote inside it (coursepack/zygote.py):

- a kernel sees /usr, the venv, a few files of /etc, and a fresh tmpfs holding a copy of its
  own submission folder; nothing else of the host (course, gradebook, other students, the
  grader's temporary files) exists for it;
- it runs as an unprivileged uid that no other concurrent kernel has (one uid per slot, each
  slot reserved by one grading process through a lock file), without capabilities;
- it is PID 1 of its own PID namespace: it cannot see or signal the grader or other kernels,
  and everything it starts dies with it;
- it has no network (its own empty network namespace) and talks to the grader only through
  ZeroMQ sockets in its run folder;
- memory, processes, file sizes, CPU time and the bytes it can write are limited.

A grading process reserves a slot the first time it needs a kernel and keeps it (and its warm
zygote) until it exits, so consecutive kernels fork from an interpreter that has already
imported numpy, pandas, matplotlib and seaborn.
"""

import atexit
import base64
import fcntl
import itertools
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner
from traitlets import Bool, Integer

from coursepack import sandbox_launch

LAUNCHER = Path(sandbox_launch.__file__).resolve()
LOCKS = sandbox_launch.RUN_BASE.parent / "lab21-sandbox-locks"
# Environment variables the kernel gets from the grader; everything else is the sandbox's own.
PASSED_ENVIRONMENT = ("NBGRADER_EXECUTION", "NBGRADER_VALIDATING", "TZ")
KERNEL_ENVIRONMENT = {
    "HOME": "/home/student",
    "USER": "student",
    "LANG": "C.UTF-8",
    "PATH": f"{sandbox_launch.SANDBOX_VENV}/bin:/usr/bin:/bin",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    "IPYTHONDIR": "/tmp/.ipython",
    "MPLCONFIGDIR": "/tmp/.matplotlib",
    "XDG_CACHE_HOME": "/tmp/.cache",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}
SUBMISSION_BYTES = 32 * 1024**2  # a submission folder larger than this is not copied in whole
ZYGOTE_START_SECONDS = 60.0


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot be had here: the message names what is missing and how to get it."""


def sandbox_problems():
    """What keeps the sandbox from running on this machine, each with the way to fix it."""
    if platform.system() != "Linux":
        return [f"the sandbox needs Linux (namespaces); this is {platform.system()}"]
    problems = []
    if not shutil.which("bwrap"):
        problems.append(
            "bubblewrap is not installed: `apt-get install bubblewrap` (make setup does it as root)"
        )
    if not shutil.which("setpriv"):
        problems.append("setpriv is missing: `apt-get install util-linux`")
    if os.geteuid() != 0 and not _sudo_launcher():
        problems.append(
            "grading must run as root, or with the sudo rule for the sandbox launcher that the"
            " course hub sets up (hub/README.md)"
        )
    try:
        if int(Path("/proc/sys/user/max_user_namespaces").read_text()) == 0:
            problems.append("user namespaces are disabled: `sysctl user.max_user_namespaces=15000`")
    except (OSError, ValueError):
        pass
    return problems


def require_sandbox():
    problems = sandbox_problems()
    if problems:
        raise SandboxUnavailable(
            "Student code cannot be sandboxed here, so grading stops: "
            + "; ".join(problems)
            + ". (To grade without the sandbox anyway, trusting every submission, use the"
            " explicit --unsafe-no-sandbox option.)"
        )


def _sudo_launcher():
    """The root-owned launcher a non-root grader may run with sudo (set up by the hub)."""
    configured = os.environ.get("LAB21_SANDBOX_LAUNCHER")
    return configured if configured and Path(configured).exists() else None


# ----------------------------------------------------------------------------------------------
# Slots: a sandbox with its zygote, reserved by one grading process at a time


class Slot:
    """One reserved slot: its lock, its zygote process, and the kernels it has running."""

    def __init__(self, number, lock, warm):
        self.number, self.lock, self.warm = number, lock, warm
        self.run_folder = sandbox_launch.RUN_BASE / f"slot-{number}"
        self.uid = sandbox_launch.slot_uid(number)
        self.exits = {}  # kernel name -> exit code, once it has exited
        self.running = set()
        self.busy = False
        self._changed = threading.Condition()
        self._write_lock = threading.Lock()
        self._start_zygote()

    def _start_zygote(self):
        arguments = ["--slot", str(self.number), "--venv", sys.prefix]
        if not self.warm:
            arguments.append("--cold")
        if os.geteuid() == 0:
            command = [sys.executable, "-I", str(LAUNCHER), *arguments]
        else:
            command = ["sudo", "-n", _sudo_launcher(), *arguments, "--group", str(os.getgid())]
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,
            start_new_session=True,  # a Ctrl-C meant for the grader is handled by the grader
        )
        self._reader = threading.Thread(target=self._read_events, daemon=True)
        self._ready = threading.Event()
        self._reader.start()
        if not self._ready.wait(ZYGOTE_START_SECONDS):
            self.close()
            raise SandboxUnavailable(f"the sandbox of slot {self.number} did not start")

    def _read_events(self):
        for line in self.process.stdout:
            event = json.loads(line)
            with self._changed:
                if "ready" in event:
                    self._ready.set()
                elif "exited" in event:
                    self.running.discard(event["exited"])
                    self.exits[event["exited"]] = event["code"]
                self._changed.notify_all()
        with self._changed:  # the zygote is gone, and every kernel with it
            for name in self.running:
                self.exits[name] = -signal.SIGKILL
            self.running.clear()
            self._changed.notify_all()

    def _send(self, command):
        with self._write_lock:
            self.process.stdin.write(json.dumps(command).encode() + b"\n")
            self.process.stdin.flush()

    def alive(self):
        return self.process.poll() is None

    def cpu_seconds(self):
        """CPU time used so far by everything in this slot (the zygote and its kernels), from
        its control group; 0 when the host keeps no such count."""
        try:
            lines = Path(f"/proc/{self.process.pid}/cgroup").read_text().splitlines()
        except OSError:
            return 0.0
        for line in lines:
            _, controllers, path = line.split(":", 2)
            if "cpuacct" in controllers.split(","):
                usage = Path("/sys/fs/cgroup/cpuacct", path.lstrip("/"), "cpuacct.usage")
                return int(usage.read_text()) / 1e9 if usage.exists() else 0.0
            if controllers == "":
                stat = Path("/sys/fs/cgroup", path.lstrip("/"), "cpu.stat")
                if stat.exists():
                    fields = dict(line.split() for line in stat.read_text().splitlines())
                    return int(fields.get("usage_usec", 0)) / 1e6
        return 0.0

    def start_kernel(self, name, connection, files, environment, limits, options):
        spec = {
            "name": name,
            "options": options,
            "connection": connection,
            "files": {path: base64.b64encode(data).decode() for path, data in files.items()},
            "environment": environment,
            "limits": limits["rlimits"],
            "work_bytes": limits["work_bytes"],
            "tmp_bytes": limits["tmp_bytes"],
        }
        with self._changed:
            self.running.add(name)
            self.exits.pop(name, None)
        self._send({"start": spec})

    def signal(self, name, number):
        if name in self.running:
            self._send({"signal": name, "number": int(number)})

    def exit_code(self, name):
        with self._changed:
            return self.exits.get(name) if name not in self.running else None

    def wait_exit(self, name, timeout):
        deadline = time.monotonic() + timeout
        with self._changed:
            while name in self.running and time.monotonic() < deadline:
                self._changed.wait(max(0.0, deadline - time.monotonic()))
            return name not in self.running

    def close(self):
        try:
            self.process.stdin.close()  # the zygote kills its kernels and exits
            self.process.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
        os.close(self.lock)


class SlotPool:
    """The slots this process holds. A kernel takes a free one, reserving a new slot (from the
    machine-wide lock files) when all of this process's slots are busy."""

    def __init__(self):
        self.slots = []
        self.lock = threading.Lock()
        atexit.register(self.close)

    def take(self, warm=True):
        with self.lock:
            for slot in self.slots:
                if not slot.busy and slot.warm == warm and slot.alive():
                    slot.busy = True
                    return slot
            self.slots = [slot for slot in self.slots if slot.alive()]
            number, lock = _reserve_slot_number()
            slot = Slot(number, lock, warm)
            slot.busy = True
            self.slots.append(slot)
            return slot

    def give_back(self, slot):
        with self.lock:
            slot.busy = False

    def cpu_seconds(self):
        """CPU time used in all of this process's slots so far (see Slot.cpu_seconds)."""
        with self.lock:
            return sum(slot.cpu_seconds() for slot in self.slots)

    def close(self):
        with self.lock:
            for slot in self.slots:
                slot.close()
            self.slots = []


def _reserve_slot_number():
    """A slot number no other process holds: an exclusive, non-blocking lock on its lock file
    (released by the system if this process dies)."""
    LOCKS.mkdir(mode=0o1777, parents=True, exist_ok=True)
    for number in range(sandbox_launch.MAX_SLOTS):
        descriptor = os.open(LOCKS / f"slot-{number}.lock", os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            continue
        return number, descriptor
    raise SandboxUnavailable("every sandbox slot is in use")


_pool = None
_pool_lock = threading.Lock()


def slot_pool():
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = SlotPool()
        return _pool


# ----------------------------------------------------------------------------------------------
# jupyter_client's side: a provisioner and a kernel manager that start kernels in slots

_names = itertools.count(1)


def submission_files(folder):
    """The files of a kernel's working folder, to copy into its sandbox (symlinks not followed)."""
    files, total = {}, 0
    folder = Path(folder)
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        size = path.stat().st_size
        if total + size > SUBMISSION_BYTES:
            continue
        files[str(path.relative_to(folder))] = path.read_bytes()
        total += size
    return files


class SandboxProvisioner(LocalProvisioner):
    """Starts the kernel in a sandbox slot instead of as a child process of the grader."""

    slot = None
    name = None

    async def pre_launch(self, **kwargs):
        km = self.parent
        self.slot = slot_pool().take(warm=km.warm)
        self.name = f"k-{os.getpid()}-{next(_names)}"
        km.transport = "ipc"
        km.ip = str(self.slot.run_folder / self.name / "ipc")
        km.connection_file = str(Path(km.private_folder()) / f"{self.name}.json")
        return await super().pre_launch(**kwargs)

    async def launch_kernel(self, cmd, **kwargs):
        km = self.parent
        inside = dict(self.connection_info)
        inside["ip"] = "/run/kernel/ipc"
        inside = {k: v.decode() if isinstance(v, bytes) else v for k, v in inside.items()}
        environment = dict(KERNEL_ENVIRONMENT)
        given = kwargs.get("env") or os.environ
        environment.update({k: given[k] for k in PASSED_ENVIRONMENT if k in given})
        self.cwd = kwargs.get("cwd") or os.getcwd()
        # The kernel's own options (nbgrader passes --HistoryManager.hist_file=:memory:).
        options = [arg for arg in cmd[cmd.index("-f") + 2 :] if arg.startswith("--")]
        self.slot.start_kernel(
            self.name, inside, submission_files(self.cwd), environment, km.limits(), options
        )
        self.pid = self.name
        return self.connection_info

    @property
    def has_process(self):
        return self.slot is not None and self.name is not None

    async def poll(self):
        return self.slot.exit_code(self.name) if self.has_process else 0

    async def wait(self):
        if not self.has_process:
            return 0
        while self.slot.exit_code(self.name) is None:
            self.slot.wait_exit(self.name, 0.1)
            await _sleep(0)
        return self.slot.exit_code(self.name)

    async def send_signal(self, signum):
        if self.has_process:
            self.slot.signal(self.name, signum)

    async def kill(self, restart=False):
        await self.send_signal(signal.SIGKILL)

    async def terminate(self, restart=False):
        await self.send_signal(signal.SIGTERM)

    async def cleanup(self, restart=False):
        if self.has_process:
            self.slot.signal(self.name, signal.SIGKILL)
            self.slot.wait_exit(self.name, 5.0)
            slot_pool().give_back(self.slot)
        self.slot, self.name = None, None

    def resolve_path(self, path_str):
        return None  # the kernel's files are in its sandbox, not on this machine


async def _sleep(seconds):
    import asyncio

    await asyncio.sleep(seconds)


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels run in the sandbox (see the module's docstring)."""

    warm = Bool(True, help="Fork kernels from a zygote that has done the lab's imports.").tag(
        config=True
    )
    memory_bytes = Integer(3 * 1024**3, help="Address-space limit of the kernel process.").tag(
        config=True
    )
    cpu_seconds = Integer(900, help="CPU seconds a kernel process may use.").tag(config=True)
    file_bytes = Integer(64 * 1024**2, help="Largest file a kernel may write.").tag(config=True)
    work_bytes = Integer(
        96 * 1024**2, help="Size of the kernel's working folder (its copy of the submission)."
    ).tag(config=True)
    tmp_bytes = Integer(64 * 1024**2, help="Size of the kernel's /tmp.").tag(config=True)

    _private = None

    def run_folder(self):
        """The running kernel's run folder on this machine (its sockets and connection file)."""
        return str(self.provisioner.slot.run_folder / self.provisioner.name)

    def private_folder(self):
        if self._private is None:
            import tempfile

            self._private = tempfile.mkdtemp(prefix="lab21-kernel-")
        return self._private

    def limits(self):
        return {
            "rlimits": {
                "as": self.memory_bytes,
                "cpu": self.cpu_seconds,
                "fsize": self.file_bytes,
                "nofile": 1024,
                "core": 0,
            },
            "work_bytes": self.work_bytes,
            "tmp_bytes": self.tmp_bytes,
        }

    async def _async_pre_start_kernel(self, **kw):
        if self.provisioner is None:
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", None) or os.urandom(8).hex()
            self.provisioner = SandboxProvisioner(
                kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self
            )
        return await super()._async_pre_start_kernel(**kw)

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        if not restart and self._private:
            shutil.rmtree(self._private, ignore_errors=True)
            self._private = None
