#!/bin/sh
# The container's start (Dockerfile ENTRYPOINT): with no arguments, build the index when
# there is none yet (a new volume), then serve the bot; with arguments, run that qabot
# command instead (`docker run --rm -v qabot-data:/data qabot index build`).
set -eu
if [ "$#" -gt 0 ]; then
    exec qabot "$@"
fi
mkdir -p "${QABOT_DATA_DIR:-data/articles}"
if [ ! -s "${QABOT_INDEX_PATH:-data/index.sqlite}" ]; then
    qabot index build
fi
exec qabot serve
