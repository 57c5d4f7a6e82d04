# Pixelsmith: the Discord/Slack image bot.
#   docker build -t pixelsmith .
#   docker run -d --name pixelsmith -v pixelsmith-data:/data \
#     -e PIXELSMITH_API_KEY -e DISCORD_TOKEN pixelsmith
# The SQLite database lives in the /data volume. Secrets come from the environment only.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIXELSMITH_CONFIG=/app/docker-config.toml \
    METRICS_PORT=9108 \
    MPLCONFIGDIR=/tmp/matplotlib

# A fixed uid, so a bind-mounted /data can be chowned to it on the host.
RUN groupadd --system --gid 10001 pixelsmith \
    && useradd --system --uid 10001 --gid pixelsmith --create-home --home-dir /home/pixelsmith \
       --shell /usr/sbin/nologin pixelsmith

WORKDIR /app
# Every distribution at the version and hashes scripts/lock resolved (its own layer, so a code
# change does not reinstall them); then the package itself, with nothing resolved or fetched.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY core/ core/
COPY bots/ bots/
RUN pip install --no-cache-dir --no-deps --no-build-isolation . \
    && pip check \
    && rm -rf build *.egg-info
COPY docker-config.toml /app/docker-config.toml

RUN mkdir -p /data && chown pixelsmith:pixelsmith /data
VOLUME ["/data"]

USER pixelsmith
EXPOSE 9108

# `pixelsmith run` handles SIGTERM: stop taking jobs, finish in-flight ones (shutdown.grace_s),
# settle the ledger, exit 0.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('METRICS_PORT', '9108') + '/healthz', timeout=4)"]

ENTRYPOINT ["pixelsmith"]
CMD ["run"]
