"""The grading machinery's parts on their own, without kernels (the fast tier).

The wire between the grader and the probe agent, what the verdicts make of facts, which
dependencies are lent, the sandbox's own checks, the tripwire and the zygote's clean-up. The
grading tests (red team, mistake bank, sample class) prove the whole; these say which part
broke when one of them fails.
"""

import json
import marshal
import os
import re
import socket
import struct
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from coursepack import checks, probe_agent, probing, sandbox, zygote
from coursepack.reference import load_reference

NONCE = "ab" * 16


# ----------------------------------------------------------------------------------------------
# The wire


def round_trip_call(*args):
    data = b"R" + NONCE.encode() + struct.pack("!B", 3) + probe_agent.pack_arguments(args)
    return probing.unpack_call(data)


def test_a_lent_call_crosses_in_binary_exactly():
    array = np.array([[0.1, -2.5], [np.inf, np.nan]])
    nonce, index, args = round_trip_call(1.5, np.float64(-0.25), 7, np.int64(-3), array)
    assert (nonce, index) == (NONCE, 3)
    assert args[:4] == [1.5, -0.25, 7, -3]
    np.testing.assert_array_equal(args[4], array)  # nan and inf included, bit for bit
    integers = round_trip_call(np.arange(6).reshape(2, 3))[2][0]
    assert integers.dtype == np.int64 and integers.shape == (2, 3)


def test_arguments_that_are_not_numbers_or_arrays_do_not_cross_in_binary():
    assert probe_agent.pack_arguments(["a list"]) is None
    assert probe_agent.pack_arguments([np.array(["text"])]) is None
    assert probe_agent.pack_arguments([2**70]) is None


def test_a_truncated_call_is_refused():
    data = b"R" + NONCE.encode() + probe_agent.pack_arguments([np.ones(4)])[:-8]
    with pytest.raises(ValueError):
        probing.unpack_call(data[:1] + data[1:])


def test_values_for_the_kernel_keep_their_types():
    sent = {
        "array": np.array([1.0, 2.0]),
        "pair": (np.float64(0.5), 0.25),
        "scalar": np.float64(3.0),
        "plain": [1, "x", None],
    }
    received = {k: probe_agent.decode(v) for k, v in marshal.loads(
        marshal.dumps(probing.encode_for_kernel(sent))).items()}  # fmt: skip
    assert isinstance(received["array"], np.ndarray) and received["array"].tolist() == [1.0, 2.0]
    assert isinstance(received["pair"], tuple) and received["pair"] == (0.5, 0.25)
    assert isinstance(received["scalar"], np.float64)
    assert received["plain"] == [1, "x", None]


def test_facts_are_plain_data_that_literal_eval_reads_back():
    class ClaimsEverything:
        def __eq__(self, other):
            return True

        def __array__(self, *args, **kwargs):
            raise TypeError("not an array")

    facts = {
        "numbers": probe_agent.observe(np.array([[1.0, np.nan], [np.inf, -0.0]])),
        "other": probe_agent.observe(ClaimsEverything()),
        "huge": probe_agent.observe(np.zeros(probe_agent.VALUES_LIMIT + 1)),
        "log": [("hidden", np.float64(0.5).tobytes(), np.float64(2.0).tobytes())],
    }
    import ast

    read = probing.restore_facts(ast.literal_eval(repr(facts)))
    values = np.array(read["numbers"]["values"])
    assert values.shape == (2, 2) and np.isnan(values[0, 1]) and np.isinf(values[1, 0])
    assert "values" not in read["other"] and read["other"]["type"] == "ClaimsEverything"
    assert read["huge"]["too_big"]
    assert read["log"] == [["hidden", 0.5, 2.0]]


def test_side_kernel_facts_lose_every_text_the_student_chose():
    facts = {"raised": "ValueError: def sigmoid(x): ...", "out": {"type": "str", "repr": "'x'"}}
    cleaned = probing.without_text(facts)
    assert cleaned["raised"] == "ValueError"
    assert cleaned["out"]["repr"] == "a str"


