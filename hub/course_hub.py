"""Set up and run the Lab 21 course hub on this machine (run as root with Debian's python3).

    python3 hub/course_hub.py setup [--reset-course]   # install, create users, load the course
    python3 hub/course_hub.py serve                     # setup, then run the hub until Ctrl-C

Only the standard library is used here: this runs before any venv exists. The hub's
configuration (hub/jupyterhub_config.py) and the end-to-end test import the names below.
"""

import argparse
import hashlib
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HUB_DIR = REPO / "hub"
# Everything the hub's users need lives here, world-readable, outside any home or the clone.
PREFIX = Path(os.environ.get("LAB21_HUB_PREFIX", "/srv/lab21-hub"))
VENV = PREFIX / "venv"
VENV_BIN = VENV / "bin"
EXCHANGE = PREFIX / "exchange"
STUDENT_CONFIG = PREFIX / "etc" / "student"
# Read-only copy of what the hidden tests import, for kernels run as SANDBOX (issue 6, interim).
GRADING_LIBRARY = PREFIX / "grading-library"
PROXY = REPO / "node_modules" / ".bin" / "configurable-http-proxy"

COURSE_ID = "lab21"
ASSIGNMENT = "lab21"
INSTRUCTOR = "lab21-instructor"
STUDENTS = ("lab21-alice", "lab21-bob", "lab21-carol")
# The unprivileged user that runs student code during autograde (coursepack/sandbox.py).
SANDBOX = "lab21-sandbox"
COURSE_USERS = (INSTRUCTOR, *STUDENTS, SANDBOX)
# Course files copied into the instructor's home (the clone may not be readable by them).
COURSE_FILES = ("source", "coursepack", "solutions", "data", "nbgrader_config.py")
DEFAULT_PORT = 8021


def home(user):
    return Path(pwd.getpwnam(user).pw_dir)


def course_root():
    return home(INSTRUCTOR) / "course"


def log(message):
    print(f"[course-hub] {message}", flush=True)


def run(*command, **kwargs):
    subprocess.run(command, check=True, **kwargs)


def as_user(user, *command, **kwargs):
    """Run a command as a course user, with the hub venv first on PATH."""
    env = {
        "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home(user)),
        "LANG": "C.UTF-8",
    }
    return subprocess.run(
        ["runuser", "-u", user, "--", *command], check=True, env=env, **kwargs
    )


def fingerprint(*paths):
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:16]


# ----------------------------------------------------------------------------------------------
# Installs (each skipped when already done)


def install_system_packages():
    needed = [pkg for pkg, probe in (("chromium", "chromium"), ("sudo", "sudo"))
              if shutil.which(probe) is None]
    if needed:
        log(f"apt-get install {' '.join(needed)}")
        run("apt-get", "update", "-qq")
        run("apt-get", "install", "-y", "-qq", "--no-install-recommends", *needed,
            stdout=subprocess.DEVNULL)


def install_proxy():
    stamp = REPO / "node_modules" / ".lab21-stamp"
    wanted = fingerprint(REPO / "package-lock.json")
    if stamp.exists() and stamp.read_text() == wanted and PROXY.exists():
        return
    log("npm ci (configurable-http-proxy, pinned in package-lock.json)")
    run("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error", cwd=REPO)
    stamp.write_text(wanted)


def install_venv():
    """A venv from Debian's /usr/bin/python3 in a world-readable place (see the hub notes)."""
    requirements = (REPO / "requirements.txt", REPO / "requirements-hub.txt")
    stamp = VENV / ".lab21-stamp"
    wanted = fingerprint(*requirements)
    if stamp.exists() and stamp.read_text() == wanted:
        return
    log(f"building {VENV} (about 40 s)")
    shutil.rmtree(VENV, ignore_errors=True)
    run("/usr/bin/python3", "-m", "venv", str(VENV))
    run(str(VENV_BIN / "pip"), "install", "--quiet", "--disable-pip-version-check",
        *(arg for path in requirements for arg in ("-r", str(path))),
        stderr=subprocess.DEVNULL)
    stamp.write_text(wanted)


