"""Turn an `Answer` into what people read: plain text for the terminal, HTML for Telegram, JSON.

Each tier has its reply: a sure answer (`答案: …`), a likely one (`可能是: …（请核对原文）`, the
span marked in its passage), the closest passage (`没有找到确切答案，最相关的原文：`), or the
abstention with its reason. Labels follow the question's language (Chinese or English); quoted
passages stay verbatim (in text a likely span is marked `**…**`, in HTML bolded).
Where the article's address is known it is shown: after the source line in text, as the title's
link in HTML (where the answer is also bolded inside the quoted passage), as `citation.url` in
JSON.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from bot.messages import text
from bot.qa.question import clean_question
from bot.qa.result import Answer, Citation

if TYPE_CHECKING:
    from bot.questionlog import LogStats
from index.urls import web_url


def source_line(citation: Citation) -> str:
    """`《Title》 · 2024-08-01 · Source · https://…` (only the parts the article states)."""
    parts = [f"《{citation.title}》"] + [p for p in (citation.date, citation.source) if p]
    url = web_url(citation.url)
    return " · ".join([*parts, url] if url else parts)


def source_html(citation: Citation) -> str:
    """`source_line` in Telegram HTML: the title a link to the article when its address is
    known (the address itself then not written out), every piece escaped."""
    url = web_url(citation.url)  # checked again: a hand-edited index could hold anything
    title = html.escape(citation.title)
    if url:
        title = f'<a href="{html.escape(url, quote=True)}">{title}</a>'
    parts = [f"《{title}》"] + [html.escape(p) for p in (citation.date, citation.source) if p]
    return " · ".join(parts)


def _around_answer(citation: Citation) -> tuple[str, str, str] | None:
    """The quoted passage as (before, answer, after) where the answer lies in it, else None."""
    quote, span = citation.text, citation.answer_span
    if span is None or not 0 <= span[0] < span[1] <= len(quote):
        return None
    start, end = span
    return quote[:start], quote[start:end], quote[end:]


def quote_text(citation: Citation) -> str:
    """The quoted passage for the terminal, the answer marked `**…**` where it lies in it."""
    parts = _around_answer(citation)
    return f"{parts[0]}**{parts[1]}**{parts[2]}" if parts else citation.text


def quote_html(citation: Citation) -> str:
    """The quoted passage, escaped, with the answer in bold where it lies in it."""
    parts = _around_answer(citation)
    if parts is None:
        return html.escape(citation.text)
    before, answer, after = map(html.escape, parts)
    return f"{before}<b>{answer}</b>{after}"


def abstention_text(answer: Answer) -> str:
    lang = answer.lang
    if answer.reason == "empty":
        return text("empty", lang)
    if answer.reason == "small_talk":  # a greeting is greeted, thanks are welcomed
        return text(answer.kind if answer.kind in {"thanks", "bye"} else "small_talk", lang)
    if answer.reason == "not_a_question":
        return text("not_a_question", lang, topic=clean_question(answer.question)[:20])
    if answer.reason and answer.reason.startswith("unknown_name:"):
        names = answer.reason.split(":", 1)[1]
        return text("unknown_name", lang, names=names) + " " + text("abstain", lang)
    return text("abstain", lang)


def understood_line(answer: Answer) -> str | None:
    """A follow-up's question as completed from the conversation (`理解为：张掖…？`)."""
    return (
        text("understood", answer.lang, question=answer.understood) if answer.understood else None
    )


def render_text(answer: Answer) -> str:
    """The terminal reply, after the question as understood when it was a follow-up."""
    understood = understood_line(answer)
    reply = _render_text(answer)
    return f"{understood}\n{reply}" if understood else reply


def _render_text(answer: Answer) -> str:
    """The terminal reply of each tier: answer, quoted passage, article; or an abstention."""
    lang = answer.lang
    citation, guess = answer.citation, answer.guess
    if answer.tier == "sure" and answer.answer is not None and citation is not None:
        lines = [f"{text('answer', lang)}: {answer.answer}", f"> {citation.text}"]
    elif guess is not None and citation is not None:
        lines = [
            f"{text('likely', lang)}: {guess.answer}{text('check', lang)}",
            f"> {quote_text(citation)}",
        ]
    elif answer.tier == "evidence" and citation is not None:
        lines = [text("evidence", lang), f"> {citation.text}"]
    elif answer.reason == "not_a_question" and answer.passages:
        top = answer.passages[0]
        return (
            f"{abstention_text(answer)}\n{text('related', lang)}:\n> {top.text}\n"
            f"{text('source', lang)}: {source_line(top.citation)}"
        )
    else:
        return f"{abstention_text(answer)}\n{text('hint', lang)}"
    lines.append(f"{text('source', lang)}: {source_line(citation)}")
    if answer.alternatives and answer.tier in ("sure", "likely"):
        others = "; ".join(f"{a.answer} ({a.context})" for a in answer.alternatives)
        lines.append(f"{text('others', lang)}: {others}")
    return "\n".join(lines)


