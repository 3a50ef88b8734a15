"""The `qabot` command: build the index, search it, ask questions, chat, evaluate, report, serve the bot."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from pydantic import ValidationError

from bot.errors import CliError
from bot.render import answer_json, render_text
from bot.service import QAService
from bot.settings import Settings, settings_errors
from index.store import IndexUnavailable

if TYPE_CHECKING:  # imported by the commands that build or add: a question needs neither
    from index.build import BuildProgress, BuildReport

EXIT_USAGE = 2  # every user error: a bad option or setting, a refused article, no index
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


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {}
    if getattr(args, "data_dir", None):
        overrides["data_dir"] = args.data_dir
    if getattr(args, "index", None):
        overrides["index_path"] = args.index
    return Settings(**overrides)


def _service(settings: Settings) -> QAService:
    return QAService(settings.data_dir, settings.index_path)


def _print_report(report: BuildReport, index_path: Path) -> None:
    print(f"indexed {report.summary()} -> {index_path}")
    for path, reason in report.skipped:
        print(f"  skipped {path}: {reason}")


class ProgressLine:
    """Build progress on stderr: one line redrawn in place on a terminal, else (a log) a line
    every `LOG_EVERY` seconds; silent for builds shorter than `QUIET_FOR` seconds."""

    QUIET_FOR = 1.0
    REDRAW_EVERY = 0.2
    LOG_EVERY = 5.0
    BAR_WIDTH = 24

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.terminal = self.stream.isatty()
        self._shown_at: float | None = None

    def __call__(self, progress: BuildProgress) -> None:
        if progress.elapsed < self.QUIET_FOR:
            return
        every = self.REDRAW_EVERY if self.terminal else self.LOG_EVERY
        due = self._shown_at is None or progress.elapsed - self._shown_at >= every
        if not (due or progress.saving):
            return
        self._shown_at = progress.elapsed
        total = max(progress.files_total, 1)
        what = "saving the index" if progress.saving else "indexing"
        line = (
            f"{what}: {progress.files_done:,}/{progress.files_total:,} files, "
            f"{progress.passages:,} passages, {progress.elapsed:.0f} s"
        )
        if self.terminal:
            filled = self.BAR_WIDTH * progress.files_done // total
            bar = "#" * filled + "-" * (self.BAR_WIDTH - filled)
            self.stream.write(f"\r[{bar}] {line}\x1b[K")
            if progress.saving:
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def cmd_index_build(args: argparse.Namespace) -> int:
    settings = _settings(args)
    try:
        report = _service(settings).rebuild(progress=ProgressLine())
    except FileNotFoundError as exc:
        raise CliError(str(exc)) from exc
    _print_report(report, settings.index_path)
    return 0


def cmd_index_add(args: argparse.Namespace) -> int:
    from index.add import AddError, add_file, fetch_url

    settings = _settings(args)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    service = _service(settings)
    indexed = service.indexed()
    failed = 0
    for item in args.items:
        try:
            if item.startswith(("http://", "https://")) or "://" in item:
                saved = fetch_url(
                    item,
                    settings.data_dir,
                    timeout=settings.fetch_timeout,
                    allow_private=settings.allow_private_fetch,
                    indexed=indexed,
                )
            else:
                saved = add_file(Path(item), settings.data_dir, indexed=indexed)
            print(f"added {item} as {saved}")
        except AddError as exc:
            failed += 1
            print(f"error: cannot add {item}: {exc}", file=sys.stderr)
    report = service.rebuild(progress=ProgressLine())
    _print_report(report, settings.index_path)
    return EXIT_USAGE if failed else 0


def cmd_index_remove(args: argparse.Namespace) -> int:
    from index.remove import RemoveError

    settings = _settings(args)
    if not settings.data_dir.is_dir():
        raise CliError(f"data directory {settings.data_dir} does not exist")
    try:
        removed, report = _service(settings).remove(args.names, progress=ProgressLine())
    except RemoveError as exc:
        raise CliError(f"cannot remove: {exc} (nothing was removed)") from exc
    for relative in removed:
        print(f"removed {relative}")
    _print_report(report, settings.index_path)
    return 0


def cmd_index_stats(args: argparse.Namespace) -> int:
    settings = _settings(args)
    service = _service(settings)
    index = service.answerer.index
    vocabulary = len(index.vocabulary())
    print(f"index: {settings.index_path}")
    print(f"created: {index.created or 'unknown'}")
    print(f"articles: {len(index.articles)}")
    print(f"passages: {len(index.passages)}")
    print(f"vocabulary: {vocabulary} terms")
    return 0


def cmd_sources(args: argparse.Namespace) -> int:
    _print_sources(_service(_settings(args)))
    return 0


def _print_sources(service: QAService) -> None:
    sources = service.sources()
    if not sources:
        print("no articles indexed")
    for source in sources:
        details = " · ".join(p for p in (source.date, source.source) if p)
        print(
            f"{source.title}  [{details or 'no date/source'}]  {source.passages} passages  ({source.path})"
        )


CHAT_HELP = """Ask a question about the articles, in Chinese or English, one per line:
  哈密有多少个服务站？  ·  How much did Zhangye invest?
