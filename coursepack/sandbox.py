"""Run student code during autograde as an unprivileged system user, not as the grader.

nbgrader's autograde executes each submission in a kernel started by the grading process, so by
default student code has the grader's rights: it could rewrite the gradebook, the source
notebook, the solutions or other submissions. Here the kernel is started through
`sudo -u <run_as>` instead, so it has only that user's rights. This module decides only WHO the
kernel runs as; what the kernel is sent to run is nbgrader's business.

Wire it in with nbgrader config (the hub does, in hub/instructor/nbgrader_config.py):

    c.Autograde.autograde_preprocessors = [... "coursepack.sandbox.SandboxedExecute" ...]
    c.SandboxedKernelManager.run_as = "lab21-sandbox"

Needs a sudo rule letting the grader run commands as that user without a password, e.g.
`instructor ALL=(lab21-sandbox) NOPASSWD: ALL`, and the grader in the sandbox user's group.

How a kernel is run:
- its working folder is a private copy of the submission folder, in a fresh scratch folder
  owned by the grader and shared with the sandbox group only (mode 2770); the kernel's HOME is
  there too, so nothing it writes lands anywhere else;
- its environment is rebuilt from an allow-list (sudo drops the rest), so the grader's tokens
  (e.g. JUPYTERHUB_API_TOKEN) never reach student code;
- after the kernel stops, every process of the sandbox user is killed, so nothing a student
  started in the background survives into the next student's grading; then the scratch goes.

Limits: one sandbox user serves every student, so gradings must not run in parallel; the kernel
can still read whatever that user may read (world-readable files, the network); no CPU, memory
or disk limits are set here (nbgrader's per-cell timeout still applies).
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import List, Unicode

from coursepack.guarded_execute import GuardedExecute

# Environment variables the kernel inherits from the grader; everything else is dropped.
PASSED_ENVIRONMENT = ("NBGRADER_EXECUTION", "NBGRADER_VALIDATING", "LANG", "LC_ALL", "TZ")


class SandboxedKernelManager(AsyncKernelManager):
    run_as = Unicode("", help="System user that runs the kernel (required).").tag(config=True)
    group = Unicode(
        "", help="Group shared by the grader and run_as (default: run_as's primary group)."
    ).tag(config=True)
    python_path = List(
        Unicode(), help="Folders put on the kernel's PYTHONPATH (readable by run_as)."
    ).tag(config=True)

    scratch = None

    def _sudo(self, *command, check=True):
        return subprocess.run(
            ["sudo", "-n", "-u", self.run_as, "--", *command],
            check=check,
            capture_output=True,
            text=True,
            timeout=30,
        )

    def _group_id(self):
        import grp
        import pwd

        if self.group:
            return grp.getgrnam(self.group).gr_gid
        return pwd.getpwnam(self.run_as).pw_gid

    def _share(self, path, mode):
        os.chown(path, -1, self._group_id())
        os.chmod(path, mode)

    async def start_kernel(self, **kw):
        if not self.run_as:
            raise ValueError("SandboxedKernelManager.run_as is not set")
        source = Path(kw.get("cwd") or os.getcwd())
        self.scratch = Path(tempfile.mkdtemp(prefix="sandboxed-kernel-"))
        work, home = self.scratch / "work", self.scratch / "home"
        shutil.copytree(source, work, symlinks=True)
        home.mkdir()
        for folder, _, files in os.walk(self.scratch):
            self._share(folder, 0o2770)
            for name in files:
                self._share(os.path.join(folder, name), 0o660)
        self._share(self.scratch, 0o2750)
        self.connection_file = str(self.scratch / "kernel.json")
        kw["cwd"] = str(work)
        await super().start_kernel(**kw)

    def write_connection_file(self, **kwargs):
        super().write_connection_file(**kwargs)
        # Written 0600 for the grader; the kernel (run_as) must read it through the group.
        self._share(self.connection_file, 0o640)

    def format_kernel_cmd(self, extra_arguments=None):
        command = super().format_kernel_cmd(extra_arguments)
        home = self.scratch / "home"
        environment = {
            "HOME": str(home),
            "MPLCONFIGDIR": str(home / ".matplotlib"),
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "PYTHONPATH": os.pathsep.join(self.python_path),
        }
        environment.update({k: os.environ[k] for k in PASSED_ENVIRONMENT if k in os.environ})
        settings = [f"{key}={value}" for key, value in environment.items()]
        return ["sudo", "-n", "-u", self.run_as, "--", "/usr/bin/env", "-i", *settings, *command]

    async def cleanup_resources(self, restart=False):
        await super().cleanup_resources(restart=restart)
        if restart or self.scratch is None:
            return
        # `kill -1` as the sandbox user reaches exactly that user's processes.
        self._sudo("kill", "-KILL", "-1", check=False)
        # Let the group delete what the kernel made, then remove the scratch folder.
        self._sudo(
            "chmod",
            "-R",
            "g+rwX",
            str(self.scratch / "work"),
            str(self.scratch / "home"),
            check=False,
        )
        shutil.rmtree(self.scratch, ignore_errors=True)
        self.scratch = None


class SandboxedExecute(GuardedExecute):
    """The course's guarded Execute step with its kernels started by SandboxedKernelManager."""

    def __init__(self, *args, **kwargs):
        # nbgrader's Execute forces its own kernel manager class through a keyword argument,
        # which beats configuration; this sets ours the same way.
        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(*args, **kwargs)
