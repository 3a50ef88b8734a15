"""Take articles out of the data directory: `qabot index remove NAME...` and the bot's /remove.

A NAME is a file name (found anywhere under the data folder, when only one file has it), a
path relative to the data folder, or a path (absolute or from the working directory) to a
file inside it. Anything else is refused before a file is deleted: a path outside the data
folder, a name that is not there, a name several files share, a folder.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from index.add import AddError
from index.ingest import iter_article_files


class RemoveError(AddError):
    """The article cannot be removed; `key` and `fields` as `AddError`'s."""


def resolve_article(name: str, data_dir: Path) -> Path:
    """The file under `data_dir` that `name` means (see the module docstring)."""
    data_dir = Path(data_dir)
    root = data_dir.resolve()

    def checked(candidate: Path) -> Path:
        resolved = candidate.parent.resolve() / candidate.name  # a link itself, not its target
        if not resolved.is_relative_to(root) or resolved == root:
            raise RemoveError("outside", name=name)
        if not resolved.is_file() and not resolved.is_symlink():
            raise RemoveError("not_an_article", name=name)
        return resolved

    def exists(candidate: Path) -> bool:
        return candidate.exists() or candidate.is_symlink()

    if not name.strip():
        raise RemoveError("not_found", name=name)
    given = Path(name).expanduser()
    if not given.is_absolute() and exists(data_dir / given):
        return checked(data_dir / given)
    if "/" not in name and "\\" not in name:
        found = [p for p in iter_article_files(data_dir) if p.name == name]
        if len(found) == 1:
            return checked(found[0])
        if found:
            paths = ", ".join(p.relative_to(data_dir).as_posix() for p in found)
            raise RemoveError("ambiguous", name=name, paths=paths)
    if exists(given):
        return checked(given)
    meant = given if given.is_absolute() else data_dir / given
    if not (meant.parent.resolve() / meant.name).is_relative_to(root):
        raise RemoveError("outside", name=name)
    raise RemoveError("not_found", name=name)


def remove_articles(names: Iterable[str], data_dir: Path) -> list[str]:
    """Delete the files `names` mean from `data_dir`; every name is checked before any file
    is deleted (one bad name: nothing deleted, `RemoveError`). Returns their paths relative
    to the data folder, in the order given."""
    root = Path(data_dir).resolve()
    paths: list[Path] = []
    for name in names:
        path = resolve_article(name, data_dir)
        if path not in paths:
            paths.append(path)
    for path in paths:
        path.unlink(missing_ok=True)
    return [path.relative_to(root).as_posix() for path in paths]


__all__ = ["RemoveError", "remove_articles", "resolve_article"]
