"""Executors (verify.harness.executors) and `verify run --executor/--resume`: the same records wherever a
case runs, a failing case leaves the others' records, and a killed run resumes without recomputing."""
import json
import os
import signal
import textwrap
import time
from pathlib import Path

import pytest

from verify import cli
from verify.harness.executors import mp_context

# One worker runs them all under pytest-xdist, so they share one fork server (it imports the package once).
pytestmark = pytest.mark.xdist_group("executors")

TOYS = textwrap.dedent('''
    import os, time
    import torch
    from verify.harness.claims import Case, Claim, Measurement

    def _empirical(case, device, gen):
        # float64 reductions over random draws: the kind of result that depends on threads if anything does
        x = torch.randn(400, 300, generator=gen, dtype=torch.float64)
        if case.params.get("raise"):
            raise RuntimeError("a bug in one case")
        time.sleep(float(os.environ.get("TOY_SLEEP", "0")) * case.params.get("slow", 0))
        v = float((x.T @ x).trace() / x.numel())
        return Measurement(value=v, lower=v - 0.1, upper=v + 0.1, confidence=0.99,
                           details={"row_sums": x.sum(1)[:5].tolist()})

    CLAIM = Claim(name="toy_random", paper="A", page="p. 0", reference="Lemma 10", statement="x", measured="x",
                  relation="<=", bound=lambda c: c.params["bound"], empirical=_empirical,
                  cases=(Case("a", {"bound": 2.0}, method="empirical", seed=1),
                         Case("b", {"bound": 2.0}, method="empirical", seed=2),
                         Case("slow", {"bound": 2.0, "slow": 1}, method="empirical", seed=3),
                         Case("control", {"bound": 0.5}, method="empirical", seed=4, role="negative_control")))
''')

VOLATILE = {"seconds", "run_id"}


def _lemmas(tmp_path, extra=""):
    lem = tmp_path / "lemmas"
    lem.mkdir(exist_ok=True)
    (lem / "toy_random.py").write_text(TOYS + extra)
    return lem


def _records(folder):
    out = {}
    for p in sorted(Path(folder).glob("*/*.json")):
        if p.parent.name == ".runs":  # the run manifests, not records
            continue
        rec = json.loads(p.read_text())
        for k in VOLATILE:
            rec.pop(k, None)
        prov = rec.pop("provenance")
        rec["code_hash"] = prov["code_hash"]
        out[p.relative_to(folder).as_posix()] = rec
    return out


def _run(lemmas, *args):
    return cli.main(["--lemmas", str(lemmas), "run", "--device", "cpu", *args])


@pytest.mark.parametrize("executor", ["process", "dask"])
def test_records_are_identical_across_executors(tmp_path, executor):
    if executor == "dask":
        pytest.importorskip("distributed")
    lem = _lemmas(tmp_path)
    assert _run(lem, "--threads", "1", "--results", str(tmp_path / "serial")) == 0
    assert _run(lem, "--executor", executor, "--workers", "2", "--results", str(tmp_path / executor)) == 0
    serial, other = _records(tmp_path / "serial"), _records(tmp_path / executor)
    assert len(serial) == 4 and serial == other  # bit for bit, apart from timings and run ids
    # each run leaves a manifest: how it was scheduled, what it ran, how long it took end to end
    (manifest,) = [json.loads(p.read_text()) for p in (tmp_path / executor / ".runs").glob("*.json")]
    assert manifest["executor"] == executor and manifest["workers"] == 2 and manifest["threads_per_case"] == 1
    assert sorted(manifest["cases"]) == [f"toy_random[{c}]" for c in ("a", "b", "control", "slow")]
    assert manifest["wall_seconds"] >= manifest["cases_wall_seconds"] > 0 and manifest["failed"] == []
    assert manifest["git_commit"]