Commands: /sources lists the indexed articles, /help shows this, /quit (or Ctrl-D) ends the chat.
请输入关于文章的问题；/sources 查看收录的文章，/help 查看帮助，/quit 退出。"""


def cmd_search(args: argparse.Namespace) -> int:
    settings = _settings(args)
    service = _service(settings)
    hits = service.search(" ".join(args.query), top_k=args.top_k or settings.top_k)
    index = service.answerer.index
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "score": round(h.score, 4),
                        "text": h.passage.text,
                        "title": index.articles[h.passage.article].title,
                        "path": index.articles[h.passage.article].path,
                        "position": h.passage.position,
                    }
                    for h in hits
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    if not hits:
        print("no matching passages")
    for rank, hit in enumerate(hits, 1):
        title = index.articles[hit.passage.article].title
        print(f"{rank}. [{hit.score:.3f}] {hit.passage.text}\n   — {title}")
    return 0


def _answer_one(service: QAService, question: str, as_json: bool, top_k: int) -> str:
    answer = service.ask(question, top_k=top_k)
    if as_json:
        return json.dumps(answer_json(answer), ensure_ascii=False)
    return render_text(answer)


def cmd_ask(args: argparse.Namespace) -> int:
    settings = _settings(args)
    service = _service(settings)
    service.load()
    args.top_k = args.top_k or settings.top_k
    if args.question == ["-"]:
        # one answer line per input line, in order (a blank line gets the "ask a question" reply)
        for line in sys.stdin:
            reply = _answer_one(service, line.rstrip("\r\n"), args.json, args.top_k)
            print(reply if args.json else " | ".join(reply.splitlines()), flush=True)
        return 0
    question = " ".join(args.question)
    print(_answer_one(service, question, args.json, args.top_k))
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    service = _service(_settings(args))
    service.load(verify=True)
    interactive = sys.stdin.isatty()
    if interactive:
        print("Ask a question about the articles (/help for help, Ctrl-D to quit). 请输入问题：")
    while True:
        try:
            line = input("> " if interactive else "")
        except EOFError:
            break
        except KeyboardInterrupt:
            print()
            break
        command = line.strip().split("@")[0].lower()
        if command in {"/help", "/start", "/?"}:
            print(CHAT_HELP, flush=True)
        elif command == "/sources":
            _print_sources(service)
        elif command in {"/quit", "/exit"}:
            break
        elif command.startswith("/") and command[1:].isascii() and " " not in command:
            print(f"unknown command {command}: try /help, /sources or /quit", flush=True)
        elif line.strip():
            print(render_text(service.ask_in("chat", line)), flush=True)  # follow-ups too
        else:
            continue
        print(flush=True)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from bot.evaluate import evaluate, read_cases, table
    from bot.qa.answerer import Answerer
    from bot.qa.datasets import QuestionSet, index_of, named_sets

    try:
        if args.file:
            cases = tuple(read_cases(Path(args.file)))
            sets = [(QuestionSet(args.file, Path(), cases), _service(_settings(args)).answerer)]
        else:
            sets = [(s, Answerer(index_of(s))) for s in named_sets(args.split)]
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read the question set: {exc}") from exc
    for question_set, answerer in sets:
        outcomes = evaluate(answerer, question_set.cases)
        print(table(outcomes, question_set.name))
        wrong = [o for o in outcomes if o.verdict != "right"]
        for outcome in wrong if args.verbose else []:
            print(
                f"  {outcome.case.id} {outcome.verdict}: {outcome.case.question} -> {outcome.answer}"
            )
        print()
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """What people asked: the question log's stats as text, or (--export) an eval-set file."""
    from bot.questionlog import QuestionLog, QuestionLogUnavailable
    from bot.render import render_stats

    if args.days < 1:
        raise CliError(f"--days must be at least 1, not {args.days}")
    path = args.log or _settings(args).question_log_path
    if not path.is_file():
        raise CliError(
            f"no question log at {path}: the bot writes it as it answers (QABOT_QUESTION_LOG_PATH)"
        )
    try:
        with QuestionLog.open(path, create=False) as log:
            if args.export:
                written = log.export(args.export)
                print(f"wrote {written} questions to {args.export}")
            else:
                print(render_stats(log.stats(days=args.days)))
    except QuestionLogUnavailable as exc:
        raise CliError(str(exc)) from exc
    except OSError as exc:
        raise CliError(f"cannot write {args.export}: {exc}") from exc
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from bot.telegram import run_bot

    settings = _settings(args)
    if settings.telegram_token is None:
        raise CliError(
            "QABOT_TELEGRAM_TOKEN is not set: see the README on creating a bot with BotFather"
        )
    run_bot(settings)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """What `make run` does: build the index, then serve the bot or chat in the terminal."""
    settings = _settings(args)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    report = _service(settings).rebuild(progress=ProgressLine())
    _print_report(report, settings.index_path)
    if settings.telegram_token is not None:
        return cmd_serve(args)
    return cmd_chat(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qabot", description=__doc__)
    parser.add_argument("--version", action=VersionAction, help="print qabot's version and exit")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", help="what to do"
    )

    def with_index(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--index", type=Path, help="index file (default: QABOT_INDEX_PATH)")
        return p

    def with_data(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--data-dir", type=Path, help="articles folder (default: QABOT_DATA_DIR)")
        return with_index(p)

    index = commands.add_parser("index", help="build, update and inspect the index")
    index_commands = index.add_subparsers(
        dest="index_command", required=True, metavar="ACTION", help="what to do with the index"
    )
    with_data(index_commands.add_parser("build", help="build or update the index")).set_defaults(
        func=cmd_index_build
    )
    add = with_data(index_commands.add_parser("add", help="add article files or web pages"))
    add.add_argument(
        "items",
        nargs="+",
        metavar="FILE_OR_URL",
        help="an article file (.txt, .md, .html) or an http(s) link to a web page; refused when "
        "it has no article text or the data folder has the same article already",
    )
    add.set_defaults(func=cmd_index_add)
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
    remove.set_defaults(func=cmd_index_remove)
    with_index(index_commands.add_parser("stats", help="what the index holds")).set_defaults(
        func=cmd_index_stats
    )

    with_index(commands.add_parser("sources", help="list the indexed articles")).set_defaults(
        func=cmd_sources
    )

    search = with_index(commands.add_parser("search", help="ranked passages for a query"))
    search.add_argument(
        "--top-k",
        type=top_k,
        metavar="N",
        help=f"how many passages, 1 to {MAX_TOP_K} (default: QABOT_TOP_K, 5)",
    )
    search.add_argument("--json", action="store_true", help="JSON output: a list of passages")
    search.add_argument(
        "query", nargs="+", metavar="QUERY", help="words to search for (several are joined)"
    )
    search.set_defaults(func=cmd_search)

    ask = with_index(commands.add_parser("ask", help="answer a question ('-' reads one per line)"))
    ask.add_argument("--json", action="store_true", help="JSON output (JSON Lines with '-')")
    ask.add_argument(
        "--top-k",
        type=top_k,
        metavar="N",
        help=f"passages read for the answer, 1 to {MAX_TOP_K} (default: QABOT_TOP_K, 5)",
    )
    ask.add_argument(
        "question",
        nargs="+",
        metavar="QUESTION",
        help="the question (several words are joined); '-' reads one question per line from stdin",
    )
    ask.set_defaults(func=cmd_ask)

    with_index(commands.add_parser("chat", help="a conversation in the terminal")).set_defaults(
        func=cmd_chat
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
    evaluation.set_defaults(func=cmd_eval)

    report = commands.add_parser("report", help="what people asked: the question log")
    report.add_argument("--days", type=int, default=7, help="days the report covers (default 7)")
    report.add_argument(
        "--export", type=Path, metavar="FILE", help="write the questions as an eval-set JSONL file"
    )
    report.add_argument(
        "--log", type=Path, metavar="PATH", help="question log (default: QABOT_QUESTION_LOG_PATH)"
    )
    report.set_defaults(func=cmd_report)

    with_data(commands.add_parser("serve", help="run the Telegram bot")).set_defaults(
        func=cmd_serve
    )
    with_data(commands.add_parser("run", help="build the index, then serve or chat")).set_defaults(
        func=cmd_run
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = _settings(args)
    except ValidationError as exc:  # a bad QABOT_* value: one line for each
        for line in settings_errors(exc):
            print(f"error: {line}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # pydantic-settings' SettingsError: an unreadable .env, say
        print(f"error: invalid settings: {exc}".splitlines()[0], file=sys.stderr)
        return EXIT_USAGE
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        return args.func(args)
    except (IndexUnavailable, CliError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
