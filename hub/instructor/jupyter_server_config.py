# The instructor's server on the course hub.
c = get_config()  # noqa: F821
# Formgrader opens in a JupyterLab tab (an iframe of this same server). JupyterHub's default
# `frame-ancestors 'none'` blanks it (nbgrader issue 1870); allow framing by this origin only.
c.ServerApp.tornado_settings = {"headers": {"Content-Security-Policy": "frame-ancestors 'self'"}}
