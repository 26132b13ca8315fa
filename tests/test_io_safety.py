"""Input/output safety (issue 13, part A): output paths checked before any work, one-line CLI errors naming the
flag, size guards, content-addressed checkpoints loaded without unpickling code, records with a run id, the
full configuration and non-finite numbers as JSON null, corrupt records skipped with a warning, and lemma
modules that fail to import reported and skipped.

``CLI_CASES`` lists bad command lines ``(what the error must name, setup(tmp) -> argv, exit code)``; every one
must end with that exit code and a one-line ``verify...: error:`` message naming it, with no traceback and no
training run.
"""
from __future__ import annotations

import json
import math
import os
import textwrap
import warnings
from fractions import Fraction
from pathlib import Path

import pytest
import torch

from verify import cli
from verify.harness import results
from verify.harness.discovery import load_claims

GRAMMAR_SEED, OTHER_GRAMMAR_SEED = "2", "3"  # V = n_c = 4, m = 2, s = 2, L = 2: K_rho > 0 under both samplers

TOY_MODULE = textwrap.dedent('''
    from verify.harness.claims import Case, Claim, Measurement
    CLAIM = Claim(name="toy", paper="B", reference="Lemma 0", statement="x \\\\le 1", measured="x",
                  relation="<=", bound=lambda c: 1, exact=lambda c: Measurement(value=c.params["x"]),
                  cases=(Case("ok", {"x": 0.5}), Case("bad", {"x": 2.0}, role="negative_control")))
''')
BROKEN_MODULE = "import no_such_module_here  # an import error\n"


def lemmas(tmp: Path, broken: bool = False) -> str:
    folder = tmp / "lemmas"
    folder.mkdir(exist_ok=True)
    (folder / "toy_claim.py").write_text(TOY_MODULE)
    if broken:
        (folder / "broken_claim.py").write_text(BROKEN_MODULE)
    return str(folder)


def a_file(tmp: Path) -> str:
    path = tmp / "a_file"
    path.write_text("x")
    return str(path)


def train(tmp: Path, *extra) -> list[str]:
    """A small ``verify train`` (seconds), then ``extra`` flags (argparse keeps the last of a repeated flag)."""
    return ["train", "--V", "4", "--m", "2", "--L", "2", "--grammar-seed", GRAMMAR_SEED, "--P", "64",
            "--num-features", "16", "--curve-points", "1", "--num-test", "64", "--device", "cpu", "--no-progress",
            "--out", str(tmp / "out"), *extra]


def run(tmp: Path, *extra) -> list[str]:
    return ["--lemmas", lemmas(tmp), "run", "--device", "cpu", "--results", str(tmp / "res"), *extra]


def checkpoint_from(tmp: Path, *flags) -> str:
    """A checkpoint written by a ``verify train`` run with ``flags`` changed."""
    path = tmp / "ckpt.pt"
    assert cli.main(train(tmp, "--checkpoint", str(path), "--out", str(tmp / "first"), *flags)) == 0
    return str(path)


def resumed_with(*flags):
    return lambda tmp: train(tmp, "--checkpoint", checkpoint_from(tmp, *flags))


def garbage_checkpoint(tmp: Path) -> str:
    path = tmp / "garbage.pt"
    path.write_bytes(b"not a checkpoint\x00")
    return str(path)


def pickled_object_checkpoint(tmp: Path) -> str:
    """A checkpoint of this very configuration with a pickled object (a Fraction) added: torch.load with
    weights_only=False would unpickle it (and any code it names)."""
    path = checkpoint_from(tmp)
    state = torch.load(path, weights_only=False)
    state["note"] = Fraction(1, 3)
    torch.save(state, path)
    return path


def no_markers(tmp: Path) -> str:
    path = tmp / "README.md"
    path.write_text("no findings block here\n")
    return str(path)


NOT_CREATABLE = "/proc/verify-io-safety/x"  # /proc refuses new folders, even to root

