"""A class under load on the real course hub: simulated students, all at once, end to end.

    sudo /srv/lab21-hub/venv/bin/python hub/load_class.py --students 50   # `make load-test`

Starts a hub of its own (hub/course_hub.py: its own ports and state, the course started over,
the simulated students lab21-s01 ... created as system users when missing). The instructor
releases lab21; then every student, arriving within --arrival-window seconds of the first, logs
in through the hub's login form, starts a server, fetches the lab, answers it, runs every code
cell in a kernel of that server, and submits. The instructor, who watches formgrader meanwhile,
collects and autogrades every submission. Idle servers are stopped by jupyterhub-idle-culler.

Each student is an asyncio client (aiohttp) of the hub's REST API and of their own server's
REST and kernel (websocket) APIs, as JupyterLab is. Answers differ by student, so that every
score is known in advance; a per-student marker in the answers shows whose work reached which
folder. Prints the figures and checks, and writes them as JSON (--json). Exits non-zero when
a check fails. Runs with the hub venv's Python, as root (it creates system users).
"""

import argparse
import asyncio
import copy
import json
import os
import pwd
import re
import secrets
import sqlite3
import statistics
import sys
import time
import uuid
from pathlib import Path

import aiohttp
import psutil

HUB_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(HUB_DIR))
sys.path.insert(0, str(HUB_DIR.parent))
import course_hub  # noqa: E402 (found through the lines above)

from coursepack.submissions import answer_cells, nbgrader_meta, reference_answers  # noqa: E402

COURSE, ASSIGNMENT, NOTEBOOK = course_hub.COURSE_ID, course_hub.ASSIGNMENT, "lab21/lab21.ipynb"
SOURCE = json.loads((HUB_DIR.parent / "source" / "lab21" / "lab21.ipynb").read_text())
# Bounds on every wait, so that a broken hub ends the run instead of hanging it.
HTTP_SECONDS = 300
SPAWN_SECONDS = 300
CELL_SECONDS = 600

# Three kinds of student, in turn: a perfect one, one who left ReLU unanswered, one who got
# parameters_per_step wrong. Each loses exactly the points of those functions' test cells.
VARIANTS = (
    ("perfect", {}, ()),
    ("no ReLU", {"ReLU": "def ReLU(x):\n    raise NotImplementedError()"},
     ("test_ReLU", "test_ReLU_hidden")),
    ("wrong count", {"parameters_per_step": "def parameters_per_step(n_inputs):\n    return -1"},
     ("test_parameters_per_step_hidden",)),
)


def points(test_cells=None):
    """Points of the source notebook's autograded test cells (those named, or all)."""
    return sum(
        nbgrader_meta(cell)["points"]
        for cell in SOURCE["cells"]
        if cell["cell_type"] == "code" and nbgrader_meta(cell).get("grade")
        and (test_cells is None or nbgrader_meta(cell)["grade_id"] in test_cells)
    )


def variant(number):
    return VARIANTS[number % len(VARIANTS)]


def expected_score(number):
    _, _, lost = variant(number)
    return points() - points(lost)


def marker(student, run_id):
    return f"# lab21 load test {run_id}: the work of {student}"


def answered(released, student, number, run_id):
    """The released notebook with the reference code answers, this student's variant, and
    their marker at the top of the first answer cell."""
    import nbformat

    code_answers = {
        grade_id for grade_id, cell in answer_cells(nbformat.from_dict(released)).items()
        if cell.cell_type == "code"
    }
    answers = {k: v for k, v in reference_answers().items() if k in code_answers}
    answers.update(variant(number)[1])
    notebook = copy.deepcopy(released)
    signed = False
    for cell in notebook["cells"]:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id in answers:
            cell["source"] = answers[grade_id]
            if not signed:
                cell["source"] = marker(student, run_id) + "\n" + cell["source"]
                signed = True
    return notebook


def percentiles(values):
    """p50 and p95 (inclusive method: at 10 values p95 lies between the two largest)."""
    if len(values) == 1:
        return values[0], values[0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94]