def render_html(answer: Answer) -> str:
    """The Telegram reply, after the question as understood when it was a follow-up."""
    understood = understood_line(answer)
    reply = _render_html(answer)
    return f"<i>{html.escape(understood)}</i>\n{reply}" if understood else reply


def _render_html(answer: Answer) -> str:
    """The Telegram reply of each tier in Telegram's HTML subset; every piece of text is
    escaped, the answer bolded inside the quoted passage."""
    lang = answer.lang
    citation, guess = answer.citation, answer.guess
    if answer.tier == "sure" and answer.answer is not None and citation is not None:
        head = f"<b>{html.escape(answer.answer)}</b>"
    elif guess is not None and citation is not None:
        head = (
            f"{html.escape(text('likely', lang))}: <b>{html.escape(guess.answer)}</b>"
            f"{html.escape(text('check', lang))}"
        )
    elif answer.tier == "evidence" and citation is not None:
        head = html.escape(text("evidence", lang))
    elif answer.reason == "not_a_question" and answer.passages:
        top = answer.passages[0]
        return (
            f"{html.escape(abstention_text(answer))}\n{html.escape(text('related', lang))}:\n"
            f"<blockquote>{html.escape(top.text)}</blockquote>\n"
            f"{html.escape(text('source', lang))}: {source_html(top.citation)}"
        )
    else:
        return f"{html.escape(abstention_text(answer))}\n\n<i>{html.escape(text('hint', lang))}</i>"
    parts = [
        head,
        f"<blockquote>{quote_html(citation)}</blockquote>",
        f"{html.escape(text('source', lang))}: {source_html(citation)}",
    ]
    if answer.alternatives and answer.tier in ("sure", "likely"):
        others = "\n".join(
            f"• <b>{html.escape(a.answer)}</b>: {html.escape(a.context)}"
            for a in answer.alternatives
        )
        parts.append(f"{html.escape(text('others', lang))}:\n{others}")
    return "\n".join(parts)


def citation_json(citation: Citation) -> dict:
    """A citation in JSON: `url` is null when the article's address is unknown. (Where the
    answer lies in the text is for the renderers; it is not part of the JSON shape.)"""
    return {
        "text": citation.text,
        "title": citation.title,
        "source": citation.source,
        "date": citation.date,
        "path": citation.path,
        "url": web_url(citation.url),
    }


def answer_json(answer: Answer) -> dict:
    """The JSON shape of `qabot ask --json` (see the README): `answer` is null unless the
    reply is sure; `guess` holds a likely reply's answer; `citation` is the passage the reply
    quotes (sure, likely or evidence), null for none."""
    citation = citation_json(answer.citation) if answer.citation and answer.quotes else None
    guess = answer.guess
    return {
        "question": answer.question,
        "tier": answer.tier,
        "answer": answer.answer,
        "confidence": answer.confidence,
        "kind": answer.kind,
        "guess": {
            "answer": guess.answer,
            "confidence": guess.confidence,
            "citation": citation_json(guess.citation),
        }
        if guess
        else None,
        "citation": citation,
        "alternatives": [
            {"answer": a.answer, "context": a.context, "citation": citation_json(a.citation)}
            for a in answer.alternatives
        ],
        "passages": [{"text": p.text, "score": p.score, "title": p.title} for p in answer.passages],
    }


def render_stats(stats: LogStats, lang: str = "en") -> str:
    """The question log's report (`qabot report`, the admin's /stats) as plain text lines;
    the Telegram side escapes it."""
    lines = [
        text(
            "report_title",
            lang,
            days=stats.days,
            total=stats.total,
            answered=stats.answered,
            share=f"{stats.answered_share:.0%}",
        ),
        text("report_per_day", lang),
    ]
    lines += [f"  {day.isoformat()}  {count}" for day, count in stats.per_day.items()]
    if stats.unanswered_top:
        lines.append(text("report_unanswered", lang))
        width = len(str(stats.unanswered_top[0].count))
        lines += [
            f"  {asked.count:>{width}} × {_one_line(asked.question)}"
            for asked in stats.unanswered_top
        ]
    else:
        lines.append(text("report_no_unanswered", lang))
    lines.append(text("report_feedback", lang, up=stats.thumbs_up, down=stats.thumbs_down))
    if stats.recent_thumbs_down:
        lines.append(text("report_thumbs_down", lang))
        for rated in stats.recent_thumbs_down:
            answer = (
                _one_line(rated.answer)
                if rated.answer is not None
                else text("report_abstained", lang)
            )
            where = f", {_one_line(rated.article)}" if rated.article else ""
            lines.append(
                f"  {rated.asked_at[:10]} {_one_line(rated.question)} -> {answer}"
                f" ({text('confidence', lang)} {rated.confidence:.2f}{where})"
            )
    return "\n".join(lines)


def _one_line(line: str, limit: int = 120) -> str:
    flat = " ".join(line.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
