"""The `qabot` command as a user runs it: build, add, stats, sources, search, ask, chat.

A few tests run the installed `qabot` script in a subprocess (the real entry point, settings
from the environment); the rest call `bot.cli.main` in-process for speed. Everything runs in
temporary folders; the repository's own `data/` is never touched.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bot.cli import main

QABOT = Path(sys.executable).with_name("qabot")
HAMI = "hami-shuangyong-model-city.txt"
ZHANGYE = "zhangye-shuangyong-model-city-2024-08-01.txt"
HAMI_TITLE = "全国双拥模范城(县)巡礼新疆哈密市:双拥花开哈密城 军民同心谱新篇"
ZHANGYE_TITLE = "军民同心 鱼水情深—— 张掖市创建双拥模范城(县)综述"
NEW_ARTICLE = (
    "青山县双拥工作综述\n"
    "来源:青山日报\n"
    "2023年05月18日 09:30\n"
    "青山县共建成128个退役军人服务站，投入资金2.3亿元，为驻地部队划拨训练用地860余亩。\n"
    "青山县已连续四次被评为省级双拥模范县。\n"
)


pytestmark = pytest.mark.usefixtures("clean_environment")


def run(
    *args: str, stdin: str | None = None, env: dict | None = None, cwd: Path
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("QABOT_")}
    if "QABOT_CACHE_DIR" in os.environ:
        environment["QABOT_CACHE_DIR"] = os.environ["QABOT_CACHE_DIR"]
    environment.update(env or {})
    return subprocess.run(
        [str(QABOT), *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        env=environment,
        timeout=60,
    )


def cli(capsys, *args: str, stdin: str | None = None, monkeypatch=None) -> tuple[int, str, str]:
    """Run `qabot ARGS` in-process; returns (status, stdout, stderr)."""
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def workspace(seed_dir, tmp_path):
    """A private data folder with the seed articles and where its index goes."""
    data = tmp_path / "articles"
    shutil.copytree(seed_dir, data)
    return data, tmp_path / "index.sqlite"


# ------------------------------------------------------------------ the real script


def test_index_build_prints_articles_passages_and_skipped(workspace):
    data, index = workspace
    (data / "empty.txt").write_bytes(b"")
    (data / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0")
    result = run("index", "build", "--data-dir", str(data), "--index", str(index), cwd=data.parent)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    first = result.stdout.splitlines()[0]
    assert re.search(r"\b2 articles\b", first) and re.search(r"\b\d+ passages\b", first)
    assert re.search(r"\b2 skipped\b", first)
    assert re.search(r"skipped empty.txt: .*empty", result.stdout)
    assert re.search(r"skipped photo.jpg: .*not an article", result.stdout)
    assert index.is_file()
    # a second build reads nothing again
    again = run("index", "build", "--data-dir", str(data), "--index", str(index), cwd=data.parent)
    assert "2 unchanged" in again.stdout and "0 read" in again.stdout


def test_settings_from_the_environment(workspace):
    data, index = workspace
    env = {"QABOT_DATA_DIR": str(data), "QABOT_INDEX_PATH": str(index)}
    built = run("index", "build", env=env, cwd=data.parent)
    assert built.returncode == 0 and "2 articles" in built.stdout
    asked = run("ask", "--json", "哈密有多少个服务站?", env=env, cwd=data.parent)
    assert asked.returncode == 0, asked.stderr
    assert json.loads(asked.stdout)["answer"] == "285个服务站"


def test_chat_reads_questions_from_stdin(seed_index, tmp_path):
    result = run("chat", "--index", str(seed_index), stdin="哈密有多少个服务站?\n", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "285个服务站" in result.stdout
    assert "Traceback" not in result.stderr


def test_ask_dash_json_lines_in_order(seed_index, tmp_path):
    questions = [
        "哈密有多少个服务站?",
        "张掖投入了多少资金?",
        "上海有多少个服务站?",
        "哈密连续几次荣膺全国双拥模范城?",
    ]
    result = run(
        "ask",
        "--json",
        "--index",
        str(seed_index),
        "-",
        stdin="\n".join(questions) + "\n",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(questions)
    replies = [json.loads(line) for line in lines]
    assert [r["question"] for r in replies] == questions
    assert replies[0]["answer"] == "285个服务站"
    assert "1.6亿元" in offered(replies[1])
    assert replies[2]["tier"] == "none" and replies[2]["citation"] is None


def test_bad_index_is_one_line_on_stderr_with_status_2(tmp_path):
    (tmp_path / "index.sqlite").write_text('{"format": "qabot-index", "vers', encoding="utf-8")
    result = run(
        "ask", "--index", str(tmp_path / "index.sqlite"), "哈密有多少个服务站?", cwd=tmp_path
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "qabot index build" in lines[0]


# ------------------------------------------------------------------ in-process: build, add, stats, sources


def test_index_build_missing_data_dir_is_one_line_error(capsys, tmp_path):
    status, out, err = cli(
        capsys,
        "index",
        "build",
        "--data-dir",
        str(tmp_path / "none"),
        "--index",
        str(tmp_path / "i.json"),
    )
    assert status == 2 and out == ""
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert "none" in err


def test_index_build_unwritable_index_is_one_line_error(capsys, workspace):
    data, index = workspace
    index.mkdir()  # a folder where the index file should go
    status, out, err = cli(capsys, "index", "build", "--data-dir", str(data), "--index", str(index))
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "index.sqlite" in lines[0]


def test_invalid_setting_is_one_line_error(capsys, monkeypatch, seed_index):
    monkeypatch.setenv("QABOT_TOP_K", "many")
    status, out, err = cli(capsys, "sources", "--index", str(seed_index))
    assert status == 2 and out == ""
    assert err == "error: QABOT_TOP_K=many: must be a whole number\n"


@pytest.mark.parametrize(
    ("variable", "value", "line"),
    [
        ("QABOT_TOP_K", "0", "error: QABOT_TOP_K=0: must be at least 1"),
        ("QABOT_TOP_K", "51", "error: QABOT_TOP_K=51: must be at most 50"),
        (
            "QABOT_RATE_LIMIT_PER_MINUTE",
            "abc",
            "error: QABOT_RATE_LIMIT_PER_MINUTE=abc: must be a whole number",
        ),
        (
            "QABOT_ADMIN_IDS",
            "alice",
            "error: QABOT_ADMIN_IDS=alice: must be comma-separated numeric Telegram user ids, "
            "e.g. 11111,22222",
        ),
        (
            "QABOT_LOG_LEVEL",
            "verbose",
            "error: QABOT_LOG_LEVEL=verbose: must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL",
        ),
        (
            "QABOT_ALLOW_PRIVATE_FETCH",
            "maybe",
            "error: QABOT_ALLOW_PRIVATE_FETCH=maybe: must be true or false",
        ),
        ("QABOT_FETCH_TIMEOUT", "soon", "error: QABOT_FETCH_TIMEOUT=soon: must be a number"),
    ],
)
def test_each_invalid_setting_names_the_variable_value_and_what_is_allowed(
    tmp_path, variable, value, line
):
    result = run("sources", env={variable: value}, cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == line + "\n"  # one line, no traceback


def test_several_invalid_settings_one_line_each(tmp_path):
    env = {"QABOT_TOP_K": "0", "QABOT_LOG_LEVEL": "loud", "QABOT_ALLOWED_CHAT_IDS": "ops-group"}
    result = run("ask", "哈密有多少个服务站?", env=env, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 3 and all(line.startswith("error: QABOT_") for line in lines)
    assert lines[0].startswith("error: QABOT_TOP_K=0: ")
    assert lines[1].startswith("error: QABOT_LOG_LEVEL=loud: must be one of ")
    assert lines[2].startswith("error: QABOT_ALLOWED_CHAT_IDS=ops-group: must be comma-separated")


def test_a_lower_case_log_level_is_accepted(capsys, monkeypatch, seed_index):
    monkeypatch.setenv("QABOT_LOG_LEVEL", "info")
    status, out, err = cli(capsys, "sources", "--index", str(seed_index))
    assert status == 0, err


def test_secrets_are_never_echoed_in_a_settings_error(tmp_path):
    secret = "my secret value!"
    result = run("sources", env={"QABOT_WEBHOOK_SECRET": secret}, cwd=tmp_path)
    assert result.returncode == 2
    assert secret not in result.stderr and "secret value" not in result.stderr
    assert result.stderr == (
        "error: QABOT_WEBHOOK_SECRET (value not shown): must be 1 to 256 letters, digits, _ or - "
        "(Telegram's rule)\n"
    )


def test_settings_errors_never_show_a_token(monkeypatch):
    """Whatever goes wrong with a secret setting, its value is not in the message."""
    from pydantic import ValidationError

    from bot.settings import Settings, settings_errors

    with pytest.raises(ValidationError) as error:
        Settings(telegram_token=["123456:s3cr3t-token"], webhook_secret={"x": "s3cr3t-hook"})
    lines = settings_errors(error.value)
    assert len(lines) == 2 and not any("s3cr3t" in line for line in lines)
    assert lines[0].startswith("QABOT_TELEGRAM_TOKEN (value not shown): ")
    assert lines[1].startswith("QABOT_WEBHOOK_SECRET (value not shown): ")


# ------------------------------------------------------------------ options and help


def test_version(capsys, tmp_path):
    from importlib.metadata import version

    result = run("--version", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout == f"qabot {version('qabot')}\n"
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0 and capsys.readouterr().out == f"qabot {version('qabot')}\n"


def test_version_from_pyproject_when_not_installed(monkeypatch):
    import importlib.metadata
    import tomllib

    import bot.cli
    import bot.cli_parser

    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    pyproject = tomllib.loads((Path(bot.cli.__file__).parents[1] / "pyproject.toml").read_text())
    assert bot.cli_parser.version() == pyproject["project"]["version"]


@pytest.mark.parametrize("command", ["search", "ask"])
@pytest.mark.parametrize("value", ["0", "51", "-1", "five"])
def test_top_k_must_be_from_1_to_50(capsys, seed_index, command, value):
    with pytest.raises(SystemExit) as exited:
        main([command, "--top-k", value, "--index", str(seed_index), "张掖"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert f"qabot {command}: error: argument --top-k: must be" in err and "1 to 50" in err
    assert "Traceback" not in err


def test_top_k_within_range(capsys, seed_index):
    status, out, _ = cli(
        capsys, "search", "--json", "--top-k", "1", "--index", str(seed_index), "张掖"
    )
    assert status == 0 and len(json.loads(out)) == 1


def test_search_joins_the_query_words(capsys, seed_index):
    status, joined, err = cli(
        capsys, "search", "--json", "--index", str(seed_index), "张掖", "投入", "资金"
    )
    assert status == 0, err
    _, whole, _ = cli(capsys, "search", "--json", "--index", str(seed_index), "张掖 投入 资金")
    assert json.loads(joined) == json.loads(whole) and json.loads(joined)
    assert "张掖" in json.loads(joined)[0]["title"] or "张掖" in json.loads(joined)[0]["text"]


def _parsers(parser, path=("qabot",)):
    """Every (command path, parser) of the `qabot` parser, subcommands included."""
    import argparse

    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, (*path, name))


def test_every_argument_and_option_has_a_help_text():
    import argparse

    from bot.cli import build_parser

    missing = []
    for path, parser in _parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            name = action.option_strings[0] if action.option_strings else action.dest
            if not (action.help or "").strip():
                missing.append(f"{' '.join(path)} {name}")
            if isinstance(action, argparse._SubParsersAction):
                missing += [
                    f"{' '.join(path)} {choice.dest}"
                    for choice in action._choices_actions
                    if not (choice.help or "").strip()
                ]
    assert missing == []


@pytest.mark.parametrize(
    ("command", "words"),
    [
        (["search"], ["QUERY", "--top-k", "how many passages", "--json", "--index"]),
        (["ask"], ["QUESTION", "'-' reads one question per line", "--top-k", "--json"]),
        (["index", "add"], ["FILE_OR_URL", "web page", "--data-dir"]),
        (["index", "remove"], ["NAME", "a file name in the data dir", "--data-dir"]),
    ],
)
def test_command_help_describes_its_arguments(capsys, command, words):
    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    assert exited.value.code == 0
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps at the terminal's width
    assert all(word in out for word in words), out


def test_index_add_copies_the_file_and_updates_the_index(capsys, workspace, tmp_path):
    data, index = workspace
    cli(capsys, "index", "build", "--data-dir", str(data), "--index", str(index))
    outside = tmp_path / "downloads" / "青山 双拥.txt"
    outside.parent.mkdir()
    outside.write_text(NEW_ARTICLE, encoding="utf-8")
    status, out, err = cli(
        capsys, "index", "add", str(outside), "--data-dir", str(data), "--index", str(index)
    )
    assert status == 0, err
    assert (data / "青山 双拥.txt").read_text(encoding="utf-8") == NEW_ARTICLE
    assert outside.exists()  # copied, not moved
    assert "added" in out and "3 articles" in out and "1 read" in out and "2 unchanged" in out
    status, out, _ = cli(capsys, "sources", "--index", str(index))
    assert "青山县双拥工作综述" in out and "2023-05-18" in out
    status, out, _ = cli(
        capsys, "ask", "--json", "--index", str(index), "青山县有多少个退役军人服务站?"
    )
    reply = json.loads(out)
    assert reply["answer"] and "128个" in reply["answer"]
    assert reply["citation"]["path"] == "青山 双拥.txt"


def test_index_add_creates_the_data_folder(capsys, tmp_path):
    article = tmp_path / "qingshan.md"
    article.write_text("# 青山县双拥工作综述\n\n" + NEW_ARTICLE.split("\n", 1)[1], encoding="utf-8")
    data, index = tmp_path / "new-data", tmp_path / "index.sqlite"
    status, out, err = cli(
        capsys, "index", "add", str(article), "--data-dir", str(data), "--index", str(index)
    )
    assert status == 0, err
    assert (data / "qingshan.md").is_file()
    assert "1 articles" in out or "1 article" in out


def test_index_add_refuses_what_is_not_an_article(capsys, workspace, tmp_path):
    data, index = workspace
    binary = tmp_path / "photo.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)))
    status, out, err = cli(
        capsys,
        "index",
        "add",
        str(binary),
        str(tmp_path / "missing.txt"),
        "ftp://example.com/a.html",
        "http://[::1",
        "http://127.0.0.1:9/news.html",
        "--data-dir",
        str(data),
        "--index",
        str(index),
    )
    assert status == 2  # a user error, as everywhere
    errors = err.strip().splitlines()
    assert len(errors) == 5 and all(line.startswith("error: cannot add ") for line in errors)
    assert "private" in errors[-1] and "QABOT_ALLOW_PRIVATE_FETCH" in errors[-1]
    assert sorted(p.name for p in data.iterdir()) == [HAMI, ZHANGYE]
    assert "2 articles" in out  # the index is still built from what is there


def test_index_add_twice_is_refused_and_keeps_one_article(capsys, workspace, tmp_path):
    data, index = workspace
    article = tmp_path / "qingshan.txt"
    article.write_text(NEW_ARTICLE, encoding="utf-8")
    cli(capsys, "index", "add", str(article), "--data-dir", str(data), "--index", str(index))
    listing = sorted(p.name for p in data.iterdir())
    # the same file, and the same text saved otherwise (GBK, Windows line ends, another name)
    again = tmp_path / "qingshan-copy.txt"
    again.write_bytes(NEW_ARTICLE.replace("\n", "\r\n").encode("gb18030"))
    for item in (article, again):
        status, out, err = cli(
            capsys, "index", "add", str(item), "--data-dir", str(data), "--index", str(index)
        )
        assert status == 2
        assert err.strip() == (
            f"error: cannot add {item}: its article text is already in the data folder "
            "as qingshan.txt"
        )
        assert sorted(p.name for p in data.iterdir()) == listing  # no qingshan-2.txt
    _, sources, _ = cli(capsys, "sources", "--index", str(index))
    assert sources.count("青山县双拥工作综述") == 1 and "(qingshan.txt)" in sources


def test_index_add_refuses_a_page_without_article_text(capsys, workspace, tmp_path):
    data, index = workspace
    page = tmp_path / "empty-page.html"
    page.write_text(
        "<html><head><title>首页</title></head><body><nav><a href='/'>首页</a></nav></body></html>",
        encoding="utf-8",
    )
    listing = sorted(p.name for p in data.iterdir())
    status, out, err = cli(
        capsys, "index", "add", str(page), "--data-dir", str(data), "--index", str(index)
    )
    assert status == 2
    assert (
        err.strip() == f"error: cannot add {page}: no article text found in it (nothing was added)"
    )
    assert sorted(p.name for p in data.iterdir()) == listing


def test_index_add_refuses_a_loopback_link_naming_the_setting(tmp_path):
    data = tmp_path / "articles"
    data.mkdir()
    result = run(
        "index", "add", "http://127.0.0.1:9/news.html", "--data-dir", str(data), cwd=tmp_path
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "127.0.0.1 is a local or private address" in line
    assert "QABOT_ALLOW_PRIVATE_FETCH=true" in line
    assert list(data.iterdir()) == []


# ------------------------------------------------------------------ index remove


def test_index_remove_takes_the_article_out_of_the_answers(capsys, workspace):
    data, index = workspace
    where = ["--data-dir", str(data), "--index", str(index)]
    cli(capsys, "index", "build", *where)
    _, before, _ = cli(capsys, "ask", "--index", str(index), "张掖投入了多少资金?")
    assert "1.6亿元" in before

    status, out, err = cli(capsys, "index", "remove", ZHANGYE, *where)
    assert status == 0, err
    assert out.splitlines()[0] == f"removed {ZHANGYE}"
    assert "1 articles" in out and "1 removed" in out
    assert sorted(p.name for p in data.iterdir()) == [HAMI]

    _, after, _ = cli(capsys, "ask", "--index", str(index), "张掖投入了多少资金?")
    assert "1.6亿元" not in after
    _, sources, _ = cli(capsys, "sources", "--index", str(index))
    assert ZHANGYE not in sources and ZHANGYE_TITLE not in sources and HAMI in sources


def test_index_remove_by_path_and_in_a_subfolder(capsys, workspace):
    data, index = workspace
    (data / "2024").mkdir()
    (data / ZHANGYE).rename(data / "2024" / ZHANGYE)
    where = ["--data-dir", str(data), "--index", str(index)]
    status, out, err = cli(capsys, "index", "remove", str(data / HAMI), f"2024/{ZHANGYE}", *where)
    assert status == 0, err
    assert f"removed {HAMI}" in out and f"removed 2024/{ZHANGYE}" in out
    assert "0 articles" in out
    assert [p.name for p in data.iterdir()] == ["2024"] and not any((data / "2024").iterdir())


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("no-such-article.txt", "no-such-article.txt is not in the data folder"),
        ("../index.sqlite", "../index.sqlite is outside the data folder"),
        ("../../etc/passwd", "../../etc/passwd is outside the data folder"),
        ("/etc/passwd", "/etc/passwd is outside the data folder"),
    ],
)
def test_index_remove_refuses_what_is_not_in_the_data_folder(capsys, workspace, name, message):
    data, index = workspace
    where = ["--data-dir", str(data), "--index", str(index)]
    cli(capsys, "index", "build", *where)
    listing = sorted(p.name for p in data.iterdir())
    # a good name with a bad one: nothing is removed
    status, out, err = cli(capsys, "index", "remove", HAMI, name, *where)
    assert status == 2 and out == ""
    assert err.strip() == f"error: cannot remove: {message} (nothing was removed)"
    assert sorted(p.name for p in data.iterdir()) == listing
    assert index.parent.joinpath("index.sqlite").is_file()


def test_index_remove_as_a_subprocess(workspace):
    data, index = workspace
    where = ["--data-dir", str(data), "--index", str(index)]
    result = run("index", "remove", HAMI, *where, cwd=data.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"removed {HAMI}\n") and "1 articles" in result.stdout
    missing = run("index", "remove", HAMI, *where, cwd=data.parent)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert (
        missing.stderr
        == f"error: cannot remove: {HAMI} is not in the data folder (nothing was removed)\n"
    )


def test_index_stats(capsys, seed_index):
    status, out, _ = cli(capsys, "index", "stats", "--index", str(seed_index))
    assert status == 0
    assert re.search(r"^articles: 2$", out, re.MULTILINE)
    passages = int(re.search(r"^passages: (\d+)$", out, re.MULTILINE).group(1))
    assert passages > 20
    assert re.search(r"^vocabulary: \d+ terms$", out, re.MULTILINE)


def test_sources_list_titles_dates_and_passage_counts(capsys, seed_index):
    status, out, _ = cli(capsys, "sources", "--index", str(seed_index))
    assert status == 0
    lines = out.strip().splitlines()
    assert len(lines) == 2
    hami = next(line for line in lines if HAMI_TITLE in line)
    zhangye = next(line for line in lines if ZHANGYE_TITLE in line)
    assert "2024-08-01" in zhangye and "张掖市融媒体中心" in zhangye
    assert "新疆维吾尔自治区双拥办" in hami
    _, stats, _ = cli(capsys, "index", "stats", "--index", str(seed_index))
    total = int(re.search(r"passages: (\d+)", stats).group(1))
    counts = [int(re.search(r"(\d+) passages", line).group(1)) for line in lines]
    assert sum(counts) == total and all(c > 5 for c in counts)


def test_sources_of_an_empty_index(capsys, tmp_path):
    (tmp_path / "articles").mkdir()
    index = tmp_path / "index.sqlite"
    cli(capsys, "index", "build", "--data-dir", str(tmp_path / "articles"), "--index", str(index))
    status, out, _ = cli(capsys, "sources", "--index", str(index))
    assert status == 0 and "no articles" in out


# ------------------------------------------------------------------ search and ask


def test_search_json_gives_ranked_passages_with_scores(capsys, seed_index):
    status, out, _ = cli(
        capsys, "search", "--json", "--top-k", "3", "--index", str(seed_index), "服务站"
    )
    assert status == 0
    hits = json.loads(out)
    assert 1 <= len(hits) <= 3
    for hit in hits:
        assert {"score", "text", "title", "path"} <= set(hit)
        assert hit["score"] > 0 and hit["title"] in (HAMI_TITLE, ZHANGYE_TITLE)
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)


def test_search_json_figure_query(capsys, seed_index):
    _, out, _ = cli(capsys, "search", "--json", "--index", str(seed_index), "1.6亿")
    hits = json.loads(out)
    assert "1.6亿元" in hits[0]["text"] and hits[0]["path"] == ZHANGYE


def test_search_without_match(capsys, seed_index):
    status, out, _ = cli(capsys, "search", "--json", "--index", str(seed_index), "迪士尼乐园")
    assert status == 0 and json.loads(out) == []
    status, out, _ = cli(capsys, "search", "--index", str(seed_index), "迪士尼乐园")
    assert status == 0 and "no matching passages" in out


def test_search_text_output(capsys, seed_index):
    _, out, _ = cli(capsys, "search", "--index", str(seed_index), "285个服务站")
    assert out.startswith("1. [") and "285个服务站" in out and HAMI_TITLE in out


ASK_KEYS = {
    "question",
    "tier",
    "answer",
    "confidence",
    "kind",
    "guess",
    "citation",
    "alternatives",
    "passages",
}


def offered(reply: dict) -> str | None:
    """The answer a JSON reply gives: the sure answer, or a likely reply's guess."""
    return reply["answer"] if reply["tier"] == "sure" else (reply["guess"] or {}).get("answer")


