"""Which links an article may carry as the address people open: absolute http(s) URLs only.

An article's URL comes from its page (`<link rel="canonical">`, `<meta property="og:url">`), its
front matter (`url:`) or the link it was added from. Anything else (`javascript:`, `mailto:`,
a relative path, which this module resolves against nothing) is no address to show anyone.
Kept dependency-free: the renderers check a stored URL again before making it a link.
"""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_URL_CHARS = 2048


def web_url(value: object) -> str | None:
    """`value` stripped when it is an absolute http(s) URL with a host, else None."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    if not url or len(url) > MAX_URL_CHARS:
        return None
    # no spaces or control characters inside an address (a URL is written without them)
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not one
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    return url