class RunFailed(Exception):
    pass


# ----------------------------------------------------------------------------------------------
# One user's clients: the hub, their server, a kernel


class UserClient:
    """A user's HTTP session with the hub and their server, authenticated by their own token
    once logged in."""

    def __init__(self, hub_url, name):
        self.hub_url, self.name = hub_url, name
        self.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=HTTP_SECONDS),
            cookie_jar=aiohttp.CookieJar(unsafe=True),  # 127.0.0.1 is an IP address
            # A new connection per request. A kept-alive one that the proxy closes as it idles
            # (node's 5 s) fails the next request before it is sent ("Can not write request
            # body", "Server disconnected") when this one loop, driving the whole class on a
            # busy machine, comes back to it late; browsers (and the hub's own proxy client)
            # retry then, aiohttp does not.
            connector=aiohttp.TCPConnector(force_close=True),
        )
        self.token = None

    async def close(self):
        await self.session.close()

    async def call(self, method, path, expect=(200, 201, 202, 204), **kwargs):
        headers = kwargs.pop("headers", {})
        if self.token:
            headers["Authorization"] = f"token {self.token}"
        async with self.session.request(
            method, self.hub_url + path, headers=headers, **kwargs
        ) as response:
            text = await response.text()
            if expect and response.status not in expect:
                raise RunFailed(f"{self.name}: {method} {path}: HTTP {response.status}: "
                                f"{text[:500]}")
            return json.loads(text) if text and text.lstrip()[:1] in "{[" else text

    async def log_in(self):
        """The hub's login form (DummyAuthenticator), then a token from the hub's token API
        with the session it gave: the token is the user's own, with the user's rights."""
        async with self.session.get(f"{self.hub_url}/hub/login") as response:
            page = await response.text()
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page).group(1)
        form = {"username": self.name, "password": "any: local trial", "_xsrf": xsrf}
        async with self.session.post(f"{self.hub_url}/hub/login?next=/hub/home", data=form,
                                     allow_redirects=False) as response:
            if response.status != 302:
                raise RunFailed(f"{self.name}: login answered HTTP {response.status}")
        cookies = {c.key: c.value for c in self.session.cookie_jar}
        issued = await self.call(
            "POST", f"/hub/api/users/{self.name}/tokens",
            json={"note": "load test client", "expires_in": 3600},
            headers={"X-XSRFToken": cookies.get("_xsrf", xsrf)},
        )
        self.token = issued["token"]

    async def start_server(self):
        await self.call("POST", f"/hub/api/users/{self.name}/server", expect=(201, 202))
        deadline = time.monotonic() + SPAWN_SECONDS
        while time.monotonic() < deadline:
            model = await self.call("GET", f"/hub/api/users/{self.name}")
            server = model.get("servers", {}).get("", {})
            if server.get("ready"):
                return
            await asyncio.sleep(1.0)
        raise RunFailed(f"{self.name}: server not ready within {SPAWN_SECONDS} s")

    async def server(self, method, path, **kwargs):
        return await self.call(method, f"/user/{self.name}{path}", **kwargs)

    async def assignment_action(self, action):
        result = await self.server("POST", f"/assignments/{action}",
                                   data={"course_id": COURSE, "assignment_id": ASSIGNMENT})
        if not result.get("success"):
            raise RunFailed(f"{self.name}: {action} failed: {json.dumps(result)[:800]}")
        return result

    async def formgrader(self, method, path):
        result = await self.server(method, f"/formgrader/api/{path}")
        if isinstance(result, dict) and result.get("success") is False:
            raise RunFailed(f"formgrader {path} failed: {json.dumps(result)[:2000]}")
        return result

    async def read_notebook(self, path):
        return (await self.server("GET", f"/api/contents/{path}?content=1"))["content"]

    async def write_notebook(self, path, notebook):
        await self.server("PUT", f"/api/contents/{path}",
                          json={"type": "notebook", "format": "json", "content": notebook})

    async def run_cells(self, notebook_path, sources, measure_memory):
        """Open the notebook's kernel, execute every cell in order (an error does not stop the
        rest, as a student carries on), measure memory with the kernel warm, shut the kernel
        down. Returns (errors, memory)."""
        session = await self.server("POST", "/api/sessions", json={
            "path": notebook_path, "type": "notebook", "name": notebook_path.rsplit("/")[-1],
            "kernel": {"name": "python3"}})
        kernel_id = session["kernel"]["id"]
        ws_url = self.hub_url.replace("http", "ws", 1)
        errors = []
        try:
            async with self.session.ws_connect(
                f"{ws_url}/user/{self.name}/api/kernels/{kernel_id}/channels",
                headers={"Authorization": f"token {self.token}"}, max_msg_size=0,
            ) as socket:
                client_session = uuid.uuid4().hex
                for source in sources:
                    status, text = await execute(socket, client_session, self.name, source)
                    if status != "ok":
                        errors.append(text[-300:])
                memory = measure_memory(self.name)
        finally:
            await self.server("DELETE", f"/api/sessions/{session['id']}", expect=None)
        return errors, memory