# ----------------------------------------------------------------------------------------------
# Users, exchange and configuration


def create_users():
    for user in COURSE_USERS:
        try:
            pwd.getpwnam(user)
        except KeyError:
            log(f"useradd {user}")
            run("useradd", "--create-home", "--shell", "/bin/bash", user)
        # Debian makes homes 0755: without 0700 any user could read another's work.
        os.chmod(home(user), 0o700)
    # The instructor may start processes as the sandbox user, and shares its group so that a
    # sandboxed kernel can read the copy of the submission it runs (coursepack/sandbox.py).
    run("usermod", "--append", "--groups", SANDBOX, INSTRUCTOR)
    sudoers = Path("/etc/sudoers.d/lab21-sandbox")
    rule = f"{INSTRUCTOR} ALL=({SANDBOX}) NOPASSWD: ALL\n"
    if not sudoers.exists() or sudoers.read_text() != rule:
        sudoers.write_text(rule)
        sudoers.chmod(0o440)
        run("visudo", "--check", "--quiet", "--file", str(sudoers))


def write_if_changed(path, text, mode=0o644):
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    path.chmod(mode)


def configure_jupyter():
    """Global nbgrader config for everyone, and the student-only Jupyter config folder."""
    EXCHANGE.mkdir(parents=True, exist_ok=True)
    # nbgrader fails on an exchange root it cannot chmod; 1777 is what it expects.
    EXCHANGE.chmod(0o1777)
    write_if_changed(VENV / "etc" / "jupyter" / "nbgrader_config.py", (
        "# Written by hub/course_hub.py: every user's nbgrader finds the course's exchange.\n"
        "c = get_config()  # noqa: F821\n"
        f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
        f"c.Exchange.root = {str(EXCHANGE)!r}\n"
    ))
    for name in ("jupyter_server_config.json", "labconfig/page_config.json"):
        target = STUDENT_CONFIG / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(HUB_DIR / "student" / name, target)
        target.chmod(0o644)
    # Jupyter would try to write this marker into the (read-only) config folder on first start.
    write_if_changed(STUDENT_CONFIG / "migrated", "")
    for folder in (PREFIX, STUDENT_CONFIG.parent, STUDENT_CONFIG, STUDENT_CONFIG / "labconfig"):
        folder.chmod(0o755)


def copy_owned(source, target, user, mode=None):
    """Copy a file or folder tree and give it to `user`."""
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    run("chown", "-R", f"{user}:{user}", str(target))
    if mode is not None:
        target.chmod(mode)


def load_course(reset=False):
    """The instructor's course folder, their Jupyter config, and the grading library."""
    root = course_root()
    instructor_home = home(INSTRUCTOR)
    if reset:
        # A fresh term: no gradebook, submissions or exchange state from an earlier run.
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(EXCHANGE / COURSE_ID, ignore_errors=True)
        for user in (INSTRUCTOR, *STUDENTS):
            shutil.rmtree(home(user) / ASSIGNMENT, ignore_errors=True)
            shutil.rmtree(home(user) / ".jupyter" / "lab" / "workspaces", ignore_errors=True)
            # nbgrader's record of what this user submitted (the assignment list shows it).
            shutil.rmtree(home(user) / ".local/share/jupyter/nbgrader_cache", ignore_errors=True)
    root.mkdir(exist_ok=True)
    for name in COURSE_FILES:
        copy_owned(REPO / name, root / name, INSTRUCTOR)
    run("chown", f"{INSTRUCTOR}:{INSTRUCTOR}", str(root))
    root.chmod(0o700)
    jupyter_dir = instructor_home / ".jupyter"
    for name in ("nbgrader_config.py", "jupyter_server_config.py"):
        text = (HUB_DIR / "instructor" / name).read_text()
        for placeholder, value in (("@COURSE_ROOT@", root), ("@SANDBOX@", SANDBOX)):
            text = text.replace(placeholder, str(value))
        write_if_changed(jupyter_dir / name, text, 0o600)
    run("chown", "-R", f"{INSTRUCTOR}:{INSTRUCTOR}", str(jupyter_dir))
    # An earlier setup copied the grading library for sandboxed kernels; they need none now.
    shutil.rmtree(GRADING_LIBRARY, ignore_errors=True)


