# nbgrader config baked into the single-user image at /etc/jupyter/nbgrader_config.py for the
# Kubernetes deployment. NOT TESTED HERE. On one machine the filesystem exchange is used instead
# (hub/course_hub.py writes that config).
import os

c = get_config()  # noqa: F821

c.CourseDirectory.course_id = "lab21"

# The ngshare exchange (pip: ngshare-exchange==0.5.3): submissions travel through the ngshare
# service over HTTP, so no shared volume is needed and ngshare records who submitted what
# from the hub's authentication, not from a file owner.
from ngshare_exchange import configureExchange  # noqa: E402

configureExchange(c, "http://ngshare.default.svc.cluster.local:8080/services/ngshare")

if os.environ.get("LAB21_ROLE") == "instructor":
    # The course folder lives on the instructor's volume; the gradebook in PostgreSQL so that
    # it survives pod restarts and can be backed up. The password comes from a Secret.
    c.CourseDirectory.root = "/home/jovyan/course"
    c.CourseDirectory.db_url = (
        "postgresql://lab21:" + os.environ.get("LAB21_GRADEBOOK_PASSWORD", "")
        + "@postgres.default.svc.cluster.local:5432/lab21_gradebook"
    )
