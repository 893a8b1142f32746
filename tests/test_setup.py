"""What `make setup` installs: the pinned lists, and what they leave out on purpose."""

import subprocess
import sys

from coursepack import COURSE_ROOT

LEFT_OUT = ("rfc3987-syntax", "lark")  # 1.5 CPU s per process (requirements.txt says why)


def test_nbgrader_starts_without_the_slow_iri_checker():
    """Every nbgrader command, classgrade worker and Jupyter server imports jsonschema's format
    checkers: none may build rfc3987-syntax's parsers (the venv is installed without it)."""
    code = (
        "import sys, nbgrader.apps, jupyter_server.serverapp, jsonschema\n"
        "print(sorted(m for m in sys.modules if m.startswith(('rfc3987', 'lark'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "[]"
    for name in ("requirements.txt", "requirements-hub.txt", "requirements-ngshare.txt"):
        pins = (COURSE_ROOT / name).read_text().splitlines()
        assert not [line for line in pins if line.startswith(tuple(f"{p}==" for p in LEFT_OUT))]
