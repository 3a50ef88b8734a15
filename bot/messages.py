"""Every text qabot shows people, in Chinese and English, keyed by name: `text(name, lang)`.

Used by `bot.render` (answer labels) and `bot.telegram` (help, commands, replies).
"""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "zh": {
        # answers (bot.render)
        "answer": "答案",
        "source": "出处",
        "others": "其他相关数字",
        "abstain": "抱歉，文章中没有找到这个问题的答案。",
        "unknown_name": "文章中没有提到{names}。",
        "empty": "请输入一个关于文章内容的问题，例如：哈密有多少个服务站？",
        "hint": "可以问文章里的数字、金额、面积、时间或名称，例如“某地有多少个服务站？”“投入了多少资金？”。发送 /sources 查看收录的文章。",
        "small_talk": "你好！我回答关于收录文章的事实问题。",
        "thanks": "不客气！还有问题随时问我。",
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
            "\n\n<b>管理员</b>：/reindex 重建索引；发送 .txt、.md 或 .html 文件，"
            "或只含一个 http(s) 链接的消息，即可添加文章。"
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
        "skipped": "跳过 {path}：{reason}",
        "adding": "正在添加 {name} 并更新索引……",
        "added": "已添加《{title}》（{passages} 段），现在可以就它提问了。\n索引：{summary}",
        "added_unreadable": "无法添加 {name}：{reason}",
        "add_failed": "无法添加 {name}：{error}",
        "bad_suffix": "只能添加 .txt、.md 或 .html 文件（收到的是 {name}）。",
        "too_large": "文件太大（{size} 字节，上限 {limit} 字节）。",
        "unknown_command": "不认识这个命令。发送 /help 查看用法。",
        "error": "抱歉，处理你的消息时出了点问题，请稍后再试。",
    },
    "en": {
        # answers (bot.render)
        "answer": "Answer",
        "source": "Source",
        "others": "Other figures",
        "abstain": "Sorry, the articles do not answer that.",
        "unknown_name": "The articles do not mention {names}.",
        "empty": "Please ask a question about the articles, for example: How many service stations does Hami have?",
        "hint": "Ask about figures, amounts, areas, dates or names in the articles, e.g. “How many service stations does the city have?” or “How much was invested?”. Send /sources to list the articles.",
        "small_talk": "Hello! I answer factual questions about the indexed articles.",
        "thanks": "You're welcome! Ask me anything else about the articles.",
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
            "\n\n<b>Administrators</b>: /reindex rebuilds the index; send a .txt, .md or .html "
            "file, or a message that is just an http(s) link, to add an article."
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
        "skipped": "skipped {path}: {reason}",
        "adding": "Adding {name} and updating the index…",
        "added": "Added “{title}” ({passages} passages); you can ask about it now.\nIndex: {summary}",
        "added_unreadable": "Cannot add {name}: {reason}",
        "add_failed": "Cannot add {name}: {error}",
        "bad_suffix": "Only .txt, .md or .html files can be added (got {name}).",
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


def lang_of(lang: str | None) -> str:
    """The catalogue's language for a language code: "en" for English, else "zh"."""
    return "en" if lang == "en" else "zh"


def text(name: str, lang: str | None, /, **fields: object) -> str:
    """The message `name` in `lang` ("en", else Chinese), with `fields` filled in if given.

    `name` and `lang` are positional-only, so a field may be called `name` (`adding`).
    """
    message = MESSAGES[lang_of(lang)][name]
    return message.format(**fields) if fields else message


__all__ = ["COMMANDS", "EXAMPLES", "MESSAGES", "lang_of", "text"]