def test_ask_json_shape(capsys, seed_index):
    status, out, _ = cli(capsys, "ask", "--json", "--index", str(seed_index), "哈密有多少个服务站?")
    assert status == 0
    reply = json.loads(out)
    assert set(reply) == ASK_KEYS
    assert reply["question"] == "哈密有多少个服务站?"
    assert reply["answer"] == "285个服务站"
    assert isinstance(reply["confidence"], int | float) and 0 <= reply["confidence"] <= 1
    assert isinstance(reply["kind"], str) and reply["kind"]
    citation = reply["citation"]
    assert set(citation) == {"text", "title", "source", "date", "path", "url"}
    assert reply["answer"] in citation["text"]
    assert citation["title"] == HAMI_TITLE and citation["path"] == HAMI
    assert citation["url"] is None  # the seed articles state no address
    assert citation["source"] == "新疆维吾尔自治区双拥办" and citation["date"] is None
    assert isinstance(reply["alternatives"], list)
    assert reply["passages"]
    for passage in reply["passages"]:
        assert set(passage) == {"text", "score", "title"}
        assert passage["score"] >= 0  # BM25; 0 for a passage of the place's article read whole
    assert reply["passages"][0]["text"] == citation["text"]  # the answer's passage comes first


def test_ask_json_with_a_date_and_alternatives(capsys, seed_index):
    _, out, _ = cli(capsys, "ask", "--json", "--index", str(seed_index), "张掖投入了多少资金?")
    reply = json.loads(out)
    assert reply["tier"] in ("sure", "likely") and "1.6亿元" in offered(reply)
    assert reply["citation"]["date"] == "2024-08-01"
    assert reply["citation"]["source"] == "张掖市融媒体中心"
    for other in reply["alternatives"]:
        assert other["answer"] in other["citation"]["text"]


