"""The probe agent: how the hidden checks reach a student's functions, and how facts come back.

Installed in each student kernel before any student code runs (coursepack.guarded_execute
sends this file's source; it uses only the standard library and numpy). It holds the kernel's
end of a private Unix socket to the grader, on a thread of its own, and nothing of it is ever
in the notebook's namespace, history or sys.modules.

For each hidden test the grader sends `fork`. The agent forks the kernel; the child reads the
probe request from the socket (what to call, with which inputs), calls the student's functions,
sends one fact per check and exits. The parent only waits for the child (killing it at the
grader's deadline) and reports how it ended. So:

- nothing a probe does stays in the kernel: not the inputs, not the functions lent to it, not
  what the student's code did while probed (global variables, seeds, patched modules);
- a crash or an endless loop in the student's function costs the checks it was running, not
  the kernel;
- the request carries a fresh nonce that only the child ever sees; every fact must carry it,
  and a marker printed by a cell, or a fact sent before or after the probe, is ignored and
  flagged. Facts are encoded with built-in `repr` (and read back with `ast.literal_eval`),
  never `print`, `json` or anything a student's cell could redefine: the agent keeps its own
  references to what it uses, taken before student code ran.

A dependency the student got wrong (the grader decides, from its own verdicts) is lent as a
stub that asks the grader for the reference's value: values cross, code never does, and a
stub captured by student code stops answering when its probe ends.

The checks themselves (which inputs, what is right) never enter the kernel: requests are data
(`call` one function with arguments, `train` firstNN on a data set).
"""

import _signal
import collections
import io
import marshal
import os
import random
import select
import signal
import socket
import struct
import sys
import threading
import time
import warnings

import numpy as np

FRAME = struct.Struct("!I")
MAX_FRAME = 2 * 1024**2  # the grader refuses larger messages (coursepack.probing)
VALUES_LIMIT = 20_000  # values reported for one returned array, at most (a lab's are < 1,000)
TAIL_EVENTS = 240  # calls kept of a run watched by its tail (the last 60 rows or more)

# References taken when the agent is installed, before any student code runs.
_repr, _isinstance, _len, _float, _int, _str, _type = repr, isinstance, len, float, int, str, type
_tuple, _list, _callable, _exception = tuple, list, callable, BaseException
_array, _ndarray, _floating, _integer, _bool = np.array, np.ndarray, np.floating, np.integer, bool
_float64 = np.float64
_np_seed, _random_seed = np.random.seed, random.seed
_set_signal, _set_timer, _get_timer = _signal.signal, _signal.setitimer, _signal.getitimer
_fork, _exit, _monotonic = os.fork, os._exit, time.monotonic
_os_open, _os_read, _os_close, _read_only = os.open, os.read, os.close, os.O_RDONLY
_deque = collections.deque
_marshal_loads = marshal.loads


class ProbeTimeout(BaseException):
    """Raised in student code that runs past its time (a BaseException, so that
    `except Exception` in the student's loop does not swallow it)."""


# ----------------------------------------------------------------------------------------------
# Facts: what a student's function returned, as plain data


def observe(value):
    """Describe a returned value by its type and, if it is numeric, its float values (as the
    raw bytes of a float64 array: exact, and cheap to send).

    Coercion to a float array is what defeats objects that claim to equal anything: they are
    not numbers, so they are reported as `other`.
    """
    kind = _str(_type(value).__name__)[:80]  # a class may have any name, of any length
    if value is None or _isinstance(value, (_str, bytes)):
        return {"type": kind, "repr": _repr(value)[:80]}
    try:
        values = _array(value, dtype=float)
    except _exception:
        return {"type": kind, "repr": _safe_repr(value)}
    if values.size > VALUES_LIMIT:
        return {"type": kind, "shape": _list(values.shape), "too_big": True}
    return {"type": kind, "shape": _list(values.shape), "f64": values.tobytes()}


def _safe_repr(value):
    try:
        return _str(_repr(value))[:80]
    except _exception:
        return "an object that cannot be shown"


def _copy(argument):
    return argument.copy() if _isinstance(argument, _ndarray) else argument


# ----------------------------------------------------------------------------------------------
# Running the student's code


class _Discard(io.TextIOBase):
    def write(self, text):
        return _len(text)


def _interrupt(signum, frame):
    if _limit["armed"]:  # a signal left over from a check that has returned is ignored
        raise ProbeTimeout()


WALL_FACTOR = 3  # a check may wait (sleep, block) for this many times its CPU time limit
_limit = {"armed": False, "wall": 0.0, "started": 0.0, "queued": None}


