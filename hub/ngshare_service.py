"""Start ngshare as the course hub's service, listening on the loopback interface only.

ngshare's own entry point (`python -m ngshare`) listens on every interface, as a Kubernetes pod
must; on one machine the hub, the servers and ngshare all talk over 127.0.0.1, so nothing
outside the machine needs to reach it. Arguments are ngshare's own (`--admins`, `--database`,
`--storage`, ...). hub/course_hub.py copies this file where the service's user can read it.
"""

import sys

from ngshare import ngshare
from tornado.httpserver import HTTPServer

listen_anywhere = HTTPServer.listen


def listen_on_loopback(server, port, address=""):
    return listen_anywhere(server, port, "127.0.0.1")


HTTPServer.listen = listen_on_loopback

if __name__ == "__main__":
    ngshare.main(sys.argv[1:])