def test_ask_json_abstention_shape(capsys, seed_index):
    _, out, _ = cli(capsys, "ask", "--json", "--index", str(seed_index), "上海有多少个服务站?")
    reply = json.loads(out)
    assert set(reply) == ASK_KEYS
    assert reply["answer"] is None and reply["citation"] is None and reply["guess"] is None
    assert reply["tier"] == "none"


def test_ask_text_names_the_answer_passage_and_article(capsys, seed_index):
    status, out, _ = cli(capsys, "ask", "--index", str(seed_index), "哈密有多少个服务站?")
    assert status == 0
    assert "285个服务站" in out.splitlines()[0]
    assert HAMI_TITLE in out


def test_ask_question_in_several_words(capsys, seed_index):
    _, out, _ = cli(capsys, "ask", "--json", "--index", str(seed_index), "哈密", "有多少个服务站?")
    assert json.loads(out)["answer"] == "285个服务站"


def test_ask_dash_answers_each_line_in_order(capsys, monkeypatch, seed_index):
    stdin = "哈密有多少个服务站?\n张掖投入了多少资金?\n"
    status, out, _ = cli(
        capsys, "ask", "--index", str(seed_index), "-", stdin=stdin, monkeypatch=monkeypatch
    )
    assert status == 0
    assert out.index("285个服务站") < out.index("1.6亿元")


