"""The grader's end of the probe agent's channel (the agent is coursepack/probe_agent.py).

For each hidden test, the grader asks the agent to fork, sends the checks' requests (data, not
code) with a fresh nonce, answers the calls the probe makes to lent functions with the
reference's values, and collects one fact per check. Only a message that carries the probe's
nonce counts; anything else on the channel is ignored and flagged. A probe that dies takes only
the check it was running with it: the grader forks again for the rest.

Messages to the kernel are marshalled (the kernel only ever reads what the grader wrote);
messages from the kernel are read with `ast.literal_eval`, which builds plain data and runs
nothing, with a cap on their size.
"""

import ast
import itertools
import marshal
import os
import secrets
import select
import socket
import struct
import time
from pathlib import Path

import numpy as np

from coursepack import checks

FRAME = struct.Struct("!I")
# What an honest suite sends is far below these (its largest message: about 54 KB, 2,000
# brackets and commas; about 80 messages): they bound what decoding a hostile kernel's messages
# may cost the grader, in memory (literal_eval builds a syntax tree: ~500 bytes per item) and
# in time.
MAX_FRAME = 2 * 1024**2
MAX_ITEMS = 100_000  # brackets, commas and colons in one message
MAX_BYTES_PER_SUITE = 16 * 1024**2
MAX_MESSAGES_PER_SUITE = 5_000
MAX_TEXT = 200  # characters kept of any text in a message (type names, exception names...)
GRACE_SECONDS = 5.0  # how long past a deadline the agent may take to say that its child ended
SEND_SECONDS = 5.0  # a kernel that does not read what the grader sends for this long is stuck
NUMERIC_KINDS = "fiub"


class ChannelError(Exception):
    """The channel to the kernel broke, or the kernel broke its rules: grading of the cell
    stops, the kernel is restarted."""


class _Door:
    """A listening Unix socket in the kernel's run folder, for one connection only."""

    kind = socket.SOCK_STREAM

    def __init__(self, folder, name):
        self.path = Path(folder) / name
        self.listener = socket.socket(socket.AF_UNIX, self.kind)
        self.listener.bind(str(self.path))
        os.chmod(self.path, 0o666)  # the kernel's uid must be able to connect
        self.listener.listen(1)
        self.connection = None

    def accept(self, timeout):
        """Take the kernel's connection, then close the door behind it."""
        ready, _, _ = select.select([self.listener], [], [], timeout)
        if not ready:
            raise ChannelError(f"the kernel did not connect to {self.path.name}")
        self.connection, _ = self.listener.accept()
        self._close_listener()

    def _close_listener(self):
        if self.listener is not None:
            self.listener.close()
            self.listener = None
            self.path.unlink(missing_ok=True)

    def close(self):
        self._close_listener()
        if self.connection is not None:
            self.connection.close()
            self.connection = None


class TripwireChannel(_Door):
    """Where the tripwire's records arrive, one datagram each (coursepack/tripwire.py)."""

    kind = socket.SOCK_SEQPACKET
    MAX_RECORDS = 200

    def records(self):
        """The records sent so far (read without waiting), as text."""
        found = []
        while self.connection is not None and len(found) < self.MAX_RECORDS:
            ready, _, _ = select.select([self.connection], [], [], 0)
            if not ready:
                break
            data = self.connection.recv(4096)
            if not data:
                break
            text = data.decode(errors="replace")[:300]
            found.append("".join(c if c.isprintable() else "?" for c in text))
        return found


