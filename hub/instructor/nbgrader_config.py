# The instructor's nbgrader config on the course hub (hub/course_hub.py fills in the path).
# The course's own settings first, then where the course lives on the hub.
c = get_config()  # noqa: F821
load_subconfig("@COURSE_ROOT@/nbgrader_config.py")  # noqa: F821
c.CourseDirectory.root = "@COURSE_ROOT@"
