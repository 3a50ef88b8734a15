"""All configuration in one place: `QABOT_*` environment variables, or a `.env` file when present."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


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
    admin_ids: Annotated[list[int], NoDecode] = []
    allowed_chat_ids: Annotated[list[int], NoDecode] = []
    rate_limit_per_minute: int = Field(default=20, ge=1)
    max_upload_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    fetch_timeout: float = Field(default=15.0, gt=0)
    allow_private_fetch: bool = False

    @field_validator("admin_ids", "allowed_chat_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        """Accept `1,2,3` (or spaces) as well as a list."""
        if isinstance(value, str):
            return [int(part) for part in value.replace(",", " ").split()]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("telegram_token", "webhook_secret", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value
