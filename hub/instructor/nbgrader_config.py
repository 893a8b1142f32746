# The instructor's nbgrader config on the course hub (hub/course_hub.py fills in the path), and
# the one place for the hub's course settings: the course's own settings first, then where the
# course and its gradebook live on the hub, then how collect and autograde run here.
import os

c = get_config()  # noqa: F821
load_subconfig("@COURSE_ROOT@/nbgrader_config.py")  # noqa: F821
c.CourseDirectory.root = "@COURSE_ROOT@"
# The gradebook: nbgrader's default, SQLite in the course folder. Another database is one line:
# c.CourseDirectory.db_url = "postgresql://..."

# With the filesystem exchange, collect refuses a submission whose files are not owned by the
# student it names (forgeries, coursepack/hub_collect.py). With ngshare (hub/nbgrader_config.py)
# no file has a student's owner: ngshare records each submission under the hub user whose
# token sent it, and its own collect is used.
if os.environ.get("LAB21_EXCHANGE", "filesystem") == "filesystem":
    c.ExchangeFactory.collect = "coursepack.hub_collect.OwnerCheckedCollect"

# Autograde runs every student's kernel in the course's sandbox (coursepack/sandbox.py), as on
# any grading machine; here the instructor starts its slots through the root-owned launcher
# (LAB21_SANDBOX_LAUNCHER, set for the instructor's server by hub/jupyterhub_config.py).