def test_chat_in_process(capsys, monkeypatch, seed_index):
    stdin = "哈密有多少个服务站?\n\n张掖投入了多少资金?\n"
    status, out, err = cli(
        capsys, "chat", "--index", str(seed_index), stdin=stdin, monkeypatch=monkeypatch
    )
    assert status == 0 and err == ""
    assert "285个服务站" in out and "1.6亿元" in out
    assert out.index("285个服务站") < out.index("1.6亿元")


def test_chat_commands_help_sources_and_quit(capsys, monkeypatch, seed_index):
    stdin = "/help\n/sources\n/nonsense\n/哈密有多少个服务站?\n/quit\n张掖投入了多少资金?\n"
    status, out, err = cli(
        capsys, "chat", "--index", str(seed_index), stdin=stdin, monkeypatch=monkeypatch
    )
    assert status == 0 and err == ""
    assert "/sources" in out.split("\n\n")[0]  # the help names the commands
    assert "双拥花开哈密城" in out and "张掖市创建双拥模范城" in out  # the sources, by title
    assert "unknown command /nonsense" in out
    assert "285个服务站" in out  # a question typed after a slash is still a question
    assert "1.6亿元" not in out  # nothing is answered after /quit


def test_chat_without_index_fails_before_reading(capsys, monkeypatch, tmp_path):
    status, out, err = cli(
        capsys,
        "chat",
        "--index",
        str(tmp_path / "none.json"),
        stdin="哈密有多少个服务站?\n",
        monkeypatch=monkeypatch,
    )
    assert status == 2 and out == ""
    assert err.startswith("error: ") and "qabot index build" in err