class AgentChannel(_Door):
    """The probe agent's channel: framed messages both ways."""

    def __init__(self, folder, name):
        super().__init__(folder, name)
        self.buffer = bytearray()
        self.received = self.messages = 0  # bytes and messages read in the current suite

    def accept(self, timeout):
        super().accept(timeout)
        # Sends never wait for ever: a kernel that stops reading (to block the grader) is
        # treated as a broken kernel.
        self.connection.settimeout(SEND_SECONDS)
        hello = self.receive(timeout)
        if not isinstance(hello, dict) or "hello" not in hello:
            raise ChannelError("the probe agent did not introduce itself")

    def send(self, message):
        data = marshal.dumps(message)
        try:
            self.connection.sendall(FRAME.pack(len(data)) + data)
        except OSError as error:
            raise ChannelError(f"the probe agent's channel broke ({error})") from error

    def receive(self, timeout):
        """The next message, or None when `timeout` seconds pass without one."""
        deadline = time.monotonic() + timeout
        while True:
            message = self._take_frame()
            if message is not None:
                return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([self.connection], [], [], remaining)
            if not ready:
                return None
            chunk = self.connection.recv(1 << 20)
            if not chunk:
                raise ChannelError("the kernel closed the probe agent's channel")
            self.buffer += chunk
            self.received += len(chunk)

    def _take_frame(self):
        if len(self.buffer) < FRAME.size:
            return None
        (size,) = FRAME.unpack_from(self.buffer)
        if size > MAX_FRAME:
            # No number the kernel chose goes into a message that a student may read.
            raise ChannelError(f"the kernel sent a message over {MAX_FRAME} bytes")
        if len(self.buffer) < FRAME.size + size:
            return None
        data = bytes(self.buffer[FRAME.size : FRAME.size + size])
        del self.buffer[: FRAME.size + size]
        self.messages += 1
        if data[:1] == b"R":  # a lent function's call, in binary (probe_agent.lend_stub)
            return {"binary_rpc": data}
        if sum(data.count(mark) for mark in b"[(,{:") > MAX_ITEMS:
            return {"malformed": True}
        try:
            message = ast.literal_eval(data.decode())
        except (ValueError, SyntaxError, UnicodeDecodeError, MemoryError, RecursionError):
            return {"malformed": True}
        return bounded_text(message) if isinstance(message, dict) else {"malformed": True}


# ----------------------------------------------------------------------------------------------
# Values across the channel


def encode_for_kernel(value):
    """Arguments and lent-function results, as marshal-able data the agent decodes."""
    if isinstance(value, np.ndarray):
        return ("__ndarray__", str(value.dtype), value.tobytes(), list(value.shape))
    if isinstance(value, np.generic):
        return ("__scalar__", str(value.dtype), value.item())
    if isinstance(value, tuple):
        return ("__tuple__", [encode_for_kernel(item) for item in value])
    if isinstance(value, list):
        return [encode_for_kernel(item) for item in value]
    if isinstance(value, dict):
        return {key: encode_for_kernel(item) for key, item in value.items()}
    return value


DOUBLE, LONG, COUNT = struct.Struct("!d"), struct.Struct("!q"), struct.Struct("!B")
ARRAY_TYPES = {b"d": np.dtype("float64"), b"q": np.dtype("int64")}  # native byte order
NONCE_LENGTH = 32


def unpack_call(data):
    """(nonce, lent-function index, arguments) of a binary call (probe_agent.pack_arguments)."""
    view = memoryview(data)
    nonce = bytes(view[1 : 1 + NONCE_LENGTH]).decode()
    at = 1 + NONCE_LENGTH
    (index,) = COUNT.unpack_from(view, at)
    (count,) = COUNT.unpack_from(view, at + 1)
    at += 2
    args = []
    for _ in range(count):
        kind = bytes(view[at : at + 1])
        at += 1
        if kind == b"f":
            args.append(DOUBLE.unpack_from(view, at)[0])
            at += DOUBLE.size
        elif kind == b"i":
            args.append(LONG.unpack_from(view, at)[0])
            at += LONG.size
        elif kind == b"a":
            dtype = ARRAY_TYPES[bytes(view[at : at + 1])]
            (ndim,) = COUNT.unpack_from(view, at + 1)
            at += 2
            shape = [LONG.unpack_from(view, at + 8 * i)[0] for i in range(ndim)]
            at += 8 * ndim
            size = int(np.prod(shape)) * dtype.itemsize
            if size < 0 or at + size > len(view):
                raise ValueError("a truncated array")
            args.append(np.frombuffer(view[at : at + size], dtype=dtype).reshape(shape).copy())
            at += size
        else:
            raise ValueError("an argument of unknown kind")
    return nonce, index, args