def test_a_failing_case_leaves_the_others_records_and_a_nonzero_exit(tmp_path, capsys):
    lem = _lemmas(tmp_path, extra=textwrap.dedent('''
        CLAIM = Claim(**{**{f: getattr(CLAIM, f) for f in CLAIM.__dataclass_fields__},
                         "cases": CLAIM.cases + (Case("broken", {"bound": 2.0, "raise": 1}, method="empirical"),)})
    '''))
    rc = _run(lem, "--results", str(tmp_path / "r"))
    err = capsys.readouterr().err
    assert rc == 1 and "toy_random[broken] raised RuntimeError: a bug in one case" in err
    assert sorted(p.stem for p in (tmp_path / "r" / "toy_random").glob("*.json")) == ["a", "b", "control", "slow"]


def _run_with_slow_case_sleeping(argv):
    os.environ["TOY_SLEEP"] = "60"  # in the killed process only: the resumed run's "slow" case does not sleep
    cli.main(argv)


def test_a_killed_run_resumes_without_recomputing(tmp_path):
    lem = _lemmas(tmp_path)
    out = tmp_path / "r"
    # `verify run` in a process of its own, killed with SIGKILL mid-run; forked from the executors' fork server,
    # which has imported the package already (a fresh interpreter spends 2 s of CPU importing it)
    proc = mp_context().Process(target=_run_with_slow_case_sleeping, args=(
        ["--lemmas", str(lem), "run", "--device", "cpu", "--results", str(out)],))
    proc.start()
    try:
        deadline = time.time() + 120
        while not (out / "toy_random" / "b.json").exists():  # a and b done; "slow" is sleeping
            assert time.time() < deadline and proc.is_alive()
            time.sleep(0.05)
        time.sleep(0.2)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.join()
    assert proc.exitcode == -signal.SIGKILL
    done = {p.stem: json.loads(p.read_text())["run_id"] for p in (out / "toy_random").glob("*.json")}
    assert set(done) == {"a", "b"}
    assert _run(lem, "--resume", "--results", str(out)) == 0
    after = {p.stem: json.loads(p.read_text())["run_id"] for p in (out / "toy_random").glob("*.json")}
    assert set(after) == {"a", "b", "slow", "control"}
    assert all(after[k] == done[k] for k in done)  # not recomputed
    assert after["slow"] != done["a"]


def test_resume_recomputes_a_record_of_other_code_or_configuration(tmp_path):
    lem = _lemmas(tmp_path)
    out = tmp_path / "r"
    assert _run(lem, "--results", str(out)) == 0
    first = {p.stem: json.loads(p.read_text())["run_id"] for p in (out / "toy_random").glob("*.json")}
    (lem / "toy_random.py").write_text(TOYS.replace('"bound": 2.0}, method="empirical", seed=1',
                                                    '"bound": 2.5}, method="empirical", seed=1'))
    assert _run(lem, "--resume", "--results", str(out)) == 0
    second = {p.stem: json.loads(p.read_text())["run_id"] for p in (out / "toy_random").glob("*.json")}
    assert second["a"] != first["a"]  # its configuration changed: recomputed
    (lem / "toy_random.py").write_text((lem / "toy_random.py").read_text().replace("/ x.numel()", "/ x.numel() * 1"))
    assert _run(lem, "--resume", "--results", str(out)) == 0
    third = {p.stem: json.loads(p.read_text())["run_id"] for p in (out / "toy_random").glob("*.json")}
    assert all(third[k] != second[k] for k in third)  # the code changed: all recomputed


@pytest.mark.parametrize("args,match", [
    (["--executor", "thread"], "invalid choice"),
    (["--workers", "0", "--executor", "process"], "--workers"),
    (["--scheduler", "tcp://127.0.0.1:1"], "need --executor dask"),
    (["--executor", "dask", "--scheduler", "localhost:8786"], "tcp://"),
    (["--executor", "dask", "--scheduler-file", "/nonexistent/f.json"], "does not exist"),
    (["--threads", "0"], "--threads"),
])
def test_bad_executor_options(tmp_path, capsys, args, match):
    lem = _lemmas(tmp_path)
    assert _run(lem, *args, "--results", str(tmp_path / "r")) == 2
    assert match in capsys.readouterr().err
    assert not (tmp_path / "r" / "toy_random").exists()  # refused before any case ran