def test_ask_dash_accepts_windows_line_ends(capsys, monkeypatch, seed_index):
    stdin = "哈密有多少个服务站?\r\n张掖投入了多少资金?\r\n"
    _, out, _ = cli(
        capsys,
        "ask",
        "--json",
        "--index",
        str(seed_index),
        "-",
        stdin=stdin,
        monkeypatch=monkeypatch,
    )
    questions = [json.loads(line)["question"] for line in out.splitlines()]
    assert questions == ["哈密有多少个服务站?", "张掖投入了多少资金?"]


def test_ask_dash_keeps_one_answer_line_per_input_line(capsys, monkeypatch, seed_index):
    """A blank line still gets its (abstaining) answer line, so outputs line up with inputs."""
    stdin = "哈密有多少个服务站?\n\n张掖投入了多少资金?\n"
    for extra in (["--json"], []):
        _, out, _ = cli(
            capsys,
            "ask",
            *extra,
            "--index",
            str(seed_index),
            "-",
            stdin=stdin,
            monkeypatch=monkeypatch,
        )
        lines = out.splitlines()
        assert len(lines) == 3
        assert "285个服务站" in lines[0] and "1.6亿元" in lines[2]
        assert "285" not in lines[1]


class _Stream(io.StringIO):
    def __init__(self, terminal: bool):
        super().__init__()
        self.terminal = terminal

    def isatty(self) -> bool:
        return self.terminal


