# Every hub user's nbgrader configuration: the course and its exchange. hub/course_hub.py copies
# this to the hub venv's etc/jupyter/ (filling in the @...@ values); the instructor's own
# settings (course folder, gradebook, grading) are in hub/instructor/nbgrader_config.py.
import os

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "@COURSE_ID@"

# The hub tells every server which exchange the course uses (hub/jupyterhub_config.py).
if os.environ.get("LAB21_EXCHANGE", "filesystem") == "ngshare":
    # Assignments, submissions and feedback travel over HTTP through the ngshare service, which
    # records each submission under the hub user whose token sent it.
    from ngshare_exchange import configureExchange

    configureExchange(c, os.environ["LAB21_NGSHARE_URL"])
else:
    # A folder shared by every user on this machine.
    c.Exchange.root = "@EXCHANGE@"