# ----------------------------------------------------------------------------------------------
# The channel


@pytest.fixture
def channel(tmp_path):
    door = probing.AgentChannel(tmp_path, "agent.sock")
    kernel_end = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    kernel_end.connect(str(door.path))
    probe_agent.send_frame(kernel_end, {"hello": 1})
    door.accept(5)
    yield door, kernel_end
    door.close()
    kernel_end.close()


def test_the_door_closes_after_the_agent_came_in(channel):
    door, _ = channel
    assert not door.path.exists()


def test_a_message_larger_than_allowed_breaks_the_channel(channel):
    door, kernel_end = channel
    kernel_end.sendall(struct.pack("!I", probing.MAX_FRAME + 1))
    with pytest.raises(probing.ChannelError):
        door.receive(2)


def test_an_unreadable_message_is_read_as_malformed(channel):
    door, kernel_end = channel
    probe_agent.send_raw(kernel_end, b"__import__('os').system('true')")
    assert door.receive(2) == {"malformed": True}


def test_a_kernel_that_stops_reading_cannot_block_the_grader(channel, monkeypatch):
    door, _ = channel
    monkeypatch.setattr(probing, "SEND_SECONDS", 0.5)
    door.connection.settimeout(0.5)
    with pytest.raises(probing.ChannelError):
        for _ in range(10_000):
            door.send({"fill": "x" * 65536})


# ----------------------------------------------------------------------------------------------
# Verdicts and lending


def test_only_failed_dependencies_and_their_callers_are_lent():
    everything = dict.fromkeys(checks.TRAINING_PARTS, True)
    assert checks.lent_dependencies("firstNN_accuracy", everything) == []
    lent = checks.lent_dependencies("firstNN_accuracy", {**everything, "sigmoid": False})
    assert set(lent) == {
        "sigmoid", "feed_forward", "sigmoid_perceptron", "lead_coef", "hidden_weight_update",
        "input_hidden_weight_update",
    }  # fmt: skip
    lent = checks.lent_dependencies("firstNN_contract", {**everything, "lead_coef": False})
    assert set(lent) == {"lead_coef", "hidden_weight_update", "input_hidden_weight_update"}


def test_withheld_details_keep_only_which_checks_failed():
    verdict = {
        "status": "judged",
        "reason": "",
        "checks": [
            {"description": "a", "passed": True, "message": ""},
            {"description": "b", "passed": False, "message": "b: shape (0, 101, 102)"},
        ],
    }
    withheld = checks.withhold_details(verdict, ["sigmoid"])
    assert withheld["checks"][0]["message"] == ""
    assert "101" not in withheld["checks"][1]["message"]
    assert withheld["checks"][1]["message"].startswith("b: failed (details withheld")
    # No result: the reason (it could name a "missing" function the kernel made up) is fixed.
    no_result = {"status": "no result", "reason": "no function called def sigm", "checks": []}
    withheld = checks.withhold_details(no_result, ["sigmoid"])
    assert withheld["reason"] == checks.SIDE_KERNEL_FAILED.format(names="sigmoid")


def test_feedback_shows_an_expected_derivative_too_roughly_to_copy():
    """The hidden inputs are the same for the whole class: a failed gradient check says what
    the derivative is about, to 3 significant digits, never to within the check's tolerance."""
    reference = load_reference()
    for check in checks.build_checks("hidden_weight_update"):
        after = [
            {"type": "float", "shape": list(np.shape(arg)), "values": np.asarray(arg).tolist()}
            for arg in check.request["args"]
        ]
        facts = {"out": {"type": "float", "shape": [], "values": 0.0}, "after": after}
        with pytest.raises(checks.CheckFailed) as failed:
            check.verdict(facts, reference)
        shown = re.search(r"is about (\S+) \(relative error", str(failed.value)).group(1)
        assert len(shown.lstrip("-0.").replace(".", "").rstrip("0")) <= 3, shown


