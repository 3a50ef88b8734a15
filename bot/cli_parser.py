"""The `qabot` command line's grammar: every command, its arguments and their help texts, the
`--top-k` range and `--version`. `bot.cli` runs the commands."""

from __future__ import annotations

import argparse
from pathlib import Path

DESCRIPTION = (
    "The `qabot` command: build the index, search it, ask questions, chat, evaluate, report, "
    "serve the bot."
)
MAX_TOP_K = 50


def top_k(value: str) -> int:
    """`--top-k`: a whole number from 1 to MAX_TOP_K (argparse says so and exits with 2)."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a whole number from 1 to {MAX_TOP_K}, not {value!r}"
        ) from None
    if not 1 <= number <= MAX_TOP_K:
        raise argparse.ArgumentTypeError(f"must be from 1 to {MAX_TOP_K}, not {number}")
    return number


def version() -> str:
    """The installed distribution's version, else (a source tree) pyproject.toml's."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("qabot")
    except PackageNotFoundError:
        import tomllib

        pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
        try:
            return tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
        except (OSError, KeyError, tomllib.TOMLDecodeError):
            return "unknown"


class VersionAction(argparse.Action):
    """`--version`: prints `qabot VERSION` and exits (the version looked up only then)."""

    def __init__(
        self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None
    ):
        super().__init__(option_strings, dest, nargs=0, default=default, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"qabot {version()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """Every command with its arguments; each sets `command_name`, run by `bot.cli.main`."""
    parser = argparse.ArgumentParser(prog="qabot", description=DESCRIPTION)
    parser.add_argument("--version", action=VersionAction, help="print qabot's version and exit")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", help="what to do"
    )

    def with_index(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--index", type=Path, help="index file (default: QABOT_INDEX_PATH)")
        return p

    def with_top_k(p: argparse.ArgumentParser, what: str) -> None:
        help_text = f"{what}, 1 to {MAX_TOP_K} (default: QABOT_TOP_K, 5)"
        p.add_argument("--top-k", type=top_k, metavar="N", help=help_text)

    def with_data(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--data-dir", type=Path, help="articles folder (default: QABOT_DATA_DIR)")
        return with_index(p)

    index = commands.add_parser("index", help="build, update and inspect the index")
    index_commands = index.add_subparsers(
        dest="index_command", required=True, metavar="ACTION", help="what to do with the index"
    )
    with_data(index_commands.add_parser("build", help="build or update the index")).set_defaults(
        command_name="index_build"
    )
    add = with_data(index_commands.add_parser("add", help="add article files or web pages"))
    add.add_argument(
        "items",
        nargs="+",
        metavar="FILE_OR_URL",
        help="an article file (.txt, .md, .html) or an http(s) link to a web page; refused when "
        "it has no article text or the data folder has the same article already",
    )
    add.set_defaults(command_name="index_add")
    remove = with_data(
        index_commands.add_parser(
            "remove", help="delete articles from the data dir and update the index"
        )
    )
    remove.add_argument(
        "names",
        nargs="+",
        metavar="NAME",
        help="a file name in the data dir (as `qabot sources` lists it) or a path under it",
    )
    remove.set_defaults(command_name="index_remove")
    with_index(index_commands.add_parser("stats", help="what the index holds")).set_defaults(
        command_name="index_stats"
    )

    with_index(commands.add_parser("sources", help="list the indexed articles")).set_defaults(
        command_name="sources"
    )

    search = with_index(commands.add_parser("search", help="ranked passages for a query"))
    with_top_k(search, "how many passages")
    search.add_argument("--json", action="store_true", help="JSON output: a list of passages")
    search.add_argument(
        "query", nargs="+", metavar="QUERY", help="words to search for (several are joined)"
    )
    search.set_defaults(command_name="search")

    ask = with_index(commands.add_parser("ask", help="answer a question ('-' reads one per line)"))
    ask.add_argument("--json", action="store_true", help="JSON output (JSON Lines with '-')")
    with_top_k(ask, "passages read for the answer")
    ask.add_argument(
        "question",
        nargs="+",
        metavar="QUESTION",
        help="the question (several words are joined); '-' reads one question per line from stdin",
    )
    ask.set_defaults(command_name="ask")

    with_index(commands.add_parser("chat", help="a conversation in the terminal")).set_defaults(
        command_name="chat"
    )

    evaluation = with_index(
        commands.add_parser("eval", help="score the answerer on question sets (data/eval/)")
    )
    evaluation.add_argument(
        "file", nargs="?", help="a question file asked over the index (default: the --split sets)"
    )
    evaluation.add_argument(
        "--split",
        default="dev",
        choices=("train", "dev", "test", "seeds", "all"),
        help="news split (asked over data/eval/news/articles) or the seed set; default dev",
    )
    evaluation.add_argument("--verbose", "-v", action="store_true", help="list every miss")
    evaluation.set_defaults(command_name="eval")

    report = commands.add_parser("report", help="what people asked: the question log")
    report.add_argument("--days", type=int, default=7, help="days the report covers (default 7)")
    report.add_argument(
        "--export", type=Path, metavar="FILE", help="write the questions as an eval-set JSONL file"
    )
    report.add_argument(
        "--log", type=Path, metavar="PATH", help="question log (default: QABOT_QUESTION_LOG_PATH)"
    )
    report.set_defaults(command_name="report")

    with_data(commands.add_parser("serve", help="run the Telegram bot")).set_defaults(
        command_name="serve"
    )
    with_data(commands.add_parser("run", help="build the index, then serve or chat")).set_defaults(
        command_name="run"
    )
    return parser
