"""Set up and run the Lab 21 course hub on this machine (run as root with Debian's python3).

    python3 hub/course_hub.py setup [--reset-course] [--load-students N]
        install, create the course's users (and N simulated students), load the course
    python3 hub/course_hub.py serve [--exchange filesystem|ngshare]
        setup, then run the hub until Ctrl-C

Only the standard library is used here: this runs before any venv exists. The hub's
configuration (hub/jupyterhub_config.py) and the end-to-end test import the names below.
"""

import argparse
import concurrent.futures
import contextlib
import fcntl
import hashlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HUB_DIR = REPO / "hub"
# Everything the hub's users need lives here, world-readable, outside any home or the clone.
PREFIX = Path(os.environ.get("LAB21_HUB_PREFIX", "/srv/lab21-hub"))
VENV = PREFIX / "venv"
VENV_BIN = VENV / "bin"
# The ngshare service's own venv: it needs an older SQLAlchemy than nbgrader's.
NGSHARE_VENV = PREFIX / "ngshare-venv"
EXCHANGE = PREFIX / "exchange"
# ngshare's database and stored files (the HTTP exchange), owned by SERVICE_USER alone.
NGSHARE_DATA = PREFIX / "ngshare"
# Programs the hub's services run, copied where their unprivileged users can read them.
SERVICE_LIBRARY = PREFIX / "lib"
STUDENT_CONFIG = PREFIX / "etc" / "student"
# Read-only copy of what the hidden tests import (an earlier design; removed by setup).
GRADING_LIBRARY = PREFIX / "grading-library"
# The sandbox's launcher (coursepack/sandbox_launch.py and the zygote it starts), root-owned: the
# instructor may run it, and only it, as root through sudo, to start a grading slot.
SANDBOX_DIR = PREFIX / "sandbox"
SANDBOX_LAUNCHER = SANDBOX_DIR / "lab21-sandbox"
SANDBOX_SUDOERS = Path("/etc/sudoers.d/lab21-sandbox")
PROXY = REPO / "node_modules" / ".bin" / "configurable-http-proxy"

COURSE_ID = "lab21"
ASSIGNMENT = "lab21"
INSTRUCTOR = "lab21-instructor"
STUDENTS = ("lab21-alice", "lab21-bob", "lab21-carol")
# The unprivileged user that runs the hub's services (ngshare, the idle culler).
SERVICE_USER = "lab21-services"
COURSE_USERS = (INSTRUCTOR, *STUDENTS)
EXCHANGES = ("filesystem", "ngshare")
# The class load test's simulated students (hub/load_class.py): lab21-s01, lab21-s02, ...
LOAD_STUDENT_LIMIT = 99
# Course files copied into the instructor's home (the clone may not be readable by them).
COURSE_FILES = ("source", "coursepack", "solutions", "data", "nbgrader_config.py")
DEFAULT_PORT = 8021


def home(user):
    return Path(pwd.getpwnam(user).pw_dir)


def load_students(count):
    if not 0 <= count <= LOAD_STUDENT_LIMIT:
        raise ValueError(f"between 0 and {LOAD_STUDENT_LIMIT} simulated students")
    return tuple(f"lab21-s{number:02d}" for number in range(1, count + 1))


def user_exists(user):
    try:
        pwd.getpwnam(user)
        return True
    except KeyError:
        return False


def existing_load_students():
    """The simulated students that an earlier setup created (they stay between runs)."""
    return tuple(user for user in load_students(LOAD_STUDENT_LIMIT) if user_exists(user))


def course_root():
    return home(INSTRUCTOR) / "course"


def log(message):
    print(f"[course-hub] {message}", flush=True)


def run(*command, **kwargs):
    subprocess.run(command, check=True, **kwargs)


def as_user(user, *command, extra_environment=None, **kwargs):
    """Run a command as a course user, with the hub venv first on PATH."""
    env = {
        "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home(user)),
        "USER": user,
        "LANG": "C.UTF-8",
        **(extra_environment or {}),
    }
    kwargs.setdefault("check", True)
    # Looked up on root's PATH: the command itself is looked up on the user's (env).
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    return subprocess.run([runuser, "-u", user, "--", *command], env=env, **kwargs)


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


