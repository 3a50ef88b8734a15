"""Every text qabot shows people, in Chinese and English, keyed by name: `text(name, lang)`.

Used by `bot.render` (answer labels) and `bot.telegram` (help, commands, replies).
"""

from __future__ import annotations

import re

MESSAGES: dict[str, dict[str, str]] = {
    "zh": {
        # answers (bot.render)
        "answer": "答案",
        "likely": "可能是",
        "check": "（请核对原文）",
        "evidence": "没有找到确切答案，最相关的原文：",
        "source": "出处",
        "others": "其他相关数字",
        "abstain": "抱歉，文章中没有找到这个问题的答案。",
        "unknown_name": "文章中没有提到{names}。",
        "empty": "请输入一个关于文章内容的问题，例如：哈密有多少个服务站？",
        "hint": "可以问文章里的数字、金额、面积、时间或名称，例如“某地有多少个服务站？”“投入了多少资金？”。发送 /sources 查看收录的文章。",
        "small_talk": "你好！我回答关于收录文章的事实问题。",
        "thanks": "不客气！还有问题随时问我。",
        "report_title": "最近{days}天（UTC）的问题：{total}个，已回答{answered}个（{share}）",
        "report_per_day": "每天的问题数：",
        "report_unanswered": "最常问但未回答的问题：",
        "report_no_unanswered": "最常问但未回答的问题：无",
        "report_feedback": "反馈：{up}个赞，{down}个踩",
        "report_thumbs_down": "最近被踩的回答：",
        "report_abstained": "（未回答）",
        "back": "◂ 返回",
        "action_stats": "查看统计",
        "stats_off": "问题日志已关闭（QABOT_QUESTION_LOG=false），没有统计。",
        "feedback_thanks": "谢谢反馈！",
        "start": "你好，{name}！我回答关于收录的新闻文章的事实问题，并给出原文出处。直接发送问题试试，例如：{example}\n发送 /help 查看用法。",
        "bye": "再见！有问题随时再来问。",
        "understood": "（理解为：{question}）",
        "not_a_question": "请用一个问题来问，例如“{topic}有多少……？”。",
        "related": "相关段落",
        "confidence": "置信度",
        # the Telegram bot (bot.telegram)
        "help": (
            "<b>你好！我回答关于新闻文章的事实问题。</b>\n"
            "我会给出简短的答案，引用原文段落，并注明文章标题、日期和来源；文章里没有的，我会直说。\n\n"
            "目前收录 {articles} 篇文章、{passages} 个段落（/sources 查看列表）。\n\n"
            "可以这样问：\n{examples}\n\n"
            "私聊时直接发送问题即可；在群组里请 @{username} 提问、回复我的消息，或使用 /ask 问题。\n"
            "命令：/help 帮助 · /sources 文章列表 · /ask 提问"
        ),
        "help_admin": (
            "\n\n<b>管理员</b>：/reindex 重建索引；/remove 文件名 删除文章；"
            "发送 .txt、.md 或 .html 文件，或只含一个 http(s) 链接的消息，即可添加文章。"
        ),
        "sources_head": "<b>收录的文章（{count} 篇）</b>",
        "sources_none": "目前还没有收录任何文章。",
        "passages": "{count} 段",
        "more": "更多段落 ▸",
        "more_head": "<b>{label} {first}–{last}</b>　问题：{question}",
        "more_none": "没有更多相关段落了。",
        "expired": "这个按钮已过期，请重新提问。",
        "slow_down": "你提问太快了，请稍等一分钟再问。",
        "private_bot": "抱歉，这是一个私人机器人，只在指定的聊天里回答问题。",
        "admins_only": "抱歉，只有管理员可以{action}。你可以直接提问，或发送 /help 查看用法。",
        "action_reindex": "重建索引",
        "action_add": "添加文章",
        "reindexing": "正在重建索引……（其间照常回答问题）",
        "reindexed": "索引已更新：{summary}",
        "reindex_failed": "重建索引失败：{error}",
        "failure_missing": "找不到 {path}",
        "failure_permission": "没有权限访问 {path}",
        "failure_disk_full": "磁盘已满",
        "failure_download": "无法从 Telegram 下载文件，请稍后重试",
        "failure_internal": "内部错误，详情见日志",
        "skipped": "跳过 {path}：{reason}",
        "adding": "正在添加 {name} 并更新索引……",
        "added": "已添加《{title}》（{passages} 段），现在可以就它提问了。\n索引：{summary}",
        "added_unreadable": "无法添加 {name}：{reason}",
        "add_failed": "无法添加 {name}：{error}",
        "bad_suffix": "只能添加 .txt、.md 或 .html 文件（收到的是 {name}）。",
        "build_report": (
            "{articles} 篇文章，{passages} 个段落（新读 {read} 篇，未变 {reused} 篇，"
            "移除 {removed} 篇），跳过 {skipped} 个文件"
        ),
        "action_remove": "删除文章",
        "remove_usage": "用法：/remove 文件名（/sources 列出的文件名，或数据文件夹下的路径）",
        "removing": "正在删除 {names} 并更新索引……",
        "removed": "已删除 {names}，它不会再用来回答问题。\n索引：{summary}",
        "remove_failed": "无法删除：{error}（没有删除任何文件）",
        # why an article cannot be added or removed (index.add.REASONS; English from there)
        "add_error_too_large": "文件太大（{size} 字节，上限 {limit} 字节）",
        "add_error_unreadable": "不是可读的文章：{reason}",
        "add_error_no_text": "里面没有找到文章正文（未添加）",
        "add_error_duplicate": "数据文件夹里已有同样的文章：{existing}",
        "add_error_escapes": "文件名超出了数据文件夹",
        "add_error_not_a_file": "{path} 不是文件",
        "add_error_bad_link": "不是有效的链接",
        "add_error_not_http": "只能添加 http:// 或 https:// 链接",
        "add_error_unresolvable": "无法解析域名 {host}",
        "add_error_private": (
            "{host} 是本机或内网地址，已拒绝（如需允许，请设置 QABOT_ALLOW_PRIVATE_FETCH=true）"
        ),
        "add_error_http_status": "网页返回了错误状态码 {status}",
        "add_error_not_a_page": "不是网页（{content_type}）",
        "add_error_page_too_large": "网页超过 {limit} 字节",
        "add_error_too_slow": "网页下载超过了 {seconds:g} 秒",
        "add_error_fetch_failed": "无法获取网页",
        "add_error_not_found": "数据文件夹里没有 {name}",
        "add_error_outside": "{name} 不在数据文件夹里",
        "add_error_ambiguous": "有多个文件叫 {name}：{paths}；请给出数据文件夹下的路径",
        "add_error_not_an_article": "{name} 不是文章文件",
        "too_large": "文件太大（{size} 字节，上限 {limit} 字节）。",
        "unknown_command": "不认识这个命令。发送 /help 查看用法。",
        "error": "抱歉，处理你的消息时出了点问题，请稍后再试。",
    },
    "en": {
        # answers (bot.render)
        "answer": "Answer",
        "likely": "Probably",
        "check": " (check the passage)",
        "evidence": "No exact answer found; the closest passage:",
        "source": "Source",
        "others": "Other figures",
        "abstain": "Sorry, the articles do not answer that.",
        "unknown_name": "The articles do not mention {names}.",
        "empty": "Please ask a question about the articles, for example: How many service stations does Hami have?",
        "hint": "Ask about figures, amounts, areas, dates or names in the articles, e.g. “How many service stations does the city have?” or “How much was invested?”. Send /sources to list the articles.",
        "small_talk": "Hello! I answer factual questions about the indexed articles.",
        "thanks": "You're welcome! Ask me anything else about the articles.",
        "report_title": "Questions in the last {days} days (UTC): {total}, {answered} answered ({share})",
        "report_per_day": "Questions a day:",
        "report_unanswered": "Most asked unanswered questions:",
        "report_no_unanswered": "Most asked unanswered questions: none",
        "report_feedback": "Feedback: {up} thumbs up, {down} thumbs down",
        "report_thumbs_down": "Recent thumbs-down:",
        "report_abstained": "(no answer)",
        "back": "◂ Back",
        "action_stats": "see the statistics",
        "stats_off": "The question log is off (QABOT_QUESTION_LOG=false): no statistics.",
        "feedback_thanks": "Thanks for the feedback!",
        "start": "Hello, {name}! I answer factual questions about the indexed news articles and quote where the answer comes from. Just send a question, for example: {example}\nSend /help for more.",
        "bye": "Goodbye! Come back with any question about the articles.",
        "understood": "(Understood as: {question})",
        "not_a_question": "Please ask a question, for example “How many … does {topic} have?”.",
        "related": "Related passages",
        "confidence": "confidence",
        # the Telegram bot (bot.telegram)
        "help": (
            "<b>Hello! I answer factual questions about a set of news articles.</b>\n"
            "You get a short answer, the passage it comes from and the article (title, date, "
            "source); when the articles do not say, I say so.\n\n"
            "I know {articles} articles, {passages} passages (/sources lists them).\n\n"
            "Try:\n{examples}\n\n"
            "In a private chat just send a question; in a group mention @{username}, reply to "
            "me, or use /ask QUESTION.\n"
            "Commands: /help · /sources · /ask"
        ),
        "help_admin": (
            "\n\n<b>Administrators</b>: /reindex rebuilds the index; /remove FILE_NAME deletes "
            "an article; send a .txt, .md or .html file, or a message that is just an http(s) "
            "link, to add an article."
        ),
        "sources_head": "<b>Indexed articles ({count})</b>",
        "sources_none": "No articles are indexed yet.",
        "passages": "{count} passages",
        "more": "More passages ▸",
        "more_head": "<b>{label} {first}–{last}</b> · question: {question}",
        "more_none": "No more related passages.",
        "expired": "This button has expired; please ask again.",
        "slow_down": "You are asking too fast; please wait a minute.",
        "private_bot": "Sorry, this is a private bot that only answers in certain chats.",
        "admins_only": "Sorry, only administrators can {action}. Ask a question, or send /help.",
        "action_reindex": "rebuild the index",
        "action_add": "add articles",
        "reindexing": "Rebuilding the index… (questions are still answered meanwhile)",
        "reindexed": "Index updated: {summary}",
        "reindex_failed": "Rebuilding the index failed: {error}",
        "failure_missing": "{path} does not exist",
        "failure_permission": "no permission to access {path}",
        "failure_disk_full": "the disk is full",
        "failure_download": "the file could not be downloaded from Telegram; try again later",
        "failure_internal": "an internal error (details in the log)",
        "skipped": "skipped {path}: {reason}",
        "adding": "Adding {name} and updating the index…",
        "added": "Added “{title}” ({passages} passages); you can ask about it now.\nIndex: {summary}",
        "added_unreadable": "Cannot add {name}: {reason}",
        "add_failed": "Cannot add {name}: {error}",
        "bad_suffix": "Only .txt, .md or .html files can be added (got {name}).",
        "build_report": (
            "{articles} articles, {passages} passages ({read} read, {reused} unchanged, "
            "{removed} removed), {skipped} skipped"
        ),
        "action_remove": "remove articles",
        "remove_usage": "Usage: /remove FILE_NAME (as /sources lists it, or a path in the data folder)",
        "removing": "Removing {names} and updating the index…",
        "removed": "Removed {names}; it no longer answers questions.\nIndex: {summary}",
        "remove_failed": "Cannot remove: {error} (nothing was removed)",
        # the reasons an article cannot be added or removed are index.add.REASONS
        "too_large": "The file is too large ({size} bytes, limit {limit}).",
        "unknown_command": "I do not know that command. Send /help.",
        "error": "Sorry, something went wrong with your message; please try again later.",
    },
}
EXAMPLES = {
    "zh": ["哈密有多少个服务站？", "张掖投入了多少资金？", "哈密连续几次荣膺全国双拥模范城？"],
    "en": ["How many service stations does Hami have?", "张掖投入了多少资金？"],
}
COMMANDS = {
    "zh": [
        ("help", "用法和示例问题"),
        ("sources", "收录的文章"),
        ("ask", "提问（群组中使用）：/ask 问题"),
        ("start", "开始"),
    ],
    "en": [
        ("help", "how to ask, with examples"),
        ("sources", "the indexed articles"),
        ("ask", "ask a question (in groups): /ask QUESTION"),
        ("start", "start"),
    ],
}