def _cpu_queue_seconds():
    """Seconds this thread has spent ready to run but waiting for a CPU (Linux's schedstat),
    or None where the kernel does not say."""
    try:
        handle = _os_open("/proc/thread-self/schedstat", _read_only)
        try:
            return _int(_os_read(handle, 200).split()[1]) / 1e9
        finally:
            _os_close(handle)
    except _exception:
        return None


def _wall_interrupt(signum, frame):
    """The wall limit counts the time the check ran or waited of its own accord (sleeping,
    blocking), not the time it was ready but the machine gave it no CPU: on a busy machine the
    timer is set again for what is left (a starved honest check once lost its points)."""
    if not _limit["armed"]:
        return  # the check has returned: neither set the timer again nor stop anything
    queued = _cpu_queue_seconds()
    if queued is not None and _limit["queued"] is not None:
        own = _monotonic() - _limit["started"] - (queued - _limit["queued"])
        if _limit["wall"] - own > 0.01:
            _set_timer(signal.ITIMER_REAL, _limit["wall"] - own)
            return
    raise ProbeTimeout()


def _time_limit(seconds):
    """Stop the check after `seconds` of CPU time (a busy machine does not make honest code
    fail), or after WALL_FACTOR times that of its own wall time (code that sleeps or blocks).
    The grader's deadline for the whole suite still holds, whatever the check does."""
    _limit.update(
        armed=True, wall=seconds * WALL_FACTOR, started=_monotonic(), queued=_cpu_queue_seconds()
    )
    _set_signal(signal.SIGPROF, _interrupt)
    _set_signal(signal.SIGALRM, _wall_interrupt)
    _set_timer(signal.ITIMER_PROF, seconds)
    _set_timer(signal.ITIMER_REAL, seconds * WALL_FACTOR)


def _no_time_limit():
    _limit["armed"] = False
    _set_timer(signal.ITIMER_PROF, 0)
    _set_timer(signal.ITIMER_REAL, 0)


def _snapshot(value):
    """An argument as it is at the call (firstNN may change its arrays in place afterwards):
    arrays copied, numbers kept, anything else made an array now."""
    kind = _type(value)
    if kind is _ndarray:
        return value.copy()
    if kind is _float or kind is _int or kind is _float64:
        return value
    return _array(value, dtype=float)


class Recorder:
    """Stands in for one of firstNN's derivative functions and notes how it was called. The
    arguments are only copied here; `recorded` turns the calls kept into plain data once the
    run is over (a run watched by its tail makes thousands of calls and keeps the last few)."""

    def __init__(self, function, name, log):
        self.function, self.log = function, log
        self.hidden = name == "hidden_weight_update"

    def __call__(self, *args):
        if self.hidden:
            self.log.append((True, _snapshot(args[0]), _snapshot(args[1])))
        else:
            self.log.append((False, _snapshot(args[1]), _snapshot(args[2]), _snapshot(args[3])))
        return self.function(*args)


def recorded(call):
    """One recorded call as the grader reads it: ("hidden", H, w1) or ("input", index, row,
    input weights), numbers as the raw bytes of float64 arrays."""
    if call[0]:
        return (
            "hidden",
            _array(call[2], dtype=float).tobytes(),
            _array(call[1], dtype=float).tobytes(),
        )
    _, weights, row, index = call
    return (
        "input",
        _int(index),
        _array(row, dtype=float).tobytes(),
        _array(weights, dtype=float).tobytes(),
    )


def run_call(student, request):
    given = [_copy(argument) for argument in request["args"]]
    out = student(*given)
    return {"out": observe(out), "after": [observe(argument) for argument in given]}


def run_train(student, request):
    """Train firstNN on each data set of the request, seeding both random generators first;
    with `watch`, its derivative functions are recorded while it trains (with "tail", only the
    last TAIL_EVENTS calls of each run are kept)."""
    log = _deque(maxlen=TAIL_EVENTS) if request.get("watch") == "tail" else []
    if request.get("watch"):
        scope = student.__globals__
        for name in ("hidden_weight_update", "input_hidden_weight_update"):
            scope[name] = Recorder(scope.get(name), name, log)
    runs = []
    for data in request["runs"]:
        _np_seed(request["seed"])
        _random_seed(request["seed"])
        given = _array(data, dtype=float)
        log.clear()
        result = student(given, request["epochs"])
        facts = {"data_after": observe(given), "triple": False}
        if _isinstance(result, (_tuple, _list)) and _len(result) == 3:
            facts.update(
                triple=True,
                input_weights=observe(result[0]),
                hidden_weight=observe(result[1]),
                predictions=observe(result[2]),
            )
        if request.get("watch"):
            facts["log"] = [recorded(call) for call in log]  # the grader reads the bytes back
        runs.append(facts)
    return {"runs": runs}