def install_venv(venv, requirements, without_dependencies=None):
    """A venv from Debian's /usr/bin/python3 in a world-readable place (see the hub notes).

    without_dependencies: a requirements file of packages whose declared dependencies cannot
    be met but whose real ones are pinned in `requirements`."""
    stamp = venv / ".lab21-stamp"
    wanted = fingerprint(*requirements, *filter(None, [without_dependencies]))
    if stamp.exists() and stamp.read_text() == wanted:
        return
    log(f"building {venv} (about 40 s)")
    shutil.rmtree(venv, ignore_errors=True)
    run("/usr/bin/python3", "-m", "venv", str(venv))
    pip = (str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check")
    # The lists are complete pins: --no-deps keeps out what they leave out on purpose
    # (requirements.txt says what and why), and `pip check` proves nothing is missing.
    run(*pip, "--no-deps", *(arg for path in requirements for arg in ("-r", str(path))),
        stderr=subprocess.DEVNULL)
    run(str(venv / "bin" / "pip"), "check", "--disable-pip-version-check")
    if without_dependencies:
        run(*pip, "--no-deps", "-r", str(without_dependencies), stderr=subprocess.DEVNULL)
    stamp.write_text(wanted)


def install_venvs():
    PREFIX.mkdir(parents=True, exist_ok=True)
    with open(PREFIX / ".venvs.lock", "w") as lock:
        # `make test` starts building them beside the course's venv; a hub test's setup that
        # comes early waits here for that build instead of starting its own.
        fcntl.flock(lock, fcntl.LOCK_EX)
        install_venv(VENV, (REPO / "requirements.txt", REPO / "requirements-hub.txt"),
                     REPO / "requirements-hub-nodeps.txt")
        install_venv(NGSHARE_VENV, (REPO / "requirements-ngshare.txt",))


# ----------------------------------------------------------------------------------------------
# Users, exchange and configuration


def create_users(simulated_students=()):
    created = []
    for user in (*COURSE_USERS, *simulated_students):
        if not user_exists(user):
            created.append(user)
            run("useradd", "--create-home", "--shell", "/bin/bash", user)
        # Debian makes homes 0755: without 0700 any user could read another's work.
        os.chmod(home(user), 0o700)
    if not user_exists(SERVICE_USER):
        created.append(SERVICE_USER)
        run("useradd", "--system", "--no-create-home", "--home-dir", str(NGSHARE_DATA),
            "--shell", "/usr/sbin/nologin", SERVICE_USER)
    if created:
        log(f"useradd {', '.join(created)}")


def install_sandbox():
    """The grading sandbox on the hub (coursepack/sandbox.py): the instructor grades as
    themselves, and each student's kernel runs in bubblewrap as a slot's own unprivileged uid.
    Starting a slot needs root for a moment (its tmpfs, cgroup and uid switch): the instructor
    may run the root-owned launcher, nothing else, through sudo."""
    if shutil.which("bwrap") is None:
        log("apt-get install bubblewrap")
        run("apt-get", "install", "-y", "-qq", "--no-install-recommends",
            "bubblewrap=0.8.0-2+deb12u1", stdout=subprocess.DEVNULL)
    SANDBOX_DIR.mkdir(parents=True, exist_ok=True)
    launcher = (REPO / "coursepack" / "sandbox_launch.py").read_text()
    write_if_changed(SANDBOX_LAUNCHER, "#!/usr/bin/python3 -I\n" + launcher, 0o755)
    write_if_changed(SANDBOX_DIR / "zygote.py", (REPO / "coursepack" / "zygote.py").read_text())
    run("chown", "-R", "root:root", str(SANDBOX_DIR))
    SANDBOX_DIR.chmod(0o755)
    rule = f"{INSTRUCTOR} ALL=(root) NOPASSWD: {SANDBOX_LAUNCHER}\n"
    if not SANDBOX_SUDOERS.exists() or SANDBOX_SUDOERS.read_text() != rule:
        SANDBOX_SUDOERS.write_text(rule)
        SANDBOX_SUDOERS.chmod(0o440)
        run("visudo", "--check", "--quiet", "--file", str(SANDBOX_SUDOERS))
    # The slots' lock files, usable by the instructor (and root), not by students.
    sys.path.insert(0, str(REPO))
    from coursepack import sandbox_launch

    sandbox_launch.make_lock_files(group=pwd.getpwnam(INSTRUCTOR).pw_gid)
    # Gone: the single sandbox user of an earlier design.
    if user_exists("lab21-sandbox"):
        run("userdel", "--remove", "lab21-sandbox", stderr=subprocess.DEVNULL)


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
    write_if_changed(
        VENV / "etc" / "jupyter" / "nbgrader_config.py",
        (HUB_DIR / "nbgrader_config.py").read_text()
        .replace("@COURSE_ID@", COURSE_ID).replace("@EXCHANGE@", str(EXCHANGE)),
    )
    # ngshare keeps its database and files in a folder that only its service user can enter.
    NGSHARE_DATA.mkdir(exist_ok=True)
    run("chown", f"{SERVICE_USER}:{SERVICE_USER}", str(NGSHARE_DATA))
    NGSHARE_DATA.chmod(0o700)
    SERVICE_LIBRARY.mkdir(exist_ok=True)
    write_if_changed(SERVICE_LIBRARY / "ngshare_service.py",
                     (HUB_DIR / "ngshare_service.py").read_text())
    for name in ("jupyter_server_config.json", "labconfig/page_config.json"):
        target = STUDENT_CONFIG / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(HUB_DIR / "student" / name, target)
        target.chmod(0o644)
    # Jupyter would try to write this marker into the (read-only) config folder on first start.
    write_if_changed(STUDENT_CONFIG / "migrated", "")
    for folder in (PREFIX, SERVICE_LIBRARY, STUDENT_CONFIG.parent, STUDENT_CONFIG,
                   STUDENT_CONFIG / "labconfig"):
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
        for item in NGSHARE_DATA.iterdir():
            shutil.rmtree(item) if item.is_dir() else item.unlink()
        for user in (INSTRUCTOR, *STUDENTS, *existing_load_students()):
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
        text = text.replace("@COURSE_ROOT@", str(root))
        write_if_changed(jupyter_dir / name, text, 0o600)
    run("chown", "-R", f"{INSTRUCTOR}:{INSTRUCTOR}", str(jupyter_dir))
    # An earlier setup copied the grading library for sandboxed kernels; they need none now.
    shutil.rmtree(GRADING_LIBRARY, ignore_errors=True)


def setup(reset_course=False, simulated_students=0):
    started = time.monotonic()
    if os.geteuid() != 0:
        sys.exit("The course hub is set up as root (it creates system users).")
    install_system_packages()
    install_proxy()
    install_venvs()
    create_users(load_students(simulated_students))
    install_sandbox()
    configure_jupyter()
    load_course(reset=reset_course)
    log(f"setup done in {time.monotonic() - started:.1f} s")


# ----------------------------------------------------------------------------------------------
# Running the hub


def ngshare_url(port):
    """Where servers reach ngshare: straight at the service (the hub's port block, 4th port)."""
    return f"http://127.0.0.1:{port + 3}/services/ngshare"


def hub_environment(state_dir, port, service_token=None, exchange="filesystem",
                    simulated_students=0, idle_timeout=None):
    """What hub/jupyterhub_config.py reads: the hub's state, ports, exchange and class size."""
    if exchange not in EXCHANGES:
        raise ValueError(f"exchange {exchange!r} is not one of {EXCHANGES}")
    env = {
        "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": "/root",
        "LAB21_HUB_STATE": str(state_dir),
        "LAB21_HUB_PORT": str(port),
        "LAB21_EXCHANGE": exchange,
        "LAB21_LOAD_STUDENTS": str(simulated_students),
    }
    if service_token:
        env["LAB21_SERVICE_TOKEN"] = service_token
    if idle_timeout:
        env["LAB21_IDLE_TIMEOUT"] = str(idle_timeout)
    return env


def start_hub(state_dir, port=DEFAULT_PORT, service_token=None, log_file=None, **settings):
    """Start JupyterHub in its own process group; return the Popen.

    settings: exchange, simulated_students, idle_timeout (see hub_environment)."""
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    state_dir.chmod(0o700)
    output = open(log_file, "ab") if log_file else None
    return subprocess.Popen(
        [str(VENV_BIN / "jupyterhub"), "-f", str(HUB_DIR / "jupyterhub_config.py")],
        cwd=state_dir, env=hub_environment(state_dir, port, service_token, **settings),
        stdout=output, stderr=subprocess.STDOUT if output else None, start_new_session=True,
    )


def free_port_block(size=4):
    """A base port with the next `size - 1` ports free too (hub, hub API, proxy API, ngshare)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + size > 65535:
            continue
        sockets = []
        try:
            for port in range(base, base + size):
                sockets.append(socket.socket())
                sockets[-1].bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no block of free ports on 127.0.0.1")


def hub_api(url, token, method, path, body=None, expect=(200, 201, 202, 204)):
    """One call to the hub's REST API with the service token; returns the decoded JSON."""
    request = urllib.request.Request(
        f"{url}/hub/api{path}", method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    if status not in expect:
        raise RuntimeError(f"hub API {method} {path}: HTTP {status}: {text[:500]}")
    return json.loads(text) if text else None


def wait_until_up(url, seconds=60, process=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the hub exited with code {process.returncode} (see its log)")
        try:
            with urllib.request.urlopen(f"{url}/hub/api/", timeout=2):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.3)
    raise RuntimeError(f"the hub did not answer at {url} within {seconds} s")


def wait_for_service(url, seconds=60):
    """Until a hub service answers its health check (ngshare's /healthz)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.3)
    raise RuntimeError(f"no answer from {url} within {seconds} s")


def enrol_on_ngshare(url, port, service_token, students):
    """Create the course on ngshare with its instructor and enrol the students.

    ngshare allows this to its admins (the instructor, see jupyterhub_config.py) and takes who
    is asking from the hub token it is sent, so this runs ngshare_exchange's own course tool as
    the instructor, with a short-lived hub token of theirs."""
    wait_for_service(f"http://127.0.0.1:{port + 3}/healthz")
    issued = hub_api(url, service_token, "POST", f"/users/{INSTRUCTOR}/tokens",
                     {"note": "ngshare enrolment (course_hub.py)", "expires_in": 600})
    environment = {
        "JUPYTERHUB_API_TOKEN": issued["token"],
        "JUPYTERHUB_USER": INSTRUCTOR,
        "LAB21_EXCHANGE": "ngshare",
        "LAB21_NGSHARE_URL": ngshare_url(port),
    }
    tool = str(VENV_BIN / "ngshare-course-management")
    roster = home(INSTRUCTOR) / "ngshare-roster.csv"
    try:
        created = as_user(INSTRUCTOR, tool, "create_course", COURSE_ID, INSTRUCTOR, check=False,
                          extra_environment=environment, capture_output=True, text=True,
                          cwd=home(INSTRUCTOR))
        if created.returncode != 0 and "already exists" not in created.stdout:
            raise RuntimeError(f"ngshare create_course failed: {created.stdout}{created.stderr}")
        roster.write_text("student_id,first_name,last_name,email\n"
                          + "".join(f"{student},,,\n" for student in students))
        run("chown", f"{INSTRUCTOR}:{INSTRUCTOR}", str(roster))
        # --no-gb: autograde adds each student to nbgrader's gradebook when it grades them.
        enrolled = as_user(INSTRUCTOR, tool, "add_students", COURSE_ID, str(roster), "--no-gb",
                           extra_environment=environment, capture_output=True, text=True,
                           cwd=home(INSTRUCTOR))
        if enrolled.stdout.count("was successfully added") != len(students):
            raise RuntimeError(f"ngshare add_students: {enrolled.stdout}{enrolled.stderr}")
    finally:
        roster.unlink(missing_ok=True)
        hub_api(url, service_token, "DELETE", f"/users/{INSTRUCTOR}/tokens/{issued['id']}")
    log(f"ngshare: course {COURSE_ID} with {INSTRUCTOR} and {len(students)} students")


def sandbox_kernels(slots, wait=10.0):
    """PIDs of the grading sandbox's kernels still running in these slots (and anything they
    started), after waiting up to `wait` seconds for them to end: the processes of a slot's
    user below its zygote. Idle zygotes (children of bubblewrap) stay."""
    deadline = time.monotonic() + wait
    while (found := _sandbox_kernels(slots)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


def _sandbox_kernels(slots):
    sys.path.insert(0, str(REPO))
    from coursepack import sandbox_launch

    slot_users = {sandbox_launch.slot_uid(slot) for slot in slots}
    parents, commands = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid not in slot_users:
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            parents[int(entry.name)] = int(fields[1])
            commands[int(entry.name)] = (entry / "comm").read_text().strip()
        except (FileNotFoundError, ProcessLookupError):
            continue
    zygotes = {pid for pid, parent in parents.items() if commands.get(parent) == "bwrap"
               and commands[pid] != "bwrap"}
    return sorted(pid for pid, parent in parents.items() if parent in zygotes)


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
    """PIDs of every process run by a course user (servers, kernels, sandboxed code, the hub's
    services and the simulated students)."""
    return course_processes_of(*COURSE_USERS, SERVICE_USER, *existing_load_students())


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


@contextlib.contextmanager
def running_hub(output, exchange="filesystem", simulated_students=0, idle_timeout=None):
    """A hub of its own (free ports, state and log in `output`) on a course started over.

    Yields (url, service token). On the way out every server is stopped over the API, then the
    hub, then whatever of it or the course's users is left (by PID); returns with none left."""
    output = Path(output).resolve()
    output.mkdir(parents=True, exist_ok=True)
    setup(reset_course=True, simulated_students=simulated_students)
    port = free_port_block()
    url, token = f"http://127.0.0.1:{port}", secrets.token_hex(32)
    process = start_hub(output / "state", port, service_token=token, log_file=output / "hub.log",
                        exchange=exchange, simulated_students=simulated_students,
                        idle_timeout=idle_timeout)
    try:
        wait_until_up(url, process=process)
        if exchange == "ngshare":
            enrol_on_ngshare(url, port, token, (*STUDENTS, *load_students(simulated_students)))
        yield url, token
    finally:
        # Servers first, over the API and all at once, so each stops its kernels; then the
        # hub; then any survivor of the hub's process group or of the course's users, by PID.
        def stop_server(user):
            try:
                hub_api(url, token, "DELETE", f"/users/{user}/server", expect=(202, 204, 400, 404))
            except Exception:  # the hub may be the thing that broke
                pass

        users = (INSTRUCTOR, *STUDENTS, *load_students(simulated_students))
        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(stop_server, users))
        killed = stop_hub(process)
        (output / "killed-at-shutdown.txt").write_text("\n".join(killed))
        if course_processes():
            raise RuntimeError("a course user's process outlived the hub")


