"""Turn an `Answer` into what people read: plain text for the terminal, HTML for Telegram, JSON.

Labels follow the question's language (Chinese or English); quoted passages stay verbatim.
"""

from __future__ import annotations

import html
from dataclasses import asdict

from bot.qa.question import clean_question
from bot.qa.result import Answer, Citation

LABELS = {
    "zh": {
        "answer": "答案",
        "source": "出处",
        "others": "其他相关数字",
        "abstain": "抱歉，文章中没有找到这个问题的答案。",
        "unknown_name": "文章中没有提到{names}。",
        "empty": "请输入一个关于文章内容的问题，例如：哈密有多少个服务站？",
        "hint": "可以问文章里的数字、金额、面积、时间或名称，例如“某地有多少个服务站？”“投入了多少资金？”。发送 /sources 查看收录的文章。",
        "small_talk": "你好！我回答关于收录文章的事实问题。",
        "not_a_question": "请用一个问题来问，例如“{topic}有多少……？”。",
        "related": "相关段落",
        "confidence": "置信度",
    },
    "en": {
        "answer": "Answer",
        "source": "Source",
        "others": "Other figures",
        "abstain": "Sorry, the articles do not answer that.",
        "unknown_name": "The articles do not mention {names}.",
        "empty": "Please ask a question about the articles, for example: How many service stations does Hami have?",
        "hint": "Ask about figures, amounts, areas, dates or names in the articles, e.g. “How many service stations does the city have?” or “How much was invested?”. Send /sources to list the articles.",
        "small_talk": "Hello! I answer factual questions about the indexed articles.",
        "not_a_question": "Please ask a question, for example “How many … does {topic} have?”.",
        "related": "Related passages",
        "confidence": "confidence",
    },
}


def labels(lang: str) -> dict[str, str]:
    return LABELS["en" if lang == "en" else "zh"]


def source_line(citation: Citation) -> str:
    """`Title · 2024-08-01 · Source` (only the parts the article states)."""
    parts = [f"《{citation.title}》"] + [p for p in (citation.date, citation.source) if p]
    return " · ".join(parts)


def abstention_text(answer: Answer) -> str:
    words = labels(answer.lang)
    if answer.reason == "empty":
        return words["empty"]
    if answer.reason == "small_talk":
        return words["small_talk"]
    if answer.reason == "not_a_question":
        return words["not_a_question"].format(topic=clean_question(answer.question)[:20])
    if answer.reason and answer.reason.startswith("unknown_name:"):
        names = answer.reason.split(":", 1)[1]
        return words["unknown_name"].format(names=names) + " " + words["abstain"]
    return words["abstain"]


def render_text(answer: Answer) -> str:
    """The terminal reply: answer, quoted passage, article; or a plain abstention."""
    words = labels(answer.lang)
    if answer.answer is None or answer.citation is None:
        if answer.reason == "not_a_question" and answer.passages:
            top = answer.passages[0]
            return (
                f"{abstention_text(answer)}\n{words['related']}:\n> {top.text}\n"
                f"{words['source']}: {source_line(top.citation)}"
            )
        return f"{abstention_text(answer)}\n{words['hint']}"
    lines = [
        f"{words['answer']}: {answer.answer}",
        f"> {answer.citation.text}",
        f"{words['source']}: {source_line(answer.citation)}",
    ]
    if answer.alternatives:
        others = "; ".join(f"{a.answer} ({a.context})" for a in answer.alternatives)
        lines.append(f"{words['others']}: {others}")
    return "\n".join(lines)


def render_html(answer: Answer) -> str:
    """The Telegram reply in Telegram's HTML subset; every piece of text is escaped."""
    words = labels(answer.lang)
    if answer.answer is None or answer.citation is None:
        if answer.reason == "not_a_question" and answer.passages:
            top = answer.passages[0]
            return (
                f"{html.escape(abstention_text(answer))}\n{html.escape(words['related'])}:\n"
                f"<blockquote>{html.escape(top.text)}</blockquote>\n"
                f"{html.escape(words['source'])}: {html.escape(source_line(top.citation))}"
            )
        return f"{html.escape(abstention_text(answer))}\n\n<i>{html.escape(words['hint'])}</i>"
    parts = [
        f"<b>{html.escape(answer.answer)}</b>",
        f"<blockquote>{html.escape(answer.citation.text)}</blockquote>",
        f"{html.escape(words['source'])}: {html.escape(source_line(answer.citation))}",
    ]
    if answer.alternatives:
        others = "\n".join(
            f"• <b>{html.escape(a.answer)}</b>: {html.escape(a.context)}"
            for a in answer.alternatives
        )
        parts.append(f"{html.escape(words['others'])}:\n{others}")
    return "\n".join(parts)


def answer_json(answer: Answer) -> dict:
    """The JSON shape of `qabot ask --json` (see the README)."""
    citation = asdict(answer.citation) if answer.citation else None
    return {
        "question": answer.question,
        "answer": answer.answer,
        "confidence": answer.confidence,
        "kind": answer.kind,
        "citation": citation,
        "alternatives": [
            {"answer": a.answer, "context": a.context, "citation": asdict(a.citation)}
            for a in answer.alternatives
        ],
        "passages": [{"text": p.text, "score": p.score, "title": p.title} for p in answer.passages],
    }