def _long_build(printer) -> None:
    """A build of 1,000 files taking 30 s, as `build_index` reports it."""
    from index.build import BuildProgress

    for done in range(1000):
        printer(BuildProgress(done, 1000, done * 13, elapsed=done * 0.03))
    printer(BuildProgress(1000, 1000, 13000, elapsed=30.0, saving=True))


def test_a_long_build_logs_its_progress_every_few_seconds():
    from bot.progress import ProgressLine

    stream = _Stream(terminal=False)
    _long_build(ProgressLine(stream))
    lines = stream.getvalue().splitlines()
    assert 5 <= len(lines) <= 8  # every 5 s of 30 s, and the last
    assert lines[0].startswith("indexing: ")
    assert lines[-1] == "saving the index: 1,000/1,000 files, 13,000 passages, 30 s"


def test_a_long_build_draws_one_line_in_place_on_a_terminal():
    from bot.progress import ProgressLine

    stream = _Stream(terminal=True)
    _long_build(ProgressLine(stream))
    output = stream.getvalue()
    assert output.count("\n") == 1 and output.endswith("\n")
    assert output.count("\r") > 50
    assert "[########################] saving the index: 1,000/1,000 files" in output


def test_a_quick_build_prints_no_progress():
    from bot.progress import ProgressLine
    from index.build import BuildProgress

    stream = _Stream(terminal=True)
    printer = ProgressLine(stream)
    printer(BuildProgress(0, 2, 0, elapsed=0.01))
    printer(BuildProgress(2, 2, 24, elapsed=0.3, saving=True))
    assert stream.getvalue() == ""