async def execute(socket, client_session, user, code):
    """Execute code in the kernel; return (status, text output and errors)."""
    msg_id = uuid.uuid4().hex
    await socket.send_json({
        "header": {"msg_id": msg_id, "username": user, "msg_type": "execute_request",
                   "session": client_session, "version": "5.3"},
        "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
        "content": {"code": code, "silent": False, "store_history": True,
                    "user_expressions": {}, "allow_stdin": False, "stop_on_error": False},
    })
    text, status, idle = [], None, False
    deadline = time.monotonic() + CELL_SECONDS
    while status is None or not idle:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise RunFailed(f"{user}: no reply from the kernel within {CELL_SECONDS} s")
        message = await socket.receive_json(timeout=remaining)
        if message.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind, content = message["msg_type"], message["content"]
        if kind == "error":
            text.append(f"{content['ename']}: {content['evalue']}")
        elif kind == "execute_reply":
            status = content["status"]
        elif kind == "status" and content["execution_state"] == "idle":
            idle = True
    return status, "".join(text)


# ----------------------------------------------------------------------------------------------
# Memory of a user's processes


def memory_of(user):
    """Proportional set size (MB) of the user's server process and of their kernels: shared
    pages (the venv's libraries) are split among the processes that map them."""
    uid = pwd.getpwnam(user).pw_uid
    server = kernels = 0.0
    for process in psutil.process_iter(["uids", "cmdline"]):
        try:
            if process.info["uids"].real != uid:
                continue
            pss = process.memory_full_info().pss / 2**20
            command = " ".join(process.info["cmdline"] or [])
            if "ipykernel" in command:
                kernels += pss
            elif "jupyterhub-singleuser" in command:
                server += pss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return {"server_mb": server, "kernel_mb": kernels}


# ----------------------------------------------------------------------------------------------
# The class


async def student_session(hub_url, student, number, start_at, run_id, started, cull_watch):
    """One student's afternoon; returns their timings (seconds) and memory."""
    await asyncio.sleep(max(0.0, start_at - (time.monotonic() - started)))
    record = {"student": student, "arrived_s": time.monotonic() - started}
    client = UserClient(hub_url, student)
    try:
        t = time.monotonic()
        await client.log_in()
        record["login_s"] = time.monotonic() - t
        t = time.monotonic()
        await client.start_server()
        record["server_start_s"] = time.monotonic() - t
        t = time.monotonic()
        await client.assignment_action("fetch")
        record["fetch_s"] = time.monotonic() - t
        notebook = answered(await client.read_notebook(NOTEBOOK), student, number, run_id)
        await client.write_notebook(NOTEBOOK, notebook)
        sources = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
        t = time.monotonic()
        errors, memory = await client.run_cells(NOTEBOOK, sources, memory_of)
        record["run_s"] = time.monotonic() - t
        record["run_errors"] = errors
        record.update(memory)
        t = time.monotonic()
        await client.assignment_action("submit")
        record["submit_s"] = time.monotonic() - t
        record["submitted_at_s"] = time.monotonic() - started
    except Exception as error:  # recorded and reported: one student's failure is a finding
        record["failure"] = f"{type(error).__name__}: {error}"
    finally:
        await client.close()
        cull_watch.done[student] = time.monotonic() - started
    return record


