"""Find the claims: every module in the lemmas folder that defines ``CLAIM``.

Claims are plug-ins loaded from a folder by path, so adding a module is all it takes (no registry).
The library never imports them by name; ``lemmas/`` depends on ``verify``, not the reverse.

A module that raises while it is imported is reported (a warning naming the file and the exception) and
skipped, so one broken module does not take ``verify list``, the other claims or the book pages down with it;
``load_claims(..., errors=[])`` hands the failures to the caller (``verify list``/``run`` exit 1 on them).
"""
from __future__ import annotations

import dataclasses
import importlib.util
import os
import sys
import warnings
from pathlib import Path

from .claims import Claim


@dataclasses.dataclass(frozen=True)
class ImportFailure:
    """A claim module that raised while it was imported: its file and the exception, in one line."""
    path: Path
    error: str

    def __str__(self) -> str:
        return f"lemma module {self.path} failed to import: {self.error}"


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0]}" if text else type(e).__name__


def default_lemmas_dir() -> Path:
    """``./lemmas`` if it exists, else the ``lemmas/`` beside the installed package (editable installs)."""
    here = Path.cwd() / "lemmas"
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[2] / "lemmas"


def load_claims(folder: str | os.PathLike | None = None, errors: list | None = None) -> dict[str, Claim]:
    """Import every ``*.py`` in ``folder`` and its sub-folders (not ``_*`` or ``conftest.py``) and
    collect its ``CLAIM``. Sub-folders mirror the book's chapters; a module is registered as
    ``lemmas.<stem>``, so stems are unique across folders (two modules of one stem: a ``ValueError``).

    A module that raises on import is skipped with a warning; with ``errors`` (a list), an
    :class:`ImportFailure` is appended to it for each such module."""
    folder = Path(folder) if folder else default_lemmas_dir()
    if not folder.is_dir():
        raise ValueError(f"lemmas folder {str(folder)!r} does not exist")
    claims: dict[str, Claim] = {}
    seen: dict[str, Path] = {}
    for path in sorted(folder.rglob("*.py")):
        if path.name.startswith("_") or path.name == "conftest.py":
            continue
        if any(part.startswith((".", "_")) for part in path.relative_to(folder).parts[:-1]):
            continue
        if path.stem in seen:
            raise ValueError(f"two claim modules share the name {path.stem!r}: {seen[path.stem]} and {path}")
        seen[path.stem] = path
        mod_name = f"lemmas.{path.stem}"
        module = sys.modules.get(mod_name)
        if module is not None and Path(getattr(module, "__file__", "") or "").resolve() != path.resolve():
            module = None  # a module of the same stem from another folder: import this one
        if module is None:
            spec = importlib.util.spec_from_file_location(mod_name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[mod_name] = module
            try:
                spec.loader.exec_module(module)
            except Exception as e:  # noqa: BLE001 - any error in a plug-in is reported, not fatal
                sys.modules.pop(mod_name, None)
                failure = ImportFailure(path, _one_line(e))
                warnings.warn(str(failure), stacklevel=2)
                if errors is not None:
                    errors.append(failure)
                continue
        claim = getattr(module, "CLAIM", None)
        if isinstance(claim, Claim):
            if claim.name in claims:
                raise ValueError(f"two modules define claim {claim.name!r}")
            claims[claim.name] = claim
    return claims


def claim_module(claim: Claim):
    """The loaded module that defines ``claim`` (for its optional presentation hooks, e.g. ``findings``)."""
    for name, module in list(sys.modules.items()):
        if name.startswith("lemmas.") and getattr(module, "CLAIM", None) is claim:
            return module
    raise ValueError(f"claim {claim.name!r} was not loaded by load_claims")


def find_repo_dir(start: str | os.PathLike | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: cwd) that holds ``lemmas/``; book pages run
    from ``book/...`` and use it to find ``lemmas/`` and ``results/``."""
    here = Path(start or Path.cwd()).resolve()
    for folder in [here, *here.parents]:
        if (folder / "lemmas").is_dir():
            return folder
    return Path(__file__).resolve().parents[2]
