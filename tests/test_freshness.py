"""Stale and dirty records (verify.harness.freshness): the code closure, its hash, and the verdict on a record."""
import textwrap

from verify.harness.freshness import closure_hash, code_closure, code_root, freshness


def _tree(tmp_path):
    (tmp_path / "verify" / "sub").mkdir(parents=True)
    (tmp_path / "verify" / "__init__.py").write_text("")
    (tmp_path / "verify" / "sub" / "__init__.py").write_text("from . import leaf\n")
    (tmp_path / "verify" / "sub" / "leaf.py").write_text("X = 1\n")
    (tmp_path / "verify" / "other.py").write_text("Y = 2\n")
    (tmp_path / "verify" / "mid.py").write_text("from .sub.leaf import X\nimport os\n")
    lem = tmp_path / "lemmas"
    lem.mkdir()
    (lem / "claim_x.py").write_text(textwrap.dedent("""
        import numpy
        from verify.mid import X
        def f():
            from verify import other  # a nested import counts too
    """))
    return lem / "claim_x.py"


def test_closure_follows_imports_through_verify_only(tmp_path):
    mod = _tree(tmp_path)
    names = {p.relative_to(tmp_path).as_posix() for p in code_closure(mod, tmp_path)}
    assert names == {"lemmas/claim_x.py", "verify/__init__.py", "verify/mid.py", "verify/other.py",
                     "verify/sub/__init__.py", "verify/sub/leaf.py"}


def test_a_changed_file_in_the_closure_makes_the_record_stale(tmp_path):
    mod = _tree(tmp_path)
    files = code_closure(mod, tmp_path)
    h = closure_hash(files, tmp_path)
    rec = {"provenance": {"git_commit": "unknown", "code_hash": h}}
    assert freshness(rec, files, tmp_path).stale is False
    (tmp_path / "verify" / "sub" / "leaf.py").write_text("X = 2\n")  # a realistic edit deep in the closure
    f = freshness(rec, files, tmp_path)
    assert f.stale is True and any(b.startswith("stale") for b in f.badges())
    (tmp_path / "verify" / "unrelated.py").write_text("Z = 3\n")  # outside the closure: no effect on the hash
    assert closure_hash(code_closure(mod, tmp_path), tmp_path) == closure_hash(files, tmp_path)


def test_dirty_and_unknown_commits_are_said():
    rec = {"provenance": {"git_commit": "abc+dirty"}}
    f = freshness(rec, [], code_root())
    assert f.dirty and f.stale is None and "dirty" in f.badges() and "freshness unknown" in f.badges()


def test_the_packages_own_closure_is_found():
    files = code_closure(code_root() / "lemmas" / "paper_a" / "signal_gap.py", code_root())
    names = {p.relative_to(code_root()).as_posix() for p in files}
    assert {"verify/harness/claims.py", "verify/rhm/exact.py"} <= names
    assert not any("statements" in n for n in names)  # the papers' statement lists are data, not verdict code


def test_presentation_edits_do_not_make_a_record_stale_but_code_edits_do():
    from verify.harness.freshness import normalized_source
    base = 'CLAIM = Claim(name="x", page="p. 1", bound=lambda c: 1)\ndef f(a):\n    """doc"""\n    return a + 1\n'
    cited = base.replace('page="p. 1"', 'page="p. 2", statements=("Lemma 1",)').replace('"""doc"""', '"""other"""')
    assert normalized_source(base) == normalized_source(cited + "# a comment\n")
    assert normalized_source(base) != normalized_source(base.replace("a + 1", "a + 2"))
    assert normalized_source(base) != normalized_source(base.replace("lambda c: 1", "lambda c: 2"))
