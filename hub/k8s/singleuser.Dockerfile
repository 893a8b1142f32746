# The single-user image for Zero to JupyterHub. NOT BUILT HERE (no container tools or base-image
# registry on the build machine). It installs exactly what the one-machine hub runs, from the
# same pinned files, and the same configuration files the hub tests use:
#   requirements.txt + requirements-hub-nodeps.txt (nbgrader, the lab's libraries,
#   ngshare-exchange), hub/nbgrader_config.py (course id and exchange), hub/student/ (students'
#   Jupyter config), hub/instructor/ (the instructor's nbgrader and server config).
# Build from the repository root: docker build -f hub/k8s/singleuser.Dockerfile -t IMAGE .
# Pin the base image by digest when you build it.
FROM python:3.11-slim-bookworm

RUN apt-get update && apt-get install -y --no-install-recommends sudo tini bubblewrap \
    && rm -rf /var/lib/apt/lists/*

COPY requirements.txt requirements-hub.txt requirements-hub-nodeps.txt /tmp/lab21/
# jupyterhub provides jupyterhub-singleuser; playwright and aiohttp come along unused.
RUN pip install --no-cache-dir --no-deps -r /tmp/lab21/requirements.txt \
        -r /tmp/lab21/requirements-hub.txt \
    && pip check && pip install --no-cache-dir --no-deps -r /tmp/lab21/requirements-hub-nodeps.txt

# Every pod's user (z2jh: uid 1000), and the grading sandbox's root-owned launcher with the
# sudo rule that hub/course_hub.py (install_sandbox) makes on one machine: in the instructor's
# pod, autograde starts each slot of bubblewrap through it (coursepack/sandbox.py). The pod
# needs user namespaces and mount rights for bubblewrap (see values.yaml).
COPY coursepack/sandbox_launch.py coursepack/zygote.py /opt/lab21-sandbox/
RUN useradd --create-home --uid 1000 jovyan \
    && sed -i '1i #!/usr/bin/python3 -I' /opt/lab21-sandbox/sandbox_launch.py \
    && mv /opt/lab21-sandbox/sandbox_launch.py /opt/lab21-sandbox/lab21-sandbox \
    && chmod 0755 /opt/lab21-sandbox/lab21-sandbox \
    && echo "jovyan ALL=(root) NOPASSWD: /opt/lab21-sandbox/lab21-sandbox" \
       > /etc/sudoers.d/lab21-sandbox \
    && chmod 0440 /etc/sudoers.d/lab21-sandbox

# hub/course_hub.py fills in the same placeholders on one machine.
COPY hub/nbgrader_config.py /usr/local/etc/jupyter/nbgrader_config.py
RUN sed -i -e 's|@COURSE_ID@|lab21|' -e 's|@EXCHANGE@|/unused-with-ngshare|' \
    /usr/local/etc/jupyter/nbgrader_config.py
COPY hub/student/ /etc/lab21/student/
COPY hub/instructor/ /etc/lab21/instructor/
RUN sed -i -e 's|@COURSE_ROOT@|/home/jovyan/course|' /etc/lab21/instructor/nbgrader_config.py

USER jovyan
WORKDIR /home/jovyan
ENTRYPOINT ["tini", "--"]
CMD ["jupyterhub-singleuser"]
