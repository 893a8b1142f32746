"""JupyterHub configuration for the Lab 21 course (local trial: `make hub`; tests: `make test-hub`).

Every user is a real system user and their server runs as that user (LocalProcessSpawner), so
file permissions keep students out of the instructor's course folder. Run as root.
"""

import os
import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import course_hub  # noqa: E402 (found through the line above)

c = get_config()  # noqa: F821 (provided by JupyterHub when it loads this file)

state = Path(os.environ.get("LAB21_HUB_STATE", course_hub.PREFIX / "state"))
port = int(os.environ.get("LAB21_HUB_PORT", course_hub.DEFAULT_PORT))
# nbgrader's filesystem exchange (one machine) or ngshare (an HTTP service, as on Kubernetes).
exchange = os.environ.get("LAB21_EXCHANGE", "filesystem")
# The class load test's simulated students (hub/load_class.py); none on a normal hub.
simulated_students = course_hub.load_students(int(os.environ.get("LAB21_LOAD_STUDENTS", "0")))
# Servers idle this long are stopped (jupyterhub-idle-culler); the load test shortens it.
idle_timeout = int(os.environ.get("LAB21_IDLE_TIMEOUT", "3600"))

# Local trial: any password is accepted for the course's users. A real deployment swaps in a
# real authenticator (see hub/README.md); the allowed users stay the class list.
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allowed_users = {course_hub.INSTRUCTOR, *course_hub.STUDENTS, *simulated_students}

# Loopback only; the hub's own API, the proxy's API and ngshare on the next ports up.
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = port
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = port + 1
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{port + 2}"
c.ConfigurableHTTPProxy.command = [str(course_hub.PROXY)]
c.ConfigurableHTTPProxy.pid_file = str(state / "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True

# Each server runs as its user (the default LocalProcessSpawner) from the world-readable venv.
c.Spawner.cmd = [str(course_hub.VENV_BIN / "jupyterhub-singleuser")]
c.Spawner.ip = "127.0.0.1"
c.Spawner.notebook_dir = "~"
c.Spawner.default_url = "/lab"
# A class that arrives at once on a small machine: a server can take a minute or more to
# start while its neighbours do (the load test measures it).
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 120


# How often servers tell the hub they are in use, and the hub asks the proxy: often enough
# that the culler never takes a server in use for an idle one.
activity_interval = max(5, min(300, idle_timeout // 6))
c.JupyterHub.last_activity_interval = activity_interval

ENVIRONMENT = {
    # The venv first: nbgrader runs alembic and friends by name.
    "PATH": f"{course_hub.VENV_BIN}:/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "JUPYTERHUB_ACTIVITY_INTERVAL": str(activity_interval),
    # Read by the hub's nbgrader config (hub/nbgrader_config.py).
    "LAB21_EXCHANGE": exchange,
    "LAB21_NGSHARE_URL": course_hub.ngshare_url(port) if exchange == "ngshare" else "",
}


# Each user's server listens on a port of its own, below the kernel's range of ephemeral ports.
# JupyterHub's default picks a free port at random and the server binds it seconds later: with
# many servers starting at once two users were given the same port, and the hub routed one
# student to another's server (seen in the class load test).
USER_PORT_BASE = int(os.environ.get("LAB21_USER_PORT_BASE", "20000"))


def own_port(spawner):
    port = USER_PORT_BASE + spawner.user.id
    with socket.socket() as probe:
        # As the server will (tornado does): a port whose last connections linger in
        # TIME_WAIT is free; only a socket listening on it is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            raise RuntimeError(f"port {port} for {spawner.user.name}'s server is taken") from error
    spawner.port = port


def before_spawn(spawner):
    """The server's own port, and its role's environment: students' Jupyter config turns
    formgrader, Create Assignment and the course list off; the instructor's server (and its
    kernels) import the course's tools from the course folder."""
    own_port(spawner)
    if spawner.user.name == course_hub.INSTRUCTOR:
        extra = {
            "PYTHONPATH": str(course_hub.course_root()),
            # Grading starts its sandbox slots through this root-owned launcher (sudo).
            "LAB21_SANDBOX_LAUNCHER": str(course_hub.SANDBOX_LAUNCHER),
        }
    else:
        # That folder is read-only: JupyterLab keeps the student's layout and settings at home.
        lab_state = course_hub.home(spawner.user.name) / ".jupyter" / "lab"
        extra = {
            "JUPYTER_CONFIG_DIR": str(course_hub.STUDENT_CONFIG),
            "JUPYTERLAB_WORKSPACES_DIR": str(lab_state / "workspaces"),
            "JUPYTERLAB_SETTINGS_DIR": str(lab_state / "user-settings"),
        }
    spawner.environment = {**ENVIRONMENT, **extra}


c.Spawner.pre_spawn_hook = before_spawn

# The hub's services, each run by the hub as the unprivileged lab21-services user.
c.JupyterHub.services = [
    {
        "name": "idle-culler",
        "user": course_hub.SERVICE_USER,
        "command": [
            str(course_hub.VENV_BIN / "python"), "-m", "jupyterhub_idle_culler",
            f"--timeout={idle_timeout}", f"--cull-every={max(5, min(600, idle_timeout // 3))}",
        ],
    },
]
c.JupyterHub.load_roles = [
    {
        "name": "idle-culler",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    },
]

if exchange == "ngshare":
    # ngshare asks the hub who owns the token of each request it gets: that user is the
    # submitter, whatever the request says. The instructor is its admin (creates the course).
    c.JupyterHub.services.append({
        "name": "ngshare",
        "user": course_hub.SERVICE_USER,
        "url": f"http://127.0.0.1:{port + 3}",
        "cwd": str(course_hub.NGSHARE_DATA),
        "command": [
            str(course_hub.NGSHARE_VENV / "bin" / "python"),
            str(course_hub.SERVICE_LIBRARY / "ngshare_service.py"),
            f"--admins={course_hub.INSTRUCTOR}",
            f"--database=sqlite:///{course_hub.NGSHARE_DATA / 'ngshare.db'}",
            f"--storage={course_hub.NGSHARE_DATA / 'files'}",
        ],
    })

# A service token that drives the hub over REST, when the caller (course_hub.py: the test,
# the load test, `make hub`'s ngshare enrolment) provides one.
service_token = os.environ.get("LAB21_SERVICE_TOKEN")
if service_token:
    c.JupyterHub.services.append({"name": "course-driver", "api_token": service_token})
    c.JupyterHub.load_roles.append(
        {
            "name": "course-driver",
            # tokens: a short-lived token of the instructor's to enrol the class on ngshare.
            "scopes": ["admin:users", "admin:servers", "access:servers", "list:users",
                       "read:users", "tokens"],
            "services": ["course-driver"],
        }
    )
