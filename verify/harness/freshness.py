r"""Is a record still about the code that is here? Its commit, ``dirty`` state, and whether it is **stale**.

A record is *stale* when the code its claim runs has changed since it was written: the claim's module and
every module of ``verify`` it imports, directly or through other ``verify`` modules (its *code closure*,
found by reading the ``import`` statements, not by importing anything). Only changes that can change a
number count: comments, docstrings and the citation keywords of ``Claim``/``Case`` (:data:`PRESENTATION`)
are left out (:func:`normalized_source`). Records carry ``code_hash``, a
hash of that closure's files, so freshness is decided without git; for older records it is decided with
git (``git diff <commit> -- <closure>`` against the working tree). Either way the number of commits the
record is behind ``HEAD`` is reported when git can tell.
"""
from __future__ import annotations

import ast
import dataclasses
import functools
import hashlib
import os
import subprocess
from pathlib import Path
from typing import Iterable, Mapping

PACKAGE = "verify"


def code_root() -> Path:
    """The folder holding the ``verify`` package that is running (the repository, for an editable install)."""
    return Path(__file__).resolve().parents[2]


def _module_file(name: str, root: Path) -> Path | None:
    """The file of ``verify.a.b`` under ``root`` (the folder holding ``verify/``), or ``None``."""
    parts = name.split(".")
    if parts[0] != PACKAGE:
        return None
    base = root.joinpath(*parts)
    for cand in (base.with_suffix(".py"), base / "__init__.py"):
        if cand.is_file():
            return cand
    return None


def _module_name(path: Path, root: Path) -> str | None:
    try:
        rel = path.resolve().relative_to(root.resolve())
    except ValueError:
        return None
    parts = list(rel.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) if parts and parts[0] == PACKAGE else None


def _imports(path: Path, root: Path) -> set[str]:
    """The ``verify`` modules (and candidate submodules) that ``path`` imports, as dotted names."""
    tree = ast.parse(path.read_text(), filename=str(path))
    me = _module_name(path, root)
    package = (me if path.name == "__init__.py" else me.rsplit(".", 1)[0]) if me else None
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] == PACKAGE)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if package is None:
                    continue
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] != PACKAGE:
                continue
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)  # `from verify.rhm import exact` imports a module
    return out


def code_closure(module_path: str | os.PathLike, root: str | os.PathLike) -> list[Path]:
    """The files a claim module runs: itself and every ``verify`` module reachable through imports, with
    the ``__init__.py`` of each package on the way (importing ``verify.a.b`` runs them). Sorted."""
    root = Path(root)
    start = Path(module_path)
    seen: set[Path] = set()
    todo = [start]
    while todo:
        path = todo.pop()
        if path in seen or not path.is_file():
            continue
        seen.add(path)
        for name in _imports(path, root):
            parts = name.split(".")
            for k in range(1, len(parts) + 1):  # the packages on the way, then the module itself
                f = _module_file(".".join(parts[:k]), root)
                if f is not None and f not in seen:
                    todo.append(f)
    return sorted(seen)


#: Keywords of ``Claim(...)``/``Case(...)`` that only describe (citations, LaTeX labels, notes): a change to them
#: changes no number, so it does not make a record stale.
PRESENTATION = frozenset({"reference", "page", "hypotheses", "statement", "measured", "alias", "statements",
                          "note"})


def normalized_source(text: str) -> str:
    """What of a module's source can change a number: its syntax tree without comments, docstrings and the
    :data:`PRESENTATION` keywords of ``Claim``/``Case`` calls (unparsable text is kept as it is)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return text
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in ("Claim", "Case"):
                node.keywords = [k for k in node.keywords if k.arg not in PRESENTATION]
    return ast.dump(tree, annotate_fields=False, include_attributes=False)


def _rel(f: Path, root: Path) -> str:
    try:
        return f.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return f.name


def closure_hash(files: Iterable[Path], root: str | os.PathLike) -> str:
    """SHA-256 (16 hex digits) of the files' paths relative to ``root`` and their :func:`normalized_source`."""
    h = hashlib.sha256()
    root = Path(root)
    for f in sorted(Path(p).resolve() for p in files):
        h.update(_rel(f, root).encode() + b"\0" + normalized_source(f.read_text()).encode() + b"\0")
    return h.hexdigest()[:16]