def bounded_text(value):
    """The message with every text in it (keys too) cut to MAX_TEXT characters: whatever the
    kernel names (a type, an exception) is quoted in verdicts, feedback and the class report."""
    if isinstance(value, str):
        return value[:MAX_TEXT]
    if isinstance(value, dict):
        return {bounded_text(key): bounded_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [bounded_text(item) for item in value]
    if isinstance(value, tuple):
        return tuple(bounded_text(item) for item in value)
    return value


def restore_facts(value):
    """Facts as the verdicts read them: float arrays sent as raw bytes become nested lists."""
    if isinstance(value, dict):
        if isinstance(value.get("f64"), bytes):
            values = np.frombuffer(value["f64"], dtype=float).reshape(value.get("shape", [-1]))
            value = {k: v for k, v in value.items() if k != "f64"}
            value["values"] = values.tolist()
            return value
        return {key: restore_facts(item) for key, item in value.items()}
    if isinstance(value, list):
        return [restore_facts(item) for item in value]
    if isinstance(value, tuple):
        return [_restore_log_field(item) for item in value]
    return value


def _restore_log_field(item):
    """One field of a recorded call: bytes are float64 arrays (a hidden value is one float)."""
    if not isinstance(item, bytes):
        return item
    values = np.frombuffer(item, dtype=float)
    return float(values[0]) if values.size == 1 and len(item) == 8 else values.tolist()


# ----------------------------------------------------------------------------------------------
# Running a suite through the agent


class Prober:
    """Runs hidden suites through one kernel's agent; `flag(text)` records anything odd."""

    def __init__(self, channel, reference, flag, check_seconds=checks.PROBE_SECONDS):
        self.channel, self.reference, self.flag = channel, reference, flag
        self.check_seconds = check_seconds
        self.ids = itertools.count(1)

    def run_suite(self, suite, lend, deadline, reference_source=None):
        """Facts for every check of `suite`: {"facts": [...]} or {"missing": name}.

        lend: dependency names to lend as stubs of the reference. deadline: time.monotonic()
        by which the suite must be done; checks not reached by then time out. Checks that make
        the same request (several verdicts on one training run) share one run.
        """
        function = checks.SUITES[suite][0]
        requests = [encode_for_kernel(check.request) for check in checks.build_checks(suite)]
        keys = [marshal.dumps(request) for request in requests]
        unique = list(dict.fromkeys(keys))
        self.reference_source = reference_source
        facts = self._run_requests(function, [marshal.loads(key) for key in unique], lend, deadline)
        if facts is None:
            return {"missing": function}
        if reference_source is not None:
            # Reference code was in that kernel: no text of the student's may carry it out.
            facts = [without_text(fact) for fact in facts]
        by_key = dict(zip(unique, facts, strict=True))
        return {"facts": [by_key[key] for key in keys]}

    def _run_requests(self, function, requests, lend, deadline):
        facts = [None] * len(requests)
        first = 0
        self.channel.received = self.channel.messages = 0
        while first < len(requests):
            if time.monotonic() >= deadline:
                break
            outcome = self._one_child(function, requests, first, facts, lend, deadline)
            if outcome == "missing":
                return None
            pending = [i for i, fact in enumerate(facts) if fact is None]
            if not pending:
                break
            first = pending[0]
            if outcome == "killed":
                break  # the deadline: the checks left all time out
            facts[first] = {"crashed": outcome}
            first += 1
        return [fact or {"timeout": self.check_seconds} for fact in facts]

    def _one_child(self, function, requests, first, facts, lend, deadline):
        """Fork one child for the checks from `first` on; return how it ended: "done",
        "missing", "killed" (deadline) or a description of its death."""
        probe_id, nonce = next(self.ids), secrets.token_hex(16)
        self.channel.send({"fork": probe_id, "seconds": max(0.1, deadline - time.monotonic())})
        self.channel.send(
            {
                "probe": probe_id,
                "nonce": nonce,
                "function": function,
                "checks": requests[first:],
                "first": first,
                "lend": list(lend),
                "reference": self.reference_source,
                "check_seconds": self.check_seconds,
            }
        )
        done = missing = False
        while True:
            wait = deadline - time.monotonic() + GRACE_SECONDS
            message = self.channel.receive(max(0.0, wait))
            if message is None:
                raise ChannelError("the probe agent stopped answering")
            if (
                self.channel.received > MAX_BYTES_PER_SUITE
                or self.channel.messages > MAX_MESSAGES_PER_SUITE
            ):
                raise ChannelError("the kernel flooded the probe agent's channel")
            try:
                outcome = self._take(message, probe_id, nonce, first, facts, lend)
            except ChannelError:
                raise
            except Exception as error:  # a message of the right shape with wrong insides
                raise ChannelError("a probe sent a message that the grader could not read") from (
                    error
                )
            if outcome == "missing":
                missing = True
            elif outcome == "done":
                done = True
            elif outcome == "exited":
                if missing:
                    return "missing"
                if done:
                    return "done"
                code = message.get("code")
                code = code if isinstance(code, int) and not isinstance(code, bool) else None
                if code == -9 and time.monotonic() >= deadline - 0.5:
                    return "killed"
                return _death(code)

    def _take(self, message, probe_id, nonce, first, facts, lend):
        """Act on one message of the probe; return "missing" or "done" (the probe said so),
        "exited" (the agent's notice that this probe's child ended), or None to read on."""
        if "binary_rpc" in message:
            self._answer_binary(message["binary_rpc"], lend, nonce)
            return None
        if "exited" in message and message.get("nonce") is None:
            return "exited" if message["exited"] == probe_id else None  # else an earlier child's
        if message.get("nonce") != nonce:
            self.flag("the grading channel carried a message that no probe sent (forged?)")
            return None
        if "rpc" in message:
            self._answer(message, lend, nonce)
        elif "missing" in message:
            return "missing"
        elif "done" in message:
            return "done"
        elif isinstance(message.get("index"), int) and first <= message["index"] < len(facts):
            if facts[message["index"]] is None:
                facts[message["index"]] = restore_facts(message.get("facts"))
        else:
            self.flag("a probe sent a message that the grader could not read")
        return None

    def _answer(self, message, lend, nonce):
        """A lent function called with arguments that are not plain numbers or arrays."""
        self.channel.send(
            {"nonce": nonce, "error": f"{message['rpc']} takes numbers and NumPy arrays here"}
        )

    def _answer_binary(self, data, lend, nonce):
        """A lent function called by the student's code: the reference's value, if lent."""
        try:
            sent_nonce, index, args = unpack_call(data)
        except (ValueError, KeyError, struct.error, IndexError) as error:
            raise ChannelError("a probe sent a call that the grader could not read") from error
        if sent_nonce != nonce or not 0 <= index < len(lend):
            raise ChannelError("the grading channel carried a call that no probe made (forged?)")
        try:
            with np.errstate(all="ignore"):
                value = getattr(self.reference, lend[index])(*args)
            self.channel.send({"nonce": nonce, "value": encode_for_kernel(value)})
        except Exception as error:  # the student's arguments, not the grader, are wrong
            self.channel.send({"nonce": nonce, "error": f"{type(error).__name__}: {error}"[:200]})


def without_text(value):
    """Facts with every free text the student's code chose replaced by its kind: exception
    messages keep only the exception's type, reprs of non-numbers only the type's name."""
    if isinstance(value, dict):
        cleaned = {key: without_text(item) for key, item in value.items()}
        if isinstance(cleaned.get("raised"), str):
            cleaned["raised"] = cleaned["raised"].split(":", 1)[0][:40]
        if isinstance(cleaned.get("repr"), str):
            cleaned["repr"] = f"a {str(cleaned.get('type'))[:40]}"
        return cleaned
    if isinstance(value, list):
        return [without_text(item) for item in value]
    return value


def _death(code):
    if code is None:
        return "the probe ended without a word"
    if code < 0:
        return f"the probe was killed by signal {-code} (a crash, or the memory limit?)"
    return f"the probe exited with status {code} (os._exit, or sys.exit?)"