async def watch_formgrader(instructor, stop):
    """What an instructor's open formgrader tab does: ask for the submissions now and then
    (which also keeps their server from looking idle)."""
    while not stop.is_set():
        await instructor.formgrader("GET", "submissions/lab21")
        try:
            await asyncio.wait_for(stop.wait(), timeout=10)
        except TimeoutError:
            pass


class CullWatch:
    """Watches, from the start of the class, when each student's server goes away after the
    student is done with it (only the idle culler stops servers during the run)."""

    def __init__(self, hub_url, token, students, started):
        self.admin = UserClient(hub_url, "course-driver")
        self.admin.token = token
        self.students, self.started = set(students), started
        self.done = {}     # student -> seconds into the class when they submitted (or gave up)
        self.stopped = {}  # student -> seconds into the class when their server was gone
        self.seen_running = set()

    async def watch(self, seconds_after_done):
        deadline = None
        try:
            while len(self.stopped) < len(self.students):
                if len(self.done) == len(self.students):
                    deadline = deadline or time.monotonic() + seconds_after_done
                    if time.monotonic() > deadline:
                        break
                try:
                    users = await self.admin.call("GET", "/hub/api/users?limit=200")
                except (RunFailed, aiohttp.ClientError, TimeoutError):
                    await asyncio.sleep(3)  # a busy hub: look again
                    continue
                running = {u["name"] for u in users if u.get("servers")}
                self.seen_running |= running
                now = time.monotonic() - self.started
                for student in self.done:
                    if (student in self.seen_running and student not in running
                            and student not in self.stopped):
                        self.stopped[student] = now
                await asyncio.sleep(3)
        finally:
            await self.admin.close()


async def run_class(hub_url, token, exchange, students, arrival_window, idle_timeout):
    run_id = secrets.token_hex(4)
    figures = {"students": len(students), "exchange": exchange, "run_id": run_id,
               "arrival_window_s": arrival_window, "idle_timeout_s": idle_timeout}
    instructor = UserClient(hub_url, course_hub.INSTRUCTOR)
    records = []
    try:
        await instructor.log_in()
        await instructor.start_server()
        await instructor.formgrader("POST", "assignment/lab21/assign")
        await instructor.formgrader("POST", "assignment/lab21/release")

        stop_watching = asyncio.Event()
        watcher = asyncio.create_task(watch_formgrader(instructor, stop_watching))
        started = time.monotonic()
        cull_watch = CullWatch(hub_url, token, students, started)
        culling = asyncio.create_task(cull_watch.watch(seconds_after_done=3 * idle_timeout))
        step = arrival_window / max(1, len(students) - 1)
        records = await asyncio.gather(*(
            student_session(hub_url, student, number, number * step, run_id, started,
                            cull_watch)
            for number, student in enumerate(students)
        ))
        figures["class_wall_s"] = time.monotonic() - started
        stop_watching.set()
        await watcher

        t = time.monotonic()
        collected = await instructor.formgrader("POST", "assignment/lab21/collect")
        figures["collect_s"] = time.monotonic() - t
        figures["collect_log"] = collected.get("log", "") if isinstance(collected, dict) else ""
        graded, grading_failures = [], {}
        t = time.monotonic()
        for student in students:
            try:
                await instructor.formgrader("POST", f"submission/lab21/{student}/autograde")
                graded.append(student)
            except RunFailed as error:
                grading_failures[student] = str(error)
        figures["grading_wall_s"] = time.monotonic() - t
        submissions = await instructor.formgrader("GET", "submissions/lab21")
        figures["gradebook"] = [
            {"student": s["student"], "score": s["score"], "autograded": s["autograded"]}
            for s in submissions if s["student"] in students
        ]
        figures["autograde_calls"] = graded
        figures["grading_failures"] = grading_failures

        # The instructor is done too: wait for the culler to stop every student's server.
        await culling
        figures["culled"] = sorted(cull_watch.stopped)
        figures["culled_after_done_s"] = {
            s: cull_watch.stopped[s] - cull_watch.done[s] for s in cull_watch.stopped
        }
    finally:
        await instructor.close()
    figures["records"] = records
    return figures