def _git(repo: Path, *args: str) -> str | None:
    try:
        r = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout.strip() if r.returncode == 0 else None


@functools.lru_cache(maxsize=4096)
def _commits_behind(repo: str, commit: str) -> int | None:
    out = _git(Path(repo), "rev-list", "--count", f"{commit}..HEAD")
    return int(out) if out and out.isdigit() else None


@functools.lru_cache(maxsize=16384)
def _normalized_at(repo: str, commit: str, path: str) -> str | None:
    """:func:`normalized_source` of ``path`` at ``commit``; ``None`` if it did not exist there."""
    try:
        r = subprocess.run(["git", "show", f"{commit}:{path}"], cwd=repo, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return normalized_source(r.stdout) if r.returncode == 0 else None


@functools.lru_cache(maxsize=4096)
def _changed_since(repo: str, commit: str, files: tuple) -> tuple | None:
    """The files (relative paths) whose :func:`normalized_source` differs between ``commit`` and the working
    tree; ``None`` if git cannot tell (no repository, unknown commit)."""
    out = _git(Path(repo), "diff", "--name-only", commit, "--", *files)
    if out is None:
        return None
    changed = []
    for path in (l for l in out.splitlines() if l):
        now = Path(repo) / path
        then = _normalized_at(repo, commit, path)
        if then is None or not now.is_file() or normalized_source(now.read_text()) != then:
            changed.append(path)
    return tuple(changed)


@dataclasses.dataclass(frozen=True)
class Freshness:
    """``commit``: the full commit a record was written at; ``dirty``: the tree had uncommitted changes;
    ``behind``: commits between it and ``HEAD`` (``None``: unknown); ``stale``: its claim's code closure has
    changed since (``None``: cannot tell); ``changed``: the closure files that changed, when git says."""
    commit: str
    dirty: bool
    behind: int | None
    stale: bool | None
    changed: tuple = ()

    def badges(self) -> list[str]:
        out = []
        if self.dirty:
            out.append("dirty")
        if self.stale:
            n = f"{self.behind} commit{'s' if self.behind != 1 else ''} behind, " if self.behind is not None else ""
            out.append(f"stale ({n}code under verify/ or lemmas/ changed since)")
        elif self.stale is None:
            out.append("freshness unknown")
        return out


def freshness(record: Mapping, files: Iterable[Path], root: str | os.PathLike,
              current_hash: str | None = None) -> Freshness:
    """How ``record`` relates to the code here. ``files``: its claim's :func:`code_closure`; ``root``: the
    repository (the folder holding ``verify/`` and ``lemmas/``)."""
    root = Path(root)
    files = tuple(sorted(Path(f) for f in files))
    prov = record.get("provenance", {})
    full = str(prov.get("git_commit", "unknown"))
    dirty = full.endswith("+dirty")
    commit = full.removesuffix("+dirty")
    known = commit not in ("", "unknown")
    behind = _commits_behind(str(root.resolve()), commit) if known else None
    rec_hash = prov.get("code_hash")
    changed: tuple = ()
    if rec_hash:
        now = current_hash or closure_hash(files, root)
        stale = rec_hash != now
    elif known and not dirty:
        here = root.resolve()
        rel = tuple(Path(f).resolve().relative_to(here).as_posix() for f in files
                    if Path(f).resolve().is_relative_to(here))
        diff = _changed_since(str(root.resolve()), commit, rel)
        stale = None if diff is None else bool(diff)
        changed = diff or ()
    else:
        stale = None  # written from an uncommitted tree with no code hash: cannot tell
    return Freshness(commit=full, dirty=dirty, behind=behind, stale=stale, changed=changed)
