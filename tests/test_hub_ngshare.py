"""The course hub's term again, with ngshare as the exchange (as on Kubernetes, where servers
share no disk): ngshare runs as a JupyterHub service, and every user's nbgrader uses
ngshare_exchange in place of the filesystem exchange. Release, fetch, submit, collect, autograde
and feedback go through it; a student who submits in another's name is not believed.

With the filesystem exchange a forged submission is caught by its files' owner
(coursepack/hub_collect.py). Through ngshare no file has a student's owner: ngshare asks the
hub who owns the token of each request and records the submission under that user, whatever the
request claims. That is what these tests prove, with the ways a student could try to get around
it. Output (hub log) goes to build/test-hub-ngshare/.
"""

import json
import os
import sqlite3

import pytest
from hub_driver import Hub
from hub_term import (
    ALICE,
    BOB,
    BOB_LOSES,
    CAROL,
    INSTRUCTOR,
    NOTEBOOK,
    REPO,
    UNANSWERED,
    answered,
    course_hub,
    points,
    whole_term,
)

OUTPUT = REPO / "build" / "test-hub-ngshare"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.geteuid() != 0, reason="the course hub runs as root: it creates system users"
    ),
]


@pytest.fixture(scope="module")
def hub():
    with course_hub.running_hub(OUTPUT, exchange="ngshare") as (url, token):
        yield Hub(url, token)


@pytest.fixture(scope="module")
def servers(hub):
    hub.start_server(INSTRUCTOR, ALICE, BOB, CAROL)
    return {user: hub.user(user) for user in (INSTRUCTOR, ALICE, BOB, CAROL)}


def ngshare_submissions():
    """(student, timestamp) of every submission ngshare holds, from its database (as root)."""
    database = sqlite3.connect(course_hub.NGSHARE_DATA / "ngshare.db")
    try:
        return database.execute(
            "SELECT student_id, timestamp FROM submissions ORDER BY timestamp"
        ).fetchall()
    finally:
        database.close()


def answer(notebook_bytes, grade_id):
    (cell,) = [
        cell
        for cell in json.loads(notebook_bytes)["cells"]
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == grade_id
    ]
    return "".join(cell["source"])


def test_the_exchange_is_ngshare(hub, servers):
    """No shared folder: the filesystem exchange is not used, and a student's nbgrader is
    configured with ngshare_exchange."""
    kernel = servers[ALICE].kernel(NOTEBOOK.rsplit("/", 1)[-1])
    try:
        status, text, _ = kernel.run(
            "from nbgrader.apps import NbGrader\n"
            "app = NbGrader(); app.load_config_file()\n"
            "print(app.config.ExchangeFactory.exchange.__module__)"
        )
    finally:
        kernel.close()
    assert (status, text.strip()) == ("ok", "ngshare_exchange.exchange")


def test_whole_term(hub, servers):
    whole_term(servers[INSTRUCTOR], servers[ALICE], servers[BOB])
    assert not (course_hub.EXCHANGE / "lab21").exists()
    assert sorted(student for student, _ in ngshare_submissions()) == [ALICE, BOB]


# Carol, with a perfect notebook, tries every way to submit it as Bob's, and to reach Bob's work
# or his hub token. Each outcome is printed; the proof is what ngshare and collect make of it.
FORGERY = """
import base64, json, os, pwd, subprocess, requests
url = os.environ["LAB21_NGSHARE_URL"] + "/submission/lab21/lab21"
mine = {{"Authorization": "token " + os.environ["JUPYTERHUB_API_TOKEN"]}}
outcome = dict()
done = subprocess.run(["nbgrader", "submit", "lab21", "--CourseDirectory.student_id={victim}"],
                      cwd="..", capture_output=True, text=True)
outcome["nbgrader_submit_as_victim"] = [done.returncode, done.stdout + done.stderr]
with open("lab21.ipynb", "rb") as notebook:
    files = [{{"path": "lab21.ipynb", "content": base64.b64encode(notebook.read()).decode()}}]
claim = {{"user": "{victim}", "files": json.dumps(files)}}
os.environ["JUPYTERHUB_USER"] = "{victim}"
reply = requests.post(url, data=claim, headers=mine)
outcome["api_claiming_victim"] = [reply.status_code, reply.json()]
outcome["api_without_token"] = requests.post(url, data=claim).status_code
made_up = {{"Authorization": "token " + "0" * 32}}
outcome["api_made_up_token"] = requests.post(url, data=claim, headers=made_up).status_code
outcome["read_victims_submission"] = requests.get(url + "/{victim}", headers=mine).status_code
victim = pwd.getpwnam("{victim}").pw_uid
environments = []
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        if os.stat("/proc/" + pid).st_uid == victim:
            with open("/proc/" + pid + "/environ") as environ:
                environments.append("READ " + str("JUPYTERHUB_API_TOKEN" in environ.read()))
    except PermissionError:
        environments.append("PermissionError")
    except FileNotFoundError:
        pass
outcome["victims_process_environments"] = sorted(set(environments))
print(json.dumps(outcome))
"""


def test_a_student_cannot_submit_as_another(hub, servers):
    instructor, carol = servers[INSTRUCTOR], servers[CAROL]
    bob_submitted = course_hub.course_root() / "submitted" / BOB / "lab21"
    bob_before = (bob_submitted / "lab21.ipynb").read_bytes()
    assert answer(bob_before, "ReLU") == UNANSWERED  # the whole term's Bob, partly wrong

    carol.assignment_action("fetch", "lab21")
    carol.write_notebook(NOTEBOOK, answered(carol.read_notebook(NOTEBOOK)))
    kernel = carol.kernel(NOTEBOOK)
    try:
        status, text, _ = kernel.run(FORGERY.format(victim=BOB))
    finally:
        kernel.close()
    assert status == "ok", text
    outcome = json.loads(text.strip().splitlines()[-1])

    # nbgrader's own command refuses a student id with ngshare (on the client: not the proof).
    returncode, output = outcome["nbgrader_submit_as_victim"]
    assert returncode != 0 and "not possible with ngshare" in output, output
    # Around the client, straight at ngshare, claiming to be Bob in the request and in the
    # environment: accepted, but as Carol's submission, since her token says she sent it.
    assert outcome["api_claiming_victim"][0] == 200, outcome
    # No token, or a token the hub never issued: refused outright.
    assert outcome["api_without_token"] >= 400 and outcome["api_made_up_token"] >= 400, outcome
    # She cannot read Bob's submission, nor his servers' environments (where his token is).
    assert outcome["read_victims_submission"] == 403, outcome
    assert outcome["victims_process_environments"] == ["PermissionError"], outcome

    held = [student for student, _ in ngshare_submissions()]
    assert held.count(BOB) == 1 and held.count(CAROL) == 1, held

    instructor.formgrader("POST", "assignment/lab21/collect")
    # Bob's collected submission is still his own, unchanged; Carol's is filed under Carol.
    assert (bob_submitted / "lab21.ipynb").read_bytes() == bob_before
    carol_submitted = course_hub.course_root() / "submitted" / CAROL / "lab21" / "lab21.ipynb"
    assert carol_submitted.exists()
    for student in (BOB, CAROL):
        instructor.formgrader("POST", f"submission/lab21/{student}/autograde")
    scores = {s["student"]: s["score"] for s in instructor.formgrader("GET", "submissions/lab21")}
    assert scores[BOB] == points() - BOB_LOSES
    assert scores[CAROL] == points()