CLI_CASES = [
    # output paths, checked before any work
    ("--results", lambda t: run(t, "--results", a_file(t)), 2),
    ("--results", lambda t: run(t, "--results", a_file(t) + "/sub"), 2),
    ("--results", lambda t: run(t, "--results", NOT_CREATABLE), 2),
    ("--results", lambda t: run(t, "--results", ""), 2),
    ("--out", lambda t: train(t, "--out", a_file(t)), 2),
    ("--out", lambda t: train(t, "--out", a_file(t) + "/sub"), 2),
    ("--out", lambda t: train(t, "--out", NOT_CREATABLE), 2),
    ("--out", lambda t: train(t, "--out", ""), 2),
    ("--checkpoint", lambda t: train(t, "--checkpoint", str(t)), 2),
    ("--checkpoint", lambda t: train(t, "--checkpoint", a_file(t) + "/ckpt.pt"), 2),
    ("--checkpoint", lambda t: train(t, "--checkpoint", NOT_CREATABLE + "/ckpt.pt"), 2),
    # checkpoints: unreadable, unsafe, or of another configuration
    ("--checkpoint", lambda t: train(t, "--checkpoint", garbage_checkpoint(t)), 2),
    ("--checkpoint", lambda t: train(t, "--checkpoint", pickled_object_checkpoint(t)), 2),
    ("--checkpoint", resumed_with("--grammar-seed", OTHER_GRAMMAR_SEED), 2),
    ("--checkpoint", resumed_with("--sampler", "authors"), 2),
    ("--checkpoint", resumed_with("--seed", "5"), 2),
    ("--checkpoint", resumed_with("--num-features", "8"), 2),
    ("--checkpoint", resumed_with("--P", "128"), 2),
    ("--checkpoint", resumed_with("--sigma-scale", "0.25"), 2),
    ("--checkpoint", lambda t: train(t, "--learner", "kernel_gaussian", "--checkpoint", str(t / "c.pt")), 2),
    # training flags: ranges and sizes
    ("--P", lambda t: train(t, "--P", "0"), 2),
    ("--P", lambda t: train(t, "--P", "-5"), 2),
    ("--P", lambda t: train(t, "--P", "1"), 2),              # fewer samples than stages (L = 2)
    ("--P", lambda t: train(t, "--P", str(10**12)), 2),
    ("--P", lambda t: train(t, "--learner", "kernel_gaussian", "--P", str(10**6)), 2),
    ("--num-test", lambda t: train(t, "--num-test", "0"), 2),
    ("--num-test", lambda t: train(t, "--num-test", str(10**12)), 2),
    ("--V", lambda t: train(t, "--V", "0"), 2),
    ("--V", lambda t: train(t, "--V", "1"), 2),
    ("--V", lambda t: train(t, "--V", str(10**9)), 2),
    ("--V", lambda t: train(t, "--V", "abc"), 2),
    ("--n-c", lambda t: train(t, "--n-c", "0"), 2),
    ("--n-c", lambda t: train(t, "--n-c", "100"), 2),
    ("--m", lambda t: train(t, "--m", "0"), 2),
    ("--m", lambda t: train(t, "--m", "100"), 2),
    ("--s", lambda t: train(t, "--s", "1"), 2),
    ("--L", lambda t: train(t, "--L", "0"), 2),
    ("--L", lambda t: train(t, "--L", "40"), 2),
    ("--grammar-seed", lambda t: train(t, "--grammar-seed", "-1"), 2),
    ("--seed", lambda t: train(t, "--seed", "-1"), 2),
    ("--num-features", lambda t: train(t, "--num-features", "0"), 2),
    ("--num-features", lambda t: train(t, "--num-features", "16384"), 2),
    ("--num-features", lambda t: train(t, "--num-features", str(10**9)), 2),
    ("--sigma-scale", lambda t: train(t, "--sigma-scale", "0"), 2),
    ("--sigma-scale", lambda t: train(t, "--sigma-scale", "nan"), 2),
    ("--sigma-scale", lambda t: train(t, "--sigma-scale", "inf"), 2),
    ("--sigma-scale", lambda t: train(t, "--sigma-scale", "-1"), 2),
    ("--epochs", lambda t: train(t, "--learner", "cnn", "--epochs", "0"), 2),
    ("--curve-points", lambda t: train(t, "--curve-points", "0"), 2),
    ("--curve-points", lambda t: train(t, "--curve-points", str(10**12)), 2),
    ("--learner", lambda t: train(t, "--learner", "svm"), 2),
    # other commands
    ("--lemmas", lambda t: ["--lemmas", str(t / "nowhere"), "list"], 2),
    ("--lemmas", lambda t: ["--lemmas", a_file(t), "run"], 2),
    ("broken_claim.py", lambda t: ["--lemmas", lemmas(t, broken=True), "list"], 1),
    ("broken_claim.py", lambda t: ["--lemmas", lemmas(t, broken=True), "run", "--device", "cpu", "--results",
                                   str(t / "res")], 1),
    ("--case", lambda t: run(t, "--case", "../x"), 2),
    ("--write", lambda t: ["--lemmas", lemmas(t), "findings", "--results", str(t), "--write", str(t / "no.md")], 2),
    ("--check", lambda t: ["--lemmas", lemmas(t), "findings", "--results", str(t), "--check", str(t / "no.md")], 2),
    ("--write", lambda t: ["--lemmas", lemmas(t), "findings", "--results", str(t), "--write", no_markers(t)], 2),
    ("--book", lambda t: ["book", "--book", str(t / "nobook")], 2),
]


