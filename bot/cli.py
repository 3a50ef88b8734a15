"""The `qabot` command: build the index, search it, ask questions, chat, evaluate, report, serve the bot."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from bot.cli_parser import build_parser
from bot.errors import CliError
from bot.progress import ProgressLine, print_build_report
from bot.render import answer_json, render_text
from bot.service import QAService
from bot.settings import Settings, settings_errors
from index.store import IndexUnavailable

EXIT_USAGE = 2  # every user error: a bad option or setting, a refused article, no index


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {}
    if getattr(args, "data_dir", None):
        overrides["data_dir"] = args.data_dir
    if getattr(args, "index", None):
        overrides["index_path"] = args.index
    return Settings(**overrides)


def _service(settings: Settings) -> QAService:
    return QAService(settings.data_dir, settings.index_path)


def cmd_index_build(args: argparse.Namespace) -> int:
    settings = _settings(args)
    try:
        report = _service(settings).rebuild(progress=ProgressLine())
    except FileNotFoundError as exc:
        raise CliError(str(exc)) from exc
    print_build_report(report, settings.index_path)
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
    print_build_report(report, settings.index_path)
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
    print_build_report(report, settings.index_path)
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
    from bot.evaluate import evaluate, ranking_table, read_cases, replies_table, table
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
        outcomes = evaluate(answerer, question_set.cases, workers=min(2, os.cpu_count() or 1))
        print(table(outcomes, question_set.name))
        print(f"\nreplies by tier ({question_set.name}; shares of answerable questions)")
        print(replies_table(outcomes, question_set.name))
        print(f"\nthreshold-free ({question_set.name})")
        print(ranking_table(outcomes, question_set.name))
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
    print_build_report(report, settings.index_path)
    if settings.telegram_token is not None:
        return cmd_serve(args)
    return cmd_chat(args)


# the command each parsed `command_name` (bot.cli_parser) runs
COMMANDS = {
    "index_build": cmd_index_build,
    "index_add": cmd_index_add,
    "index_remove": cmd_index_remove,
    "index_stats": cmd_index_stats,
    "sources": cmd_sources,
    "search": cmd_search,
    "ask": cmd_ask,
    "chat": cmd_chat,
    "eval": cmd_eval,
    "report": cmd_report,
    "serve": cmd_serve,
    "run": cmd_run,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = COMMANDS[args.command_name]
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
        return command(args)
    except (IndexUnavailable, CliError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