def setup(reset_course=False):
    started = time.monotonic()
    if os.geteuid() != 0:
        sys.exit("The course hub is set up as root (it creates system users).")
    install_system_packages()
    install_proxy()
    install_venv()
    create_users()
    configure_jupyter()
    load_course(reset=reset_course)
    log(f"setup done in {time.monotonic() - started:.1f} s")


# ----------------------------------------------------------------------------------------------
# Running the hub


def hub_environment(state_dir, port, service_token=None):
    env = {
        "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": "/root",
        "LAB21_HUB_STATE": str(state_dir),
        "LAB21_HUB_PORT": str(port),
    }
    if service_token:
        env["LAB21_SERVICE_TOKEN"] = service_token
    return env


def start_hub(state_dir, port=DEFAULT_PORT, service_token=None, log_file=None):
    """Start JupyterHub in its own process group; return the Popen."""
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    state_dir.chmod(0o700)
    output = open(log_file, "ab") if log_file else None
    return subprocess.Popen(
        [str(VENV_BIN / "jupyterhub"), "-f", str(HUB_DIR / "jupyterhub_config.py")],
        cwd=state_dir, env=hub_environment(state_dir, port, service_token),
        stdout=output, stderr=subprocess.STDOUT if output else None, start_new_session=True,
    )


def course_processes_of(*users):
    """PIDs of every process run by these users (by default all course users)."""
    uids = set()
    for user in users:
        try:
            uids.add(pwd.getpwnam(user).pw_uid)
        except KeyError:
            pass
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid in uids:
                    pids.append(int(entry.name))
            except FileNotFoundError:
                pass
    return pids


def course_processes():
    """PIDs of every process run by a course user (servers, kernels, sandboxed code)."""
    return course_processes_of(*COURSE_USERS)


def process_group_members(pgid):
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    members.append(int(entry.name))
            except ProcessLookupError:
                pass
    return members


def stop_hub(process, grace=10.0):
    """SIGTERM the hub, wait, then SIGKILL by PID whatever of it or the course users is left.

    Returns the command lines of the processes that had to be killed."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    killed = []
    for pid in set(process_group_members(process.pid) + course_processes()):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            os.kill(pid, signal.SIGKILL)
            killed.append(f"{pid}: {command[:120]}")
        except (ProcessLookupError, FileNotFoundError):
            pass
    if process.poll() is None:
        process.wait(5)
    # A killed process lingers in /proc until its parent reaps it; give that a moment.
    deadline = time.monotonic() + 5
    while course_processes() and time.monotonic() < deadline:
        time.sleep(0.1)
    if killed:
        log(f"killed {len(killed)} leftover process(es): " + "; ".join(killed))
    return killed


def preload_assignment():
    """Put lab21 in the gradebook so formgrader lists it on first login."""
    as_user(INSTRUCTOR, str(VENV_BIN / "nbgrader"), "generate_assignment", ASSIGNMENT,
            "--force", cwd=course_root(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def serve():
    setup()
    preload_assignment()
    state = PREFIX / "state"
    port = int(os.environ.get("LAB21_HUB_PORT", DEFAULT_PORT))
    hub = start_hub(state, port)
    print(
        f"\nThe Lab 21 course hub: http://127.0.0.1:{port}/\n"
        f"  Log in as the instructor: {INSTRUCTOR}  (Nbgrader menu > Formgrader)\n"
        f"  Log in as a student: {', '.join(STUDENTS)}  (Nbgrader menu > Assignment List)\n"
        "  Any password works: this is JupyterHub's DummyAuthenticator, for local trial only.\n"
        "  Ctrl-C stops the hub and every server and kernel it started.\n",
        flush=True,
    )
    try:
        hub.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop_hub(hub)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["setup", "serve"])
    parser.add_argument("--reset-course", action="store_true",
                        help="start the course over: no gradebook, submissions or exchange")
    arguments = parser.parse_args()
    if arguments.command == "setup":
        setup(reset_course=arguments.reset_course)
    else:
        serve()
