# syntax=docker/dockerfile:1
# qabot in a container (README, "Running it for real"): the bot, polling by default, its index,
# question log and update journal on the volume /data.
#   docker build -t qabot .
#   docker run -d --name qabot --env-file .env -v qabot-data:/data --restart unless-stopped qabot
# or `docker compose up -d` (compose.yaml). Other commands: `docker run --rm ... qabot ask 问题`.

# ---- build: the virtualenv, `pip install .` (not editable, no dev extra)
FROM python:3.11.13-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/qabot
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY index ./index
RUN /opt/qabot/bin/pip install .

# ---- run: the virtualenv, the seed articles and a user of its own
FROM python:3.11.13-slim-bookworm
RUN groupadd --system --gid 10001 qabot \
    && useradd --system --uid 10001 --gid qabot --home-dir /home/qabot --create-home \
        --shell /usr/sbin/nologin qabot
COPY --from=build /opt/qabot /opt/qabot
COPY --chmod=0755 deploy/docker-entrypoint.sh /usr/local/bin/qabot-entrypoint
# the seed articles: a new named volume starts with them (a bind mount starts with its own)
COPY --chown=10001:10001 data/articles /data/articles
RUN mkdir -p /data/cache && chown -R 10001:10001 /data
ENV PATH=/opt/qabot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    QABOT_DATA_DIR=/data/articles \
    QABOT_INDEX_PATH=/data/index.sqlite \
    QABOT_QUESTION_LOG_PATH=/data/questions.sqlite \
    QABOT_UPDATE_JOURNAL_PATH=/data/updates.sqlite \
    QABOT_CACHE_DIR=/data/cache \
    QABOT_WEBHOOK_LISTEN=0.0.0.0 \
    QABOT_WEBHOOK_PORT=8443 \
    QABOT_HEALTH_PORT=8081
USER qabot
WORKDIR /home/qabot
VOLUME /data
# 8443: the webhook (webhook mode only); 8081: GET /healthz
EXPOSE 8443 8081
# the first start builds the index: give it time before counting failures
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-m", "bot.telegram.health"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["qabot-entrypoint"]