@pytest.fixture
def low_memory_limit(monkeypatch):
    monkeypatch.setenv("VERIFY_MEMORY_LIMIT_GB", "2")


@pytest.mark.parametrize("what, argv, code", CLI_CASES, ids=[f"{i}-{w}" for i, (w, _, _) in enumerate(CLI_CASES)])
def test_bad_command_line_is_one_line_naming_the_flag(tmp_path, capsys, low_memory_limit, what, argv, code):
    args = argv(tmp_path)
    capsys.readouterr()
    assert cli.main(args) == code
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err and what in err, err
    assert any(line.startswith(("verify: error:", "verify train: error:", "usage:", "verify: lemma module"))
               for line in lines), err
    out = tmp_path / "out"
    assert not (out.exists() and list(out.glob("*.json"))), "a bad command line must not train"


# -- output paths ----------------------------------------------------------------------------------------------
def test_writable_folder_probe(tmp_path):
    assert results.ensure_writable_folder(tmp_path / "new" / "deeper", "--out") == tmp_path / "new" / "deeper"
    assert not list((tmp_path / "new" / "deeper").iterdir())  # the probe is removed
    with pytest.raises(ValueError, match=r"^--out .*not a folder"):
        results.ensure_writable_folder(a_file(tmp_path), "--out")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_results_folder_refused(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        assert cli.main(run(tmp_path, "--results", str(ro))) == 2
        assert "--results" in capsys.readouterr().err
    finally:
        ro.chmod(0o700)


# -- verify train: records, names, checkpoints -----------------------------------------------------------------
def test_train_record_name_config_and_run_id(tmp_path):
    assert cli.main(train(tmp_path, "--curve-points", "2")) == 0
    assert cli.main(train(tmp_path, "--curve-points", "2", "--sigma-scale", "0.25")) == 0
    assert cli.main(train(tmp_path, "--curve-points", "2", "--num-test", "32")) == 0
    recs = sorted((tmp_path / "out").glob("*.json"))
    assert len(recs) == 3  # three configurations, three files: nothing overwritten
    names = [p.stem for p in recs]
    for key in ("layerwise_ridge", "V4", "nc4", "m2", "s2", "L2", "appendix_b", f"g{GRAMMAR_SEED}", "P64", "seed0",
                "M16"):
        assert all(key in n for n in names), (key, names)
    data = [json.loads(p.read_text()) for p in recs]
    assert len({d["run_id"] for d in data}) == 3
    for d, p in zip(data, recs):
        cfg = d["configuration"]
        assert cfg["P"] == 64 and cfg["num_features"] == 16 and cfg["sampler"] == "appendix_b"
        assert d["config_hash"] in p.stem
        assert [c["P"] for c in d["curve"]] == [32, 64] and all(c["samples_used"] <= c["P"] for c in d["curve"])
        assert p.with_suffix(".png").exists()
    assert not list((tmp_path / "out").glob(".*tmp"))


def test_resumed_train_equals_a_fresh_one(tmp_path):
    ckpt = tmp_path / "ckpt.pt"
    assert cli.main(train(tmp_path, "--checkpoint", str(ckpt), "--out", str(tmp_path / "a"))) == 0
    assert ckpt.exists()
    assert cli.main(train(tmp_path, "--checkpoint", str(ckpt), "--out", str(tmp_path / "b"))) == 0  # resumed
    assert cli.main(train(tmp_path, "--out", str(tmp_path / "c"))) == 0  # fresh
    acc = [json.loads(next((tmp_path / f).glob("*.json")).read_text())["test_accuracy"] for f in "abc"]
    assert acc[0] == acc[1] == acc[2]
    assert not list(tmp_path.glob(".*tmp"))


def _ridge_setup():
    from verify.experiments.sample_complexity import grammar_with_signal
    from verify.learners import layerwise_ridge as lr
    g = grammar_with_signal(4, 2, 2)
    levels = lr.practical_parameters(g, 64, num_features=8)
    return lr, g, levels


def test_checkpoint_resume_equals_fresh_and_refuses_another_configuration(tmp_path):
    lr, g, levels = _ridge_setup()
    x, _ = __import__("verify.rhm", fromlist=["sample"]).sample(g, 50, torch.Generator().manual_seed(0))
    fresh = lr.LayerwiseRidge.for_grammar(g, levels).fit(g, seed=4, progress=False)
    ckpt = tmp_path / "ckpt.pt"

    class Stop(Exception):
        pass

    def stop(model, level):
        if level == 1:  # level 2 is trained and saved; stop before level 1 is saved
            raise Stop

    with pytest.raises(Stop):
        lr.LayerwiseRidge.for_grammar(g, levels).fit(g, seed=4, progress=False, checkpoint=ckpt, callback=stop)
    state = torch.load(ckpt, weights_only=True)  # plain containers and tensors only
    assert state["grammar"]["seed"] == g.seed and state["grammar"]["sampler"] == g.sampler
    assert set(state["levels"]) == {1, 2} and state["trained"][2]["seed"] == 4
    resumed = lr.LayerwiseRidge.for_grammar(g, levels).fit(g, seed=4, progress=False, checkpoint=ckpt)
    assert torch.equal(resumed.forward(x), fresh.forward(x))
    before = ckpt.read_bytes()
    other = __import__("verify.rhm", fromlist=["sample_grammar"]).sample_grammar(4, 4, 2, 2, 2, seed=g.seed + 1,
                                                                                 sampler=g.sampler)
    with pytest.raises(ValueError, match="grammar"):
        lr.LayerwiseRidge.for_grammar(g, levels).fit(other, seed=4, progress=False, checkpoint=ckpt)
    with pytest.raises(ValueError, match="seed"):
        lr.LayerwiseRidge.for_grammar(g, levels).fit(g, seed=5, progress=False, checkpoint=ckpt)
    wider = lr.practical_parameters(g, 64, num_features=16)
    with pytest.raises(ValueError, match="num_features"):
        lr.LayerwiseRidge.for_grammar(g, wider).fit(g, seed=4, progress=False, checkpoint=ckpt)
    # the refusals happen before any training: nothing was written over the checkpoint
    assert ckpt.read_bytes() == before


def test_checkpoint_with_a_pickled_object_is_refused(tmp_path):
    lr, g, levels = _ridge_setup()
    model = lr.LayerwiseRidge.for_grammar(g, levels).fit(g, seed=0, progress=False)
    path = model.save(tmp_path / "ckpt.pt")
    state = torch.load(path, weights_only=True)
    state["payload"] = Fraction(1, 3)
    torch.save(state, path)
    with pytest.raises(ValueError, match="checkpoint"):
        lr.LayerwiseRidge.for_grammar(g, levels).fit(g, seed=0, progress=False, checkpoint=path)


def test_checkpoint_saves_use_unique_temporary_files(tmp_path, monkeypatch):
    lr, g, levels = _ridge_setup()
    model = lr.LayerwiseRidge.for_grammar(g, levels).fit(g, seed=0, progress=False)
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append((Path(src).name, Path(dst).name))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    model.save(tmp_path / "c.pt")
    model.save(tmp_path / "c.pt")
    assert len({src for src, _ in seen}) == 2 and {dst for _, dst in seen} == {"c.pt"}  # unique temporary names
    assert all(src.startswith(".c.pt.") and src.endswith(".tmp") for src, _ in seen)
    monkeypatch.setattr(torch, "save", lambda *a, **kw: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        model.save(tmp_path / "c.pt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.pt"]  # no orphaned temporary file
    assert torch.load(tmp_path / "c.pt", weights_only=True)["trained"].keys() == {1, 2}


# -- result records -------------------------------------------------------------------------------------------
def _toy_claims(tmp_path):
    return load_claims(lemmas(tmp_path))


def test_records_have_run_id_configuration_and_nonfinite_as_null(tmp_path):
    claim = _toy_claims(tmp_path)["toy"]
    v = claim.evaluate("ok", "cpu")
    import dataclasses
    v = dataclasses.replace(v, measured=math.inf, details={"curve": [[1, math.nan], [2, -math.inf]], "ok": 1.5})
    path = results.write_record(v, tmp_path / "res", run_id="RUN-1")
    raw = json.loads(path.read_text())  # strict JSON: no NaN/Infinity tokens
    assert raw["measured"] is None and raw["details"]["curve"][0][1] is None
    want = {"measured": "inf", "details/curve/0/1": "nan", "details/curve/1/1": "-inf"}
    assert want.items() <= raw["nonfinite"].items()
    assert raw["margin"] is None and raw["nonfinite"]["margin"] == "-inf"  # bound - measured
    assert raw["run_id"] == "RUN-1" and raw["configuration"]["params"] == {"x": 0.5}
    assert raw["configuration"]["case"] == "ok" and "config_hash" in raw
    rec = results.load_record("toy", "ok", tmp_path / "res")
    assert rec["measured"] == math.inf and math.isnan(rec["details"]["curve"][0][1])
    assert rec["details"]["curve"][1][1] == -math.inf and rec["details"]["ok"] == 1.5
    assert results.load_records("toy", tmp_path / "res")["ok"]["measured"] == math.inf
    # an old record with the string "inf" still loads as it was written
    old = tmp_path / "res" / "toy" / "old.json"
    old.write_text(json.dumps({"measured": "inf", "case": "old"}))
    assert results.load_records("toy", tmp_path / "res")["old"]["measured"] == "inf"


def test_one_run_id_per_verify_run(tmp_path):
    assert cli.main(run(tmp_path)) == 0
    recs = results.load_records("toy", tmp_path / "res")
    assert set(recs) == {"ok", "bad"} and len({r["run_id"] for r in recs.values()}) == 1
    assert cli.main(run(tmp_path)) == 0
    assert results.load_records("toy", tmp_path / "res")["ok"]["run_id"] != recs["ok"]["run_id"]


def test_corrupt_record_is_skipped_with_a_warning_naming_it(tmp_path):
    assert cli.main(run(tmp_path)) == 0
    bad = tmp_path / "res" / "toy" / "bad.json"
    bad.write_text('{"measured": 1, ')
    with pytest.warns(UserWarning, match="bad.json"):
        recs = results.load_records("toy", tmp_path / "res")
    assert set(recs) == {"ok"}
    with pytest.warns(UserWarning, match="bad.json"):
        assert results.load_record("toy", "bad", tmp_path / "res") is None


def test_failed_write_leaves_no_temporary_file(tmp_path):
    with pytest.raises((TypeError, ValueError)):
        results.write_atomic(tmp_path / "r.json", {"y": {1, 2}})  # a set is not JSON
    assert not list(tmp_path.iterdir())


def test_gitignore_ignores_temporary_files():
    text = (Path(__file__).resolve().parents[1] / ".gitignore").read_text().split()
    assert "*.tmp" in text and ".*.tmp" in text


# -- case names and discovery ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["a/b", "..", ".hidden", "a b", "x;rm", "ü", "", "a\\b", "a:b"])
def test_case_names_restricted_to_a_safe_alphabet(name):
    from verify.harness.claims import Case
    with pytest.raises(ValueError, match="Case.name"):
        Case(name, {})


def test_case_names_in_the_safe_alphabet_are_accepted():
    from verify.harness.claims import Case
    assert Case("V8_m4-L3.small", {}).name == "V8_m4-L3.small"


def test_broken_lemma_module_is_reported_and_skipped(tmp_path, capsys):
    folder = lemmas(tmp_path, broken=True)
    errors = []
    with pytest.warns(UserWarning, match="broken_claim.py"):
        claims = load_claims(folder, errors=errors)
    assert set(claims) == {"toy"}
    assert len(errors) == 1 and errors[0].path.name == "broken_claim.py" and "no_such_module_here" in errors[0].error
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert cli.main(["--lemmas", folder, "list"]) == 1
    out = capsys.readouterr()
    assert "toy" in out.out and "broken_claim.py" in out.err and "ModuleNotFoundError" in out.err


def test_duplicate_stems_still_refused(tmp_path):
    folder = Path(lemmas(tmp_path))
    (folder / "sub").mkdir()
    (folder / "sub" / "toy_claim.py").write_text(TOY_MODULE)
    with pytest.raises(ValueError, match="share the name"):
        load_claims(folder)