def run_check(student, request, seconds):
    """One check: call the student's function as the request says; exceptions are facts."""
    try:
        _time_limit(seconds)
        try:
            if request["op"] == "call":
                return run_call(student, request)
            return run_train(student, request)
        finally:
            _no_time_limit()
    except ProbeTimeout:
        return {"timeout": seconds}
    except _exception as error:  # the student's code raised: that is the fact to judge
        return {"raised": f"{_str(_type(error).__name__)[:80]}: {_safe_str(error)[:120]}"}


def _safe_str(error):
    try:
        return _str(error)
    except _exception:
        return "(an exception that cannot be shown)"


def run_checks(student, requests, seconds, report):
    """Run the checks in order, calling report(index, facts) after each one."""
    timed_out = None
    for index, request in enumerate(requests):
        if timed_out is None:
            facts = run_check(student, request, seconds)
            if "timeout" in facts:
                timed_out = facts
        else:
            facts = timed_out  # after one timeout the rest is not run: one limit, not many
        report(index, facts)


def run_in_process(student, requests, lent):
    """The checks in this very process, for the instructor's own kernel (no grader outside):
    `lent` functions are put in the student's globals while they run, then restored."""
    scope = student.__globals__
    names = [*lent, "hidden_weight_update", "input_hidden_weight_update"]
    saved = {name: scope[name] for name in names if name in scope}
    saved_out, saved_err = sys.stdout, sys.stderr
    facts = []
    try:
        sys.stdout = sys.stderr = _Discard()
        scope.update(lent)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            run_checks(student, requests, 10.0, lambda index, fact: facts.append(fact))
    finally:
        sys.stdout, sys.stderr = saved_out, saved_err
        for name in names:
            if name in saved:
                scope[name] = saved[name]
            else:
                scope.pop(name, None)
    return facts


# ----------------------------------------------------------------------------------------------
# The channel to the grader


def send_frame(sock, message):
    """A message for the grader, written with the built-in repr (read with literal_eval)."""
    send_raw(sock, _repr(message).encode())


def send_raw(sock, data):
    sock.sendall(FRAME.pack(_len(data)) + data)


def receive_frame(sock):
    """One message from the grader (marshal: only the grader writes to this direction)."""
    header = sock.recv(FRAME.size, socket.MSG_WAITALL)
    if _len(header) < FRAME.size:
        raise EOFError("the grader closed the channel")
    (size,) = FRAME.unpack(header)
    data = sock.recv(size, socket.MSG_WAITALL) if size else b""
    return _marshal_loads(data)


RPC_FLOAT, RPC_INT, RPC_ARRAY = b"f", b"i", b"a"
DOUBLE, LONG, COUNT = struct.Struct("!d"), struct.Struct("!q"), struct.Struct("!B")
ARRAY_KINDS = {"float64": b"d", "int64": b"q"}


def pack_arguments(args):
    """A lent function's arguments in the binary form the grader reads fast, or None when one
    of them is not a number or an array of float64/int64 (they then go as text)."""
    parts = [COUNT.pack(_len(args))]
    for value in args:
        if _isinstance(value, (_float, _floating)):
            parts += [RPC_FLOAT, DOUBLE.pack(value)]
        elif _isinstance(value, (_int, _integer)) and not _isinstance(value, _bool):
            if not -(2**63) <= value < 2**63:
                return None
            parts += [RPC_INT, LONG.pack(value)]
        elif _isinstance(value, _ndarray) and _str(value.dtype) in ARRAY_KINDS:
            data = _array(value)
            parts += [RPC_ARRAY, ARRAY_KINDS[_str(data.dtype)], COUNT.pack(data.ndim)]
            parts += [LONG.pack(size) for size in data.shape]
            parts.append(data.tobytes())
        else:
            return None
    return b"".join(parts)


def lend_stub(sock, nonce, name, index):
    """A function that asks the grader for the reference's value of `name`: only values cross.
    The time it waits for the grader does not count against the check's time limit."""
    prefix = b"R" + nonce.encode() + COUNT.pack(index)

    def stub(*args):
        started = _monotonic()
        packed = pack_arguments(args)
        if packed is None:
            send_frame(sock, {"nonce": nonce, "rpc": name, "args": [_safe_repr(a) for a in args]})
        else:
            send_raw(sock, prefix + packed)
        answer = receive_frame(sock)
        waited = _monotonic() - started
        left, _ = _get_timer(signal.ITIMER_REAL)
        if left:
            _set_timer(signal.ITIMER_REAL, left + waited)
        if "value" not in answer:
            raise RuntimeError(f"{name} is not available: {answer.get('error', 'no answer')}")
        return decode(answer["value"])

    stub.__name__ = name
    return stub


