# The instructor's server on the course hub.
c = get_config()  # noqa: F821
# Formgrader opens in a JupyterLab tab (an iframe of this same server). JupyterHub's default
# `frame-ancestors 'none'` blanks it (nbgrader issue 1870); allow framing by this origin only.
c.ServerApp.tornado_settings = {"headers": {"Content-Security-Policy": "frame-ancestors 'self'"}}
# Kernels talk over Unix sockets in the user's own runtime folder, not 127.0.0.1 ports: no port
# another process can take between choosing and binding (ten students starting kernels at once
# saw "Address already in use" until the kernel gave up), and no port other users can reach.
c.KernelManager.transport = "ipc"