def test_build_reports_progress_after_every_file(workspace):
    from index.build import build_index

    data, index_path = workspace
    seen = []
    build_index(data, index_path, seen.append)
    assert [(p.files_done, p.saving) for p in seen] == [(1, False), (2, False), (2, True)]
    assert seen[-1].files_total == 2 and seen[-1].passages > 20
    seen.clear()
    build_index(data, index_path, seen.append)  # nothing changed: nothing to read
    assert [(p.files_done, p.files_total, p.saving) for p in seen] == [(0, 0, True)]


# ------------------------------------------------------------------ sources people can open

HAMI_URL = 'https://www.hami.gov.cn/sy/2024/285.html?id=285&from="qabot"'


@pytest.fixture
def hami_with_address(capsys, workspace):
    """The seed articles, the Hami one stating its address in front matter, indexed."""
    data, index = workspace
    hami = data / HAMI
    hami.write_text(f"---\nurl: {HAMI_URL}\n---\n" + hami.read_text(encoding="utf-8"), "utf-8")
    status, out, _ = cli(capsys, "index", "build", "--data-dir", str(data), "--index", str(index))
    assert status == 0 and "2 articles" in out
    return index


def test_ask_shows_the_address_an_article_states(capsys, hami_with_address):
    index = str(hami_with_address)
    _, out, _ = cli(capsys, "ask", "--json", "--index", index, "哈密有多少个服务站?")
    reply = json.loads(out)
    assert reply["answer"] == "285个服务站"
    assert reply["citation"]["url"] == HAMI_URL and reply["citation"]["title"] == HAMI_TITLE
    _, out, _ = cli(capsys, "ask", "--json", "--index", index, "张掖投入了多少资金?")
    assert json.loads(out)["citation"]["url"] is None  # Zhangye states none
    _, out, _ = cli(capsys, "ask", "--index", index, "哈密有多少个服务站?")
    answer, quote, source = out.strip().splitlines()[:3]
    assert answer.endswith("285个服务站") and "285个服务站" in quote
    assert HAMI_TITLE in source and source.endswith(HAMI_URL)


