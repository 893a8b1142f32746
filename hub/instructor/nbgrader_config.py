# The instructor's nbgrader config on the course hub (hub/course_hub.py fills in the path).
# The course's own settings first, then where the course lives on the hub.
c = get_config()  # noqa: F821
load_subconfig("@COURSE_ROOT@/nbgrader_config.py")  # noqa: F821
c.CourseDirectory.root = "@COURSE_ROOT@"

# Collect refuses a submission whose files are not owned by the student it names (forgeries).
c.ExchangeFactory.collect = "coursepack.hub_collect.OwnerCheckedCollect"

# Autograde runs student code as the unprivileged sandbox user, never as the instructor: the
# course's guarded Execute step (coursepack/guarded_execute.py), its kernels started by sudo.
c.Autograde.autograde_preprocessors = [
    "coursepack.sandbox.SandboxedExecute" if step.endswith("GuardedExecute") else step
    for step in c.Autograde.autograde_preprocessors
]
c.SandboxedKernelManager.run_as = "@SANDBOX@"
