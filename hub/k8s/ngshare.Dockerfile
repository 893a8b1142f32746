# ngshare's image for its Helm chart (ngshare-values.yaml). NOT BUILT HERE. It installs what
# the one-machine hub runs as its ngshare service, from the same pinned file
# (requirements-ngshare.txt: ngshare 0.6.0 with SQLAlchemy 1.4, which it needs). The chart
# supplies the arguments (--admins) and the hub's environment; the database and files live on
# the chart's volume, as they live in /srv/lab21-hub/ngshare on one machine.
# Build from the repository root: docker build -f hub/k8s/ngshare.Dockerfile -t IMAGE .
FROM python:3.11-slim-bookworm
COPY requirements-ngshare.txt /tmp/requirements-ngshare.txt
RUN pip install --no-cache-dir --no-deps -r /tmp/requirements-ngshare.txt && pip check
USER 65535
ENTRYPOINT ["python", "-m", "ngshare", "--database", "sqlite:////srv/ngshare/ngshare.db", \
            "--storage", "/srv/ngshare/files/"]