def decode(value):
    """A value sent by the grader (coursepack.probing.encode_for_kernel)."""
    if _isinstance(value, _tuple) and value:
        tag = value[0]
        if tag == "__ndarray__":
            return np.frombuffer(value[2], dtype=value[1]).reshape(value[3]).copy()
        if tag == "__scalar__":
            return np.dtype(value[1]).type(value[2])
        if tag == "__tuple__":
            return _tuple(decode(v) for v in value[1])
    if _isinstance(value, _list):
        return [decode(v) for v in value]
    return value


def probe_child(sock, namespace, probe_id):
    """In the forked child: read the request, run every check, report each fact."""
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 1)
    os.dup2(null, 2)
    sys.stdout = sys.stderr = _Discard()
    warnings.simplefilter("ignore")
    np.seterr(all="ignore")
    while True:
        request = receive_frame(sock)
        if request.get("probe") == probe_id:
            break
    nonce, name = request["nonce"], request["function"]
    student = namespace.get(name)
    if not _callable(student):
        send_frame(sock, {"nonce": nonce, "missing": name})
        return
    if request.get("reference") is not None:
        # A side kernel (coursepack.guarded_execute.SideKernel): the reference is defined here.
        scope = {"np": np}
        exec(compile(request["reference"], "<reference>", "exec"), scope)
        for lent in request["lend"]:
            namespace[lent] = scope[lent]
    else:
        for index, lent in enumerate(request["lend"]):
            namespace[lent] = lend_stub(sock, nonce, lent, index)
    checks = [{key: decode(value) for key, value in check.items()} for check in request["checks"]]

    def report(index, facts):
        send_frame(sock, {"nonce": nonce, "index": request["first"] + index, "facts": facts})

    run_checks(student, checks, request["check_seconds"], report)
    send_frame(sock, {"nonce": nonce, "done": True})


def serve(sock, namespace):
    """The agent's thread: fork one child per probe, wait for it, say how it ended."""
    while True:
        try:
            command = receive_frame(sock)
        except (EOFError, OSError):
            return
        if "fork" not in command:
            continue  # a request left over from a child that died before reading it
        probe_id = command["fork"]
        child = _fork()
        if child == 0:
            try:
                probe_child(sock, namespace, probe_id)
                _exit(0)
            except _exception:
                _exit(3)
        code = _wait(child, command["seconds"])
        send_frame(sock, {"exited": probe_id, "code": code})


def _wait(child, seconds):
    """Wait for the child, at most `seconds`; then kill it. Returns its exit code."""
    handle = os.pidfd_open(child)
    try:
        ready, _, _ = select.select([handle], [], [], seconds)
        if not ready:
            os.kill(child, signal.SIGKILL)
        _, status = os.waitpid(child, 0)
        return os.waitstatus_to_exitcode(status)
    finally:
        os.close(handle)


class LimitedStream:
    """A kernel's stdout or stderr that passes on at most `limit` characters per cell, so that a
    runaway print is cut in the kernel, before it becomes one enormous message."""

    def __init__(self, stream, limit):
        self.stream, self.limit, self.used, self.noted = stream, limit, 0, False

    def write(self, text):
        room = self.limit - self.used
        if _len(text) > room:
            if not self.noted:
                self.noted = True
                self.stream.write(text[: max(0, room)] + "\n[output cut in the kernel]\n")
            self.used = self.limit
            return _len(text)
        self.used += _len(text)
        return self.stream.write(text)

    def reset(self, *args, **kwargs):
        self.used, self.noted = 0, False

    def __getattr__(self, name):
        return getattr(self.stream, name)


def limit_streams(shell, limit):
    """Cut stdout and stderr at `limit` characters per cell (the grader cuts again, in bytes)."""
    for name in ("stdout", "stderr"):
        stream = LimitedStream(getattr(sys, name), limit)
        setattr(sys, name, stream)
        shell.events.register("pre_execute", stream.reset)


def install(socket_path, namespace):
    """Connect to the grader and start serving; called once, before any student code."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(socket_path)
    send_frame(sock, {"hello": os.getpid()})
    threading.Thread(target=serve, args=(sock, namespace), daemon=True, name="lab21").start()