def test_telegram_reply_bolds_the_answer_in_the_quote_and_links_the_title(hami_with_address):
    import html

    from fake_bot_api import check_html, visible_text

    from bot.qa.answerer import Answerer
    from bot.render import render_html
    from index.store import load_index

    answer = Answerer(load_index(hami_with_address)).answer("哈密有多少个服务站?")
    reply = render_html(answer)
    assert check_html(reply) is None, reply
    quote = re.search(r"<blockquote>(.*?)</blockquote>", reply, re.S).group(1)
    assert quote.count("<b>") == 1 and "<b>285个服务站</b>" in quote
    assert html.unescape(re.sub(r"</?b>", "", quote)) == answer.citation.text  # all of it quoted
    link = f'<a href="{html.escape(HAMI_URL, quote=True)}">{html.escape(HAMI_TITLE)}</a>'
    assert link in reply and "&quot;qabot&quot;" in link and "&amp;from=" in link
    assert HAMI_URL not in visible_text(reply)  # the title is the link, the address not spelt out


def test_telegram_reply_without_an_address_has_no_link(seed_index):
    from fake_bot_api import check_html

    from bot.qa.answerer import Answerer
    from bot.render import render_html
    from index.store import load_index

    answerer = Answerer(load_index(seed_index))
    reply = render_html(answerer.answer("哈密有多少个服务站?"))
    assert check_html(reply) is None and "<a " not in reply
    assert "<b>285个服务站</b>" in reply.split("<blockquote>", 1)[1]
    zhangye = render_html(answerer.answer("张掖投入了多少资金?"))
    assert check_html(zhangye) is None
    assert re.search(r"<blockquote>[^<]*<b>[^<]*1\.6亿元[^<]*</b>[^<]*</blockquote>", zhangye)


def test_an_address_that_is_no_web_link_is_never_shown(seed_index):
    """A hand-edited index could hold anything as an address: only an http(s) one is shown."""
    from bot.qa.answerer import Answerer
    from bot.render import answer_json, render_html, render_text
    from index.store import load_index

    answer = Answerer(load_index(seed_index)).answer("哈密有多少个服务站?")
    bad = replace(answer, citation=replace(answer.citation, url='javascript:alert("x")'))
    assert "<a " not in render_html(bad) and "javascript" not in render_text(bad)
    assert answer_json(bad)["citation"]["url"] is None