def test_predictions_are_those_the_weights_make():
    reference = load_reference()
    data = np.array([[1.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    weights = np.array([2.0, 0.0])
    implied, differing = checks.implied_predictions(
        reference, data, weights, 3.0, np.array([1.0, 0.0, 0.0])
    )
    # Row 3 is undecided (H = 0.5): returned as 0, it is no disagreement, and it counts as 1.
    assert implied.tolist() == [1.0, 0.0, 1.0] and differing == 0
    _, differing = checks.implied_predictions(reference, data, weights, 3.0, data[:, -1] * 0)
    assert differing == 1
    # A network that cannot tell rows apart (w1 = 0: every row ties) predicts class 1
    # everywhere, whatever predictions it hands in: the labels it was given earn nothing.
    labels = np.array([1.0, 0.0, 0.0])
    implied, differing = checks.implied_predictions(reference, data, weights, 0.0, labels)
    assert implied.tolist() == [1.0, 1.0, 1.0] and differing == 0


def watched_facts(suite):
    """The facts the reference's firstNN gives for a training suite, as the grader reads them
    (through repr and literal_eval, as over the channel)."""
    import ast

    reference = load_reference()
    requests = [check.request for check in checks.build_checks(suite)]
    facts = probe_agent.run_in_process(reference.firstNN, requests, {})
    return reference, [probing.restore_facts(ast.literal_eval(repr(fact))) for fact in facts]


FORGED_CALLS = {
    # A row of 1 x 4,000 and weights of 2,000 x 1: the old verdicts' np.dot made an outer
    # product of them (a forged message of 430 KB asked for 9 GB that way).
    "outer product": ["input", 1, [[0.0] * 4000], [[0.0]] * 2000],
    "a matrix row": ["input", 0, [[1.0, 2.0]], [0.5, 0.5]],
    "a vector H": ["hidden", [0.5, 0.5], 1.0],
    "a bool index": ["input", True, [1.0, 2.0], [0.5, 0.5]],
    "text": ["hidden", "0.5", 1.0],
    "too long": ["input", 0, [1.0, 2.0, 3.0], [0.5, 0.5]],
    "an unknown call": ["other", 0.5, 1.0],
    "a dict": {"hidden": 0.5},
}


@pytest.mark.parametrize("suite", ["firstNN_contract", "firstNN_accuracy"])
def test_a_recorded_call_of_the_wrong_shape_fails_before_any_arithmetic(suite):
    """The recorded calls come from the student's kernel: one of a shape or kind that firstNN
    never passes fails its checks, quickly, and nothing else (the honest log earns full marks)."""
    import copy
    import time

    reference, honest = watched_facts(suite)
    verdict = checks.judge_suite(suite, {"facts": honest}, 5, reference)
    assert verdict["earned"] == 5, verdict
    for name, forged_call in FORGED_CALLS.items():
        facts = copy.deepcopy(honest)
        for fact in facts:
            for run in fact.get("runs", []):
                if "log" in run:
                    run["log"].insert(len(run["log"]) // 2, forged_call)
        started = time.process_time()
        verdict = checks.judge_suite(suite, {"facts": facts}, 5, reference)
        assert time.process_time() - started < 2, name
        watched = [c for c in verdict["checks"] if not c["passed"]]
        assert watched, name
        assert all("wrong kind or size" in check["message"] for check in watched), (name, watched)


def test_the_verdicts_memory_has_a_ceiling_and_it_is_lifted_after():
    """Whatever facts make a verdict compute, the operating system stops it past the ceiling
    (MemoryError: judge_suite fails the check), and the grader's own limit comes back."""
    import resource

    before = resource.getrlimit(resource.RLIMIT_AS)
    with pytest.raises(MemoryError):
        with checks.memory_ceiling(extra=256 * 1024**2):
            np.ones(10**9)  # 8 GB
    assert resource.getrlimit(resource.RLIMIT_AS) == before
    with checks.memory_ceiling(extra=256 * 1024**2):
        assert np.ones(10**6).sum() == 10**6  # a verdict's usual arrays fit many times over
    big = np.ones(10**8)  # 800 MB: past the ceiling, but the ceiling is gone
    assert big.size == 10**8


# ----------------------------------------------------------------------------------------------
# The sandbox's own checks, the tripwire, the zygote's clean-up


def test_without_bubblewrap_grading_stops_and_says_how_to_get_it(monkeypatch):
    real_which = sandbox.shutil.which
    monkeypatch.setattr(
        sandbox.shutil, "which", lambda name: None if name == "bwrap" else real_which(name)
    )
    with pytest.raises(sandbox.SandboxUnavailable) as stopped:
        sandbox.require_sandbox()
    message = str(stopped.value)
    assert "apt-get install bubblewrap" in message and "--unsafe-no-sandbox" in message


@pytest.mark.skipif(os.geteuid() != 0, reason="gives the lock files to root")
def test_a_grading_run_as_root_leaves_the_hub_graders_their_slot_locks(tmp_path, monkeypatch):
    from coursepack import sandbox_launch

    monkeypatch.setattr(sandbox_launch, "RUN_BASE", tmp_path)
    monkeypatch.setattr(sandbox_launch, "LOCKS", tmp_path / "locks")
    monkeypatch.setattr(sandbox_launch, "MAX_SLOTS", 3)
    graders = 4242  # the hub's setup gives the locks to the instructor's group
    sandbox_launch.make_lock_files(group=graders)
    sandbox_launch.make_lock_files()  # what every grading run as root does first
    for path in [tmp_path / "locks", *(tmp_path / "locks").iterdir()]:
        assert (path.stat().st_uid, path.stat().st_gid) == (0, graders), path
    assert oct((tmp_path / "locks" / "slot-2.lock").stat().st_mode & 0o777) == "0o640"


def test_the_tripwire_records_through_its_socket_and_blocks_nothing(tmp_path):
    door = probing.TripwireChannel(tmp_path, "tripwire.sock")
    program = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {os.path.dirname(os.path.dirname(probe_agent.__file__))!r})
        from coursepack import tripwire
        tripwire.install({str(door.path)!r}, ["/course/on/the/host"])
        try:
            open("/course/on/the/host/solutions.py")
        except FileNotFoundError:
            pass
        os.system("true")
        print("still running")
    """)
    done = subprocess.Popen([sys.executable, "-c", program], stdout=subprocess.PIPE, text=True)
    door.accept(10)
    output, _ = done.communicate(timeout=30)
    records = door.records()
    door.close()
    assert "still running" in output
    assert any("/course/on/the/host/solutions.py" in record for record in records)
    assert any("started a program" in record for record in records)


def test_a_kernels_run_folder_is_emptied_whatever_it_left(tmp_path):
    folder = tmp_path / "k-1"
    deep = folder
    for depth in range(200):
        deep = deep / f"d{depth}"
    deep.mkdir(parents=True)
    (deep / "file").write_text("x")
    locked = folder / ".keep"
    locked.mkdir()
    for index in range(50):
        (locked / str(index)).write_text("")
    locked.chmod(0o500)
    zygote.remove_run_folder(str(folder))
    assert not folder.exists()


STARVED_CHECK = """
import json, os, subprocess, sys, time
from coursepack import probe_agent

os.sched_setaffinity(0, {0})  # this process and its hogs share one CPU
hogs = [subprocess.Popen([sys.executable, "-c", "import os; os.sched_setaffinity(0, {0})\\n"
                          "while True: pass"]) for _ in range(int(sys.argv[1]))]
time.sleep(0.3)

def busy(seconds):  # honest work: `seconds` of CPU time
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
    return 1.0

def sleeps(seconds):
    time.sleep(seconds)
    return 1.0

try:
    results = {}
    for name, function, argument in (("busy", busy, 0.4), ("sleeps", sleeps, 10.0)):
        started = time.monotonic()
        facts = probe_agent.run_check(function, {"op": "call", "args": [argument]}, 0.5)
        results[name] = (sorted(facts), time.monotonic() - started)
    print(json.dumps(results))
finally:
    for hog in hogs:
        hog.kill()
"""


def test_a_starved_check_keeps_its_time_and_a_sleeping_one_stops():
    """A check may use 0.5 CPU s, and three times that of its own wall time. Starved of CPU
    (five busy processes on its one CPU: 0.4 CPU s take over 2 s of wall time), an honest
    check finishes; one that sleeps is still stopped after 1.5 s."""
    done = subprocess.run(
        [sys.executable, "-c", STARVED_CHECK, "5"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    (busy_facts, busy_seconds), (sleep_facts, sleep_seconds) = results["busy"], results["sleeps"]
    assert busy_facts == ["after", "out"] and busy_seconds > 1.5
    assert sleep_facts == ["timeout"] and 1.4 < sleep_seconds < 4


def test_a_timer_signal_after_a_check_has_returned_changes_nothing():
    """A SIGALRM or SIGPROF that arrives once a check has returned (pending while its timers
    were being disarmed) neither stops the code that runs next nor sets the timer again (red team
    round 9: the wall timer, set again after the check, raised outside any check)."""
    script = (
        "import os, signal\n"
        "from coursepack import probe_agent\n"
        "probe_agent._time_limit(5.0)\n"
        "probe_agent._no_time_limit()\n"
        "os.kill(os.getpid(), signal.SIGALRM)\n"
        "os.kill(os.getpid(), signal.SIGPROF)\n"
        "print(signal.getitimer(signal.ITIMER_REAL)[0], signal.getitimer(signal.ITIMER_PROF)[0])\n"
    )
    command = [sys.executable, "-c", script]
    done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0.0", "0.0"]


GARBAGE_ON_EVERY_SOCKET = """
import os, struct
frame = struct.pack("!I", 9) + b"garbage!!"
for name in os.listdir("/proc/self/fd"):
    try:
        if os.readlink("/proc/self/fd/" + name).startswith("socket:"):
            os.write(int(name), frame * 50)
    except OSError:
        pass
"""


@pytest.mark.slow
def test_a_kernel_that_breaks_its_connections_cannot_hang_the_graders_cleanup():
    """A kernel that writes garbage to every socket it holds (red team `forged_report`) breaks
    its ZeroMQ connections, which the grader's client does not reconnect. Stopping the client's
    channels must still return: the client runs no heartbeat, whose thread waited for ever on
    such a socket (a grading worker hung there in a test run; this test hung on that client)."""
    import threading

    from jupyter_client.manager import AsyncKernelManager
    from nbclient.util import run_sync

    from coursepack.guarded_execute import limited_client

    manager = AsyncKernelManager(kernel_name="python3", transport="ipc")
    run_sync(manager.start_kernel)(extra_arguments=["--HistoryManager.enabled=False"])
    try:
        client = limited_client(manager.client, 1 << 20, {})
        client.start_channels()
        run_sync(client.wait_for_ready)(timeout=60)
        assert not client.hb_channel.is_alive()
        client.execute(GARBAGE_ON_EVERY_SOCKET, silent=True)
        time.sleep(2.5)  # longer than a heartbeat's period: it would have pinged since
        stopping = threading.Thread(target=client.stop_channels, daemon=True)
        stopping.start()
        stopping.join(15)
        assert not stopping.is_alive(), "stopping the kernel client's channels hung"
    finally:
        run_sync(manager.shutdown_kernel)(now=True)