# ----------------------------------------------------------------------------------------------
# Checks and figures


def exchange_submissions(exchange, students):
    """How many submissions of each student the exchange holds."""
    counts = dict.fromkeys(students, 0)
    if exchange == "ngshare":
        database = sqlite3.connect(course_hub.NGSHARE_DATA / "ngshare.db")
        try:
            rows = database.execute("SELECT student_id FROM submissions").fetchall()
        finally:
            database.close()
        for (student,) in rows:
            counts[student] = counts.get(student, 0) + 1
    else:
        inbound = course_hub.EXCHANGE / COURSE / "inbound"
        for folder in inbound.iterdir():
            student = folder.name.split("+")[0]
            counts[student] = counts.get(student, 0) + 1
    return counts


def check(figures, students):
    """Every submission arrived once, was collected as its author's, graded once, and scored
    as its answers deserve; every student's server was culled. Returns the failed checks."""
    problems = []
    records = {r["student"]: r for r in figures["records"]}
    failed = {s: r["failure"] for s, r in records.items() if "failure" in r}
    if failed:
        problems.append(f"students who could not finish: {failed}")
    # A perfect student's notebook runs without an error (the others' visible tests fail).
    run_errors = {
        s: r["run_errors"] for number, (s, r) in enumerate(records.items())
        if r.get("run_errors") and variant(number)[0] == "perfect"
    }
    if run_errors:
        problems.append(f"perfect notebooks that raised while the student ran them: {run_errors}")

    held = figures["exchange_submissions"]
    not_once = {s: n for s, n in held.items() if n != 1}
    if not_once:
        problems.append(f"submissions in the exchange, not exactly one each: {not_once}")

    submitted = course_hub.course_root() / "submitted"
    for student in students:
        notebook = submitted / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        if not notebook.exists():
            problems.append(f"{student}'s submission was not collected")
            continue
        sources = "".join("".join(c["source"]) for c in json.loads(notebook.read_text())["cells"])
        if marker(student, figures["run_id"]) not in sources:
            problems.append(f"{student}'s collected notebook is not {student}'s work")
    others = {p.name for p in submitted.iterdir()} - set(students)
    if others:
        problems.append(f"collected submissions of nobody in this class: {sorted(others)}")

    if sorted(figures["autograde_calls"]) != sorted(students) or figures["grading_failures"]:
        problems.append(f"autograde failed: {figures['grading_failures']}")
    rows = figures["gradebook"]
    in_gradebook = [row["student"] for row in rows]
    if sorted(in_gradebook) != sorted(students):
        problems.append(f"gradebook submissions are not one per student: {sorted(in_gradebook)}")
    for number, student in enumerate(students):
        row = next((r for r in rows if r["student"] == student), None)
        if row is not None and (row["score"] != expected_score(number) or not row["autograded"]):
            problems.append(f"{student} scored {row['score']}, deserves {expected_score(number)}")

    not_culled = sorted(set(students) - set(figures["culled"]))
    if not_culled:
        problems.append(f"servers the idle culler did not stop: {not_culled}")
    return problems