# The build's and the reader's reasons for skipping a file (English, as the CLI prints them),
# in Chinese; a reason not listed here is shown as it is.
REASONS_ZH: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), zh)
    for p, zh in [
        (r"empty file", "空文件"),
        (r"binary file", "二进制文件"),
        (r"undecodable .*|unknown text encoding", "无法识别的文字编码"),
        (r"no article text found.*", "没有找到文章正文"),
        (r"not an article file \((?P<what>.*)\)", "不是文章文件（{what}）"),
        (r"too large.*", "文件太大"),
        (r"cannot read.*", "无法读取"),
        (r"same content as (?P<owner>.*)", "与 {owner} 内容相同"),
        (r"broken symbolic link", "失效的符号链接"),
        (r"symbolic link to outside the data folder", "指向数据文件夹之外的符号链接"),
        (r"symbolic link loop", "循环的符号链接"),
        (r"not a regular file", "不是普通文件"),
        (r"file name is not valid UTF-8.*", "文件名的编码无效（请重命名）"),
    ]
]


def reason(why: str, lang: str | None) -> str:
    """A file's skip reason (`BuildReport.skipped`, `UnreadableFile`) in `lang`."""
    if lang_of(lang) == "en":
        return why
    for pattern, zh in REASONS_ZH:
        if found := pattern.fullmatch(why):
            return zh.format(**found.groupdict())
    return why


def lang_of(lang: str | None) -> str:
    """The catalogue's language for a language code: "en" for English, else "zh"."""
    return "en" if lang == "en" else "zh"


def text(name: str, lang: str | None, /, **fields: object) -> str:
    """The message `name` in `lang` ("en", else Chinese), with `fields` filled in if given.

    `name` and `lang` are positional-only, so a field may be called `name` (`adding`).
    """
    message = MESSAGES[lang_of(lang)][name]
    return message.format(**fields) if fields else message


__all__ = ["COMMANDS", "EXAMPLES", "MESSAGES", "lang_of", "reason", "text"]
