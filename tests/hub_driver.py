"""Drive the course hub over its REST APIs, as the end-to-end test's users would through the UI.

A service token (given to the hub at start) starts and stops servers and reaches every user's
server: nbgrader's assignment list and formgrader handlers, the contents API, and kernels.
"""

import json
import time
import uuid

import requests
import websocket

# Bounds on every wait, so that a broken hub fails the test instead of hanging it.
HTTP_SECONDS = 60
SPAWN_SECONDS = 60
CELL_SECONDS = 60


class HubError(AssertionError):
    pass


class Hub:
    def __init__(self, url, token):
        self.url = url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"token {token}"
        self.token = token

    def request(self, method, path, expect=(200, 201, 202, 204), **kwargs):
        response = self.session.request(method, self.url + path, timeout=HTTP_SECONDS, **kwargs)
        if expect and response.status_code not in expect:
            raise HubError(f"{method} {path}: HTTP {response.status_code}: {response.text[:800]}")
        return response

    # -- servers ------------------------------------------------------------------------------

    def wait_until_up(self, seconds=30):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                if self.session.get(self.url + "/hub/api/", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.3)
        raise HubError(f"the hub did not answer at {self.url} within {seconds} s")

    def start_server(self, *users):
        """Start the users' servers together (spawns overlap), and wait until all are ready."""
        for user in users:
            self.request("POST", f"/hub/api/users/{user}", expect=(201, 409))
            self.request("POST", f"/hub/api/users/{user}/server", expect=(201, 202, 400))
        waiting = set(users)
        deadline = time.monotonic() + SPAWN_SECONDS
        while waiting and time.monotonic() < deadline:
            for user in list(waiting):
                model = self.request("GET", f"/hub/api/users/{user}").json()
                if model.get("servers", {}).get("", {}).get("ready"):
                    waiting.discard(user)
            time.sleep(0.3)
        if waiting:
            raise HubError(f"not ready within {SPAWN_SECONDS} s: {sorted(waiting)}'s servers")

    def stop_server(self, user):
        self.request("DELETE", f"/hub/api/users/{user}/server", expect=None)

    def user(self, name):
        return UserServer(self, name)


class UserServer:
    """One user's single-user server, reached through the proxy."""

    def __init__(self, hub, name):
        self.hub = hub
        self.name = name
        self.base = f"/user/{name}"

    def request(self, method, path, **kwargs):
        return self.hub.request(method, self.base + path, **kwargs)

    # -- nbgrader: the student's assignment list --------------------------------------------

    def assignment_action(self, action, assignment):
        response = self.request(
            "POST",
            f"/assignments/{action}",
            data={"course_id": "lab21", "assignment_id": assignment},
        )
        result = response.json()
        if not result.get("success"):
            raise HubError(f"{self.name}: {action} {assignment} failed: {result}")
        return result

    # -- nbgrader: the instructor's formgrader ------------------------------------------------

    def formgrader(self, method, path, **kwargs):
        response = self.request(method, f"/formgrader/api/{path}", **kwargs)
        result = response.json() if response.content else {}
        if isinstance(result, dict) and result.get("success") is False:
            raise HubError(f"formgrader {path} failed: {json.dumps(result)[:2000]}")
        return result

    # -- files ----------------------------------------------------------------------------

    def read_notebook(self, path):
        return self.request("GET", f"/api/contents/{path}?content=1").json()["content"]

    def write_notebook(self, path, notebook):
        self.request(
            "PUT",
            f"/api/contents/{path}",
            json={"type": "notebook", "format": "json", "content": notebook},
        )

    def list_folder(self, path):
        return [
            item["name"] for item in self.request("GET", f"/api/contents/{path}").json()["content"]
        ]

    # -- kernels ----------------------------------------------------------------------------

    def kernel(self, notebook_path):
        """A kernel whose working folder is the notebook's, as when the student opens it."""
        session = self.request(
            "POST",
            "/api/sessions",
            json={
                "path": notebook_path,
                "type": "notebook",
                "name": notebook_path.rsplit("/")[-1],
                "kernel": {"name": "python3"},
            },
        ).json()
        return Kernel(self, session["id"], session["kernel"]["id"])


class Kernel:
    def __init__(self, server, session_id, kernel_id):
        self.server = server
        self.session_id = session_id
        self.kernel_id = kernel_id
        ws_url = server.hub.url.replace("http", "ws", 1)
        self.socket = websocket.create_connection(
            f"{ws_url}{server.base}/api/kernels/{kernel_id}/channels",
            header=[f"Authorization: token {server.hub.token}"],
            timeout=CELL_SECONDS,
        )
        self.client_session = uuid.uuid4().hex

    def run(self, code):
        """Execute code; return (status, text output, error name or None)."""
        msg_id = uuid.uuid4().hex
        self.socket.send(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "username": self.server.name,
                        "msg_type": "execute_request",
                        "session": self.client_session,
                        "version": "5.3",
                    },
                    "parent_header": {},
                    "metadata": {},
                    "channel": "shell",
                    "buffers": [],
                    "content": {
                        "code": code,
                        "silent": False,
                        "store_history": False,
                        "user_expressions": {},
                        "allow_stdin": False,
                        "stop_on_error": True,
                    },
                }
            )
        )
        text, error, status, idle = [], None, None, False
        deadline = time.monotonic() + CELL_SECONDS
        while status is None or not idle:
            if time.monotonic() > deadline:
                raise HubError(f"no reply from the kernel within {CELL_SECONDS} s for: {code[:80]}")
            message = json.loads(self.socket.recv())
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "stream":
                text.append(content["text"])
            elif kind in ("execute_result", "display_data"):
                text.append(content["data"].get("text/plain", ""))
            elif kind == "error":
                error = content["ename"]
                text.append(f"{content['ename']}: {content['evalue']}")
            elif kind == "execute_reply":
                status = content["status"]
            elif kind == "status" and content["execution_state"] == "idle":
                idle = True
        return status, "".join(text), error

    def close(self):
        self.socket.close()
        self.server.request("DELETE", f"/api/sessions/{self.session_id}", expect=None)