def summary(figures):
    records = [r for r in figures["records"] if "failure" not in r]

    def line(label, key, unit="s"):
        values = [r[key] for r in records if key in r]
        if not values:
            return f"  {label:<34} (none)"
        p50, p95 = percentiles(values)
        return (f"  {label:<34} p50 {p50:7.1f} {unit}   p95 {p95:7.1f} {unit}   "
                f"max {max(values):7.1f} {unit}")

    arrivals = [r["submitted_at_s"] for r in records]
    load = os.getloadavg()
    lines = [
        f"Lab 21 class under load: {figures['students']} students, {figures['exchange']} "
        f"exchange, arrivals over {figures['arrival_window_s']:.0f} s",
        f"  machine: {os.cpu_count()} cores, load average at the end "
        f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1 / 5 / 15 min)",
        line("log in (form + token)", "login_s"),
        line("server start (spawn to ready)", "server_start_s"),
        line("fetch", "fetch_s"),
        line("run the notebook (every cell)", "run_s"),
        line("submit", "submit_s"),
        line("memory: server (PSS)", "server_mb", "MB"),
        line("memory: kernel, warm (PSS)", "kernel_mb", "MB"),
        f"  memory per student (server + kernel, p50): "
        f"{statistics.median([r['server_mb'] + r['kernel_mb'] for r in records]):.0f} MB"
        if records else "  memory per student: (none)",
        f"  submissions spread over {max(arrivals) - min(arrivals):.0f} s "
        f"(first at {min(arrivals):.0f} s, last at {max(arrivals):.0f} s)"
        if arrivals else "  no submissions",
        f"  collect: {figures['collect_s']:.1f} s;  grading wall time for "
        f"{len(figures['autograde_calls'])}: {figures['grading_wall_s']:.1f} s "
        f"({figures['grading_wall_s'] / max(1, len(figures['autograde_calls'])):.1f} s each, "
        "serial: formgrader, sandboxed kernels)",
        f"  idle culler (timeout {figures['idle_timeout_s']} s): "
        f"{len(figures['culled'])}/{figures['students']} servers stopped, "
        + ("{:.0f} s (p50) and {:.0f} s (p95) after their student was done".format(
            *percentiles(list(figures["culled_after_done_s"].values())))
           if figures["culled_after_done_s"] else "none"),
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument("--exchange", choices=course_hub.EXCHANGES, default="filesystem")
    parser.add_argument("--arrival-window", type=float, default=None, metavar="SECONDS",
                        help="students arrive evenly over this time (default: 6 s each)")
    # Longer than the slowest server start: a server's idle time counts from its spawn, and
    # under load a start takes minutes (the culler then takes servers that just came up).
    parser.add_argument("--idle-timeout", type=int, default=240, metavar="SECONDS",
                        help="the idle culler's timeout for this hub")
    parser.add_argument("--output", type=Path, default=HUB_DIR.parent / "build" / "load-class")
    parser.add_argument("--json", type=Path, help="also write the figures and checks here")
    arguments = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("The load test runs as root: the simulated students are system users.")
    students = course_hub.load_students(arguments.students)
    window = (arguments.arrival_window if arguments.arrival_window is not None
              else 6.0 * arguments.students)
    with course_hub.running_hub(arguments.output, exchange=arguments.exchange,
                                simulated_students=arguments.students,
                                idle_timeout=arguments.idle_timeout) as (url, token):
        figures = asyncio.run(run_class(url, token, arguments.exchange, students, window,
                                        arguments.idle_timeout))
        figures["exchange_submissions"] = exchange_submissions(arguments.exchange, students)
        figures["problems"] = check(figures, students)
    print(summary(figures))
    for problem in figures["problems"]:
        print(f"  CHECK FAILED: {problem}")
    if not figures["problems"]:
        print(f"  checks: all {len(students)} submissions arrived once, were collected as their "
              "author's, graded once with the score their answers deserve; all servers culled")
    if arguments.json:
        arguments.json.parent.mkdir(parents=True, exist_ok=True)
        arguments.json.write_text(json.dumps(figures, indent=1))
    sys.exit(1 if figures["problems"] else 0)


if __name__ == "__main__":
    main()
