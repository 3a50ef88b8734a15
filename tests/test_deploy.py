"""The deployment recipe (README, "Running it for real").

Fast checks, in every run: the Dockerfile linted in Python (hadolint is not available
offline), and compose.yaml, the systemd unit and the proxy examples agreeing with it.

Slow (`make test-slow`, or `pytest -m slow`; excluded by default): the README's steps in a clean
virtualenv: `pip install .` from PyPI without the dev extra, `qabot --help`, `qabot index build`,
`qabot ask`, then the container's entrypoint (index built when missing, then `qabot serve`)
answering a question through the fake Bot API, with its health check.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fake_bot_api import SEED_ARTICLES, BotProcess, FakeBotAPI, clean_env

REPO = Path(__file__).resolve().parent.parent
DOCKERFILE = REPO / "Dockerfile"
DATA_ENV = {
    "QABOT_DATA_DIR": "/data/articles",
    "QABOT_INDEX_PATH": "/data/index.sqlite",
    "QABOT_QUESTION_LOG_PATH": "/data/questions.sqlite",
    "QABOT_UPDATE_JOURNAL_PATH": "/data/updates.sqlite",
}
DEV_ONLY = {"pytest", "pytest-asyncio", "hypothesis", "ruff", "scikit-learn"}


# ---------------------------------------------------------------------- the Dockerfile, linted


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order: comments dropped, continuation lines joined."""
    logical, current = [], ""
    for line in text.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    result = []
    for line in logical:
        keyword, _, rest = line.strip().partition(" ")
        result.append((keyword.upper(), rest.strip()))
    return result


def stages(text: str) -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for keyword, rest in instructions(text):
        if keyword == "FROM":
            found.append([])
        if found:
            found[-1].append((keyword, rest))
    return found


def env_values(args: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in shlex.split(args) if "=" in part)


