"""JupyterHub configuration for the Lab 21 course (local trial: `make hub`; tests: `make test-hub`).

Every user is a real system user and their server runs as that user (LocalProcessSpawner), so
file permissions keep students out of the instructor's course folder. Run as root.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import course_hub  # noqa: E402 (found through the line above)

c = get_config()  # noqa: F821 (provided by JupyterHub when it loads this file)

state = Path(os.environ.get("LAB21_HUB_STATE", course_hub.PREFIX / "state"))
port = int(os.environ.get("LAB21_HUB_PORT", course_hub.DEFAULT_PORT))

# Local trial: any password is accepted for the course's users. A real deployment swaps in a
# real authenticator (see hub/README.md); the allowed users stay the class list.
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allowed_users = {course_hub.INSTRUCTOR, *course_hub.STUDENTS}

# Loopback only; the hub's own API and the proxy's API on the next ports up.
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
c.Spawner.start_timeout = 60
c.Spawner.http_timeout = 60


ENVIRONMENT = {
    # The venv first: nbgrader runs alembic and friends by name.
    "PATH": f"{course_hub.VENV_BIN}:/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
}


def role_environment(spawner):
    """Students' Jupyter config turns formgrader, Create Assignment and the course list off;
    the instructor's server (and its kernels) import the course's tools from the course folder."""
    if spawner.user.name == course_hub.INSTRUCTOR:
        extra = {"PYTHONPATH": str(course_hub.course_root())}
    else:
        # That folder is read-only: JupyterLab keeps the student's layout and settings at home.
        lab_state = course_hub.home(spawner.user.name) / ".jupyter" / "lab"
        extra = {
            "JUPYTER_CONFIG_DIR": str(course_hub.STUDENT_CONFIG),
            "JUPYTERLAB_WORKSPACES_DIR": str(lab_state / "workspaces"),
            "JUPYTERLAB_SETTINGS_DIR": str(lab_state / "user-settings"),
        }
    spawner.environment = {**ENVIRONMENT, **extra}


c.Spawner.pre_spawn_hook = role_environment

# A service token that drives the hub over REST, only when the caller (the test) provides one.
service_token = os.environ.get("LAB21_SERVICE_TOKEN")
if service_token:
    c.JupyterHub.services = [{"name": "course-driver", "api_token": service_token}]
    c.JupyterHub.load_roles = [
        {
            "name": "course-driver",
            "scopes": ["admin:users", "admin:servers", "access:servers", "list:users",
                       "read:users"],
            "services": ["course-driver"],
        }
    ]