def preload_assignment():
    """Put lab21 in the gradebook so formgrader lists it on first login."""
    as_user(INSTRUCTOR, str(VENV_BIN / "nbgrader"), "generate_assignment", ASSIGNMENT,
            "--force", cwd=course_root(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def serve(exchange="filesystem"):
    setup()
    preload_assignment()
    state = PREFIX / "state"
    port = int(os.environ.get("LAB21_HUB_PORT", DEFAULT_PORT))
    # The course's own service token: it enrols the class on ngshare (when ngshare is used).
    token = secrets.token_hex(32)
    hub = start_hub(state, port, service_token=token, exchange=exchange)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url)
        if exchange == "ngshare":
            enrol_on_ngshare(url, port, token, STUDENTS)
        print(
            f"\nThe Lab 21 course hub: {url}/  (exchange: {exchange})\n"
            f"  Log in as the instructor: {INSTRUCTOR}  (Nbgrader menu > Formgrader)\n"
            f"  Log in as a student: {', '.join(STUDENTS)}  (Nbgrader menu > Assignment List)\n"
            "  Any password works: this is JupyterHub's DummyAuthenticator, for local trial only.\n"
            "  Ctrl-C stops the hub and every server and kernel it started.\n",
            flush=True,
        )
        hub.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop_hub(hub)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["setup", "serve", "venvs"],
                        help="venvs: only build the hub's two venvs (make test starts it early)")
    parser.add_argument("--reset-course", action="store_true",
                        help="start the course over: no gradebook, submissions or exchange")
    parser.add_argument("--load-students", type=int, default=0, metavar="N",
                        help="also create the simulated students lab21-s01 ... (setup)")
    parser.add_argument("--exchange", choices=EXCHANGES,
                        default=os.environ.get("LAB21_EXCHANGE", "filesystem"),
                        help="nbgrader's filesystem exchange, or ngshare as a hub service (serve)")
    arguments = parser.parse_args()
    if arguments.command == "setup":
        setup(reset_course=arguments.reset_course, simulated_students=arguments.load_students)
    elif arguments.command == "venvs":
        if os.geteuid() != 0:
            sys.exit("The course hub's venvs are built as root (under /srv).")
        install_venvs()
    else:
        serve(arguments.exchange)
