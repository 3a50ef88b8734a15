"""All configuration in one place: `QABOT_*` environment variables, or a `.env` file when present."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
IDS_EXPECTED = {
    "admin_ids": "must be comma-separated numeric Telegram user ids, e.g. 11111,22222",
    "allowed_chat_ids": (
        "must be comma-separated numeric Telegram chat ids (groups negative), "
        "e.g. 11111,-1001234567890"
    ),
}
PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")


class Settings(BaseSettings):
    """qabot's settings; `.env.example` documents each one."""

    model_config = SettingsConfigDict(
        env_prefix="QABOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Path("data/articles")
    index_path: Path = Path("data/index.sqlite")
    top_k: int = Field(default=5, ge=1, le=50)
    log_level: str = "WARNING"
    question_log: bool = True
    question_log_path: Path = Path("data/questions.sqlite")
    # updates received and not yet answered, so a restart answers what a crash interrupted
    update_journal_path: Path = Path("data/updates.sqlite")

    telegram_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_file_url: str | None = None
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    # every Bot API request goes through this proxy: http://host:port or socks5://host:port
    proxy_url: str | None = None
    # GET /healthz answers on this port while the bot runs (off when unset)
    health_port: int | None = Field(default=None, ge=1, le=65535)
    health_listen: str | None = None  # default: QABOT_WEBHOOK_LISTEN
    admin_ids: Annotated[list[int], NoDecode] = []
    allowed_chat_ids: Annotated[list[int], NoDecode] = []
    rate_limit_per_minute: int = Field(default=20, ge=1)
    max_upload_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    fetch_timeout: float = Field(default=15.0, gt=0)
    allow_private_fetch: bool = False

    @field_validator("admin_ids", "allowed_chat_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object, info: ValidationInfo) -> object:
        """Accept `1,2,3` (or spaces) as well as a list."""
        if isinstance(value, str):
            parts = value.replace(",", " ").split()
            if not all(part.lstrip("-").isdigit() for part in parts):
                raise ValueError(IDS_EXPECTED[info.field_name])
            return [int(part) for part in parts]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _known_level(cls, value: object) -> object:
        """One of Python's logging levels, in any case (`debug` is `DEBUG`)."""
        if isinstance(value, str):
            if value.strip().upper() not in LOG_LEVELS:
                raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
            return value.strip().upper()
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_chars(cls, value: SecretStr | None) -> SecretStr | None:
        """Telegram accepts 1-256 letters, digits, `_` and `-` as a webhook's secret token."""
        if value is not None and not re.fullmatch(
            r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()
        ):
            raise ValueError("must be 1 to 256 letters, digits, _ or - (Telegram's rule)")
        return value

    @field_validator(
        "telegram_token",
        "webhook_secret",
        "proxy_url",
        "health_port",
        "health_listen",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("proxy_url")
    @classmethod
    def _proxy_scheme(cls, value: str | None) -> str | None:
        """httpx speaks HTTP(S) and SOCKS5 proxies; anything else is a typo caught at start."""
        if value is None:
            return None
        value = value.strip()
        scheme, separator, rest = value.partition("://")
        if not separator or not rest or scheme.lower() not in PROXY_SCHEMES:
            raise ValueError(
                "QABOT_PROXY_URL must look like http://host:port or socks5://host:port"
            )
        return value


# ------------------------------------------------------------------ invalid settings, said plainly

# what each pydantic error type means for a setting; a validator's own ValueError says itself
EXPECTED = {
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "int_type": "must be a whole number",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "greater_than_equal": "must be at least {ge}",
    "greater_than": "must be more than {gt}",
    "less_than_equal": "must be at most {le}",
    "less_than": "must be less than {lt}",
    "string_type": "must be text",
    "list_type": "must be a list",
}


def settings_errors(error: ValidationError) -> list[str]:
    """One line per invalid setting: `QABOT_TOP_K=0: must be at least 1`, naming the variable,
    its value (never a secret's: the token, the webhook secret; a link's password masked)
    and what is allowed."""
    lines = []
    for problem in error.errors(include_url=False):
        field = str(problem["loc"][0]) if problem["loc"] else ""
        variable = f"QABOT_{field.upper()}" if field else "QABOT settings"
        info = Settings.model_fields.get(field)
        secret = info is not None and "SecretStr" in repr(info.annotation)
        kind = problem["type"]
        context = problem.get("ctx") or {}
        if kind == "value_error":
            expected = str(context.get("error", problem["msg"]))
        elif kind in EXPECTED:
            expected = EXPECTED[kind].format(**context)
        else:
            expected = problem["msg"][:1].lower() + problem["msg"][1:]
        if secret:
            lines.append(f"{variable} (value not shown): {expected}")
        else:
            lines.append(f"{variable}={_shown(problem.get('input'))}: {expected}")
    return lines


def _shown(value: object) -> str:
    """A setting's value on one line: control characters escaped, a password in a link
    (`http://user:pass@host`) masked, a long value shortened."""
    text = value if isinstance(value, str) else repr(value)
    text = re.sub(r"(://[^/@\s:]*:)[^/@\s]*@", r"\1***@", text)
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text if len(text) <= 80 else text[:77] + "..."