def copy_sources(args: str) -> list[str]:
    """The sources of a COPY from the build context (not `--from=` another stage)."""
    words = shlex.split(args)
    if any(word.startswith("--from=") for word in words):
        return []
    paths = [word for word in words if not word.startswith("--")]
    return paths[:-1]


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore keeps `path` out of the build context (the last match wins)."""
    ignored = False
    parts = Path(path).parts
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    for pattern in patterns:
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        if any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes):
            ignored = not negated
    return ignored


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return DOCKERFILE.read_text(encoding="utf-8")


def test_dockerfile_bases_are_pinned_python_311_slim(dockerfile):
    bases = [rest.split()[0] for keyword, rest in instructions(dockerfile) if keyword == "FROM"]
    assert bases
    for base in bases:
        name, _, tag = base.partition("@")[0].partition(":")
        assert name == "python", base
        assert re.fullmatch(r"3\.11\.\d+-slim(-\w+)?", tag), f"{base}: pin a 3.11.x slim tag"


def test_dockerfile_runs_as_a_user_with_a_health_check(dockerfile):
    final = stages(dockerfile)[-1]
    users = [rest for keyword, rest in final if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    [health] = [rest for keyword, rest in final if keyword == "HEALTHCHECK"]
    assert "CMD" in health and "bot.telegram.health" in health
    assert (REPO / "bot" / "telegram" / "health.py").is_file()
    [entrypoint] = [rest for keyword, rest in final if keyword == "ENTRYPOINT"]
    assert entrypoint.startswith("[")  # exec form: the bot gets SIGTERM itself


def test_dockerfile_installs_without_the_dev_extra(dockerfile):
    runs = " ".join(rest for keyword, rest in instructions(dockerfile) if keyword == "RUN")
    assert re.search(r"pip install (--\S+ )*\.(\s|$)", runs), "pip install ."
    assert "-e " not in runs and "--editable" not in runs
    assert "[dev" not in dockerfile and "[bench" not in dockerfile


def test_dockerfile_keeps_the_data_on_the_volume(dockerfile):
    final = stages(dockerfile)[-1]
    volumes = [rest for keyword, rest in final if keyword == "VOLUME"]
    assert volumes and "/data" in volumes[-1].replace('"', " ").replace("[", " ").split()
    env: dict[str, str] = {}
    for keyword, rest in final:
        if keyword == "ENV":
            env.update(env_values(rest))
    assert {key: env.get(key) for key in DATA_ENV} == DATA_ENV
    assert env.get("QABOT_HEALTH_PORT")


def test_every_copied_path_is_in_the_repository_and_the_build_context(dockerfile):
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    copied = [
        source
        for keyword, rest in instructions(dockerfile)
        if keyword in {"COPY", "ADD"}
        for source in copy_sources(rest)
    ]
    assert copied
    for source in copied:
        assert (REPO / source).exists(), f"COPY {source}: not in the repository"
        assert not dockerignored(source, patterns), f"COPY {source}: excluded by .dockerignore"
    assert dockerignored(".venv", patterns) and dockerignored(".env", patterns)
    assert dockerignored("data/index.sqlite", patterns)


def test_the_entrypoint_builds_a_missing_index_then_serves():
    script = REPO / "deploy" / "docker-entrypoint.sh"
    assert os.access(script, os.X_OK)
    subprocess.run(["sh", "-n", str(script)], check=True)
    text = script.read_text(encoding="utf-8")
    assert "qabot index build" in text and "exec qabot serve" in text


def test_compose_systemd_and_proxies_agree_with_the_recipe():
    compose = (REPO / "compose.yaml").read_text(encoding="utf-8")
    assert "qabot-data:/data" in compose and "env_file: .env" in compose
    assert "restart: unless-stopped" in compose and "healthcheck:" in compose
    for key, value in DATA_ENV.items():
        assert f"{key}: {value}" in compose  # win over a .env made from .env.example

    unit = (REPO / "deploy" / "qabot.service").read_text(encoding="utf-8")
    settings = dict(
        line.split("=", 1) for line in unit.splitlines() if "=" in line and line[0] != "#"
    )
    assert settings["User"] == "qabot" and settings["Restart"] == "on-failure"
    assert settings["NoNewPrivileges"] == "yes" and settings["ProtectSystem"] == "strict"
    assert settings["EnvironmentFile"] and settings["WorkingDirectory"] == "/opt/qabot"
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    venv = re.search(r"^PROD_VENV \?= (\S+)", makefile, re.M).group(1)
    assert settings["ExecStart"] == f"/opt/qabot/{venv}/bin/qabot serve"  # what make install makes

    for name in ("Caddyfile", "nginx.conf"):
        text = (REPO / "deploy" / name).read_text(encoding="utf-8")
        assert "/qabot" in text and "127.0.0.1:8443" in text, name
        assert "/healthz" in text and "127.0.0.1:8081" in text, name


# ---------------------------------------------------------------------- the README's steps


def run(command: list[str], cwd: Path, env: dict[str, str], timeout: float = 300):
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{command}: {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.mark.slow
def test_a_clean_install_answers_and_serves(tmp_path):
    # what `make install` does (and the Dockerfile's build stage), from a copy of what it copies
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    for name in ("bot", "index"):
        shutil.copytree(
            REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    bin_dir = venv / "bin"
    env = clean_env(
        PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        QABOT_CACHE_DIR=str(tmp_path / "cache"),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    env.pop("VIRTUAL_ENV", None)
    env.pop("PYTHONPATH", None)
    run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", "."], source, env, 900)
    installed = run(
        [str(bin_dir / "python"), "-m", "pip", "list", "--format=freeze"], tmp_path, env
    )
    names = {line.split("==")[0].lower() for line in installed.stdout.splitlines()}
    assert "qabot" in names and "socksio" in names and "tornado" in names
    assert not names & DEV_ONLY, "the dev extra was installed"

    qabot = str(bin_dir / "qabot")
    home = tmp_path / "home"
    articles = home / "data" / "articles"
    articles.mkdir(parents=True)
    for name in SEED_ARTICLES:
        shutil.copy2(REPO / "data" / "articles" / name, articles / name)
    assert "serve" in run([qabot, "--help"], home, env).stdout
    built = run([qabot, "index", "build"], home, env)
    assert "indexed" in built.stdout and (home / "data" / "index.sqlite").is_file()
    answer = run([qabot, "ask", "哈密有多少个服务站?"], home, env)
    assert "285个服务站" in answer.stdout

    # the container's start, without Docker: no index yet, so it builds one, then serves
    data = tmp_path / "volume"
    shutil.copytree(articles, data / "articles")
    health_port = free_port()
    with FakeBotAPI() as fake:
        bot = BotProcess(
            fake,
            home,
            data / "articles",
            data / "index.sqlite",
            command=["sh", str(REPO / "deploy" / "docker-entrypoint.sh")],
            env={
                "PATH": env["PATH"],
                "QABOT_CACHE_DIR": env["QABOT_CACHE_DIR"],
                "QABOT_QUESTION_LOG_PATH": str(data / "questions.sqlite"),
                "QABOT_UPDATE_JOURNAL_PATH": str(data / "updates.sqlite"),
                "QABOT_HEALTH_PORT": str(health_port),
            },
        ).start(timeout=180, port=health_port)
        try:
            fake.send_text(9701, "哈密有多少个服务站?")
            [reply] = fake.wait_for_messages(9701, timeout=60)
            assert "<b>285个服务站</b>" in reply.text
            probe = run([str(bin_dir / "python"), "-m", "bot.telegram.health"], home, bot.env)
            assert '"articles": 2' in probe.stdout
        finally:
            assert bot.stop() == 0
    assert (data / "index.sqlite").is_file() and (data / "updates.sqlite").is_file()
    assert (data / "questions.sqlite").is_file()
    assert fake.token not in bot.output() and "Traceback" not in bot.output()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
