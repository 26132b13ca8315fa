# Shared set-up of the book's pages (run with `%run ../_common.py`): find the repository, load claims.
import sys

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

from verify.harness.discovery import find_repo_dir, load_claims
from verify.harness.report import records_table, verdict_table
from verify.harness.results import load_records
from verify.harness.stats import CONFIDENCE

try:  # figures inline in the page, whatever MPLBACKEND says
    get_ipython().run_line_magic("matplotlib", "inline")  # noqa: F821
except NameError:
    pass

REPO = find_repo_dir()
CLAIMS = load_claims(REPO / "lemmas")
RESULTS = REPO / "results"
plt.rcParams.update({"figure.dpi": 110, "figure.figsize": (7, 3.6), "axes.grid": True, "grid.alpha": 0.3})


def lemma(name):
    """The lemma module ``lemmas/<name>.py`` (loaded once by ``load_claims``)."""
    return sys.modules[f"lemmas.{name}"]


def confidence_note(claim_name, scale="small"):
    """The page's statement of the confidence convention and the claim's family-wise level."""
    claim = CLAIMS[claim_name]
    k = sum(c.method == "empirical" for c in claim.cases_at(scale))
    fam = claim.family_confidence(scale)
    cite = f"Checked: Paper {claim.paper}, {claim.reference}" + (f", PDF {claim.page}" if claim.page else "") + ". "
    return (cite + f"Verdicts at {CONFIDENCE:.0%} one-sided confidence per case (exact cases exactly; the limits "
            "column gives each side's limit at that confidence unless it names another); "
            f"*inconclusive* is never a pass. With {k} sampled case{'s' if k != 1 else ''} at this scale, "
            f"all are decided right together with probability at least {fam:.0%} (union bound). "
            "Slack = bound ÷ measured (≤ bounds) or measured ÷ bound (≥ bounds).")


def show_small(claim_name):
    """Evaluate every small case of a claim now (CPU) and show the verdict table."""
    claim = CLAIMS[claim_name]
    verdicts = [claim.evaluate(c, "cpu") for c in claim.cases_at("small")]
    display(Markdown(verdict_table(verdicts) + "\n\n" + confidence_note(claim_name)))
    return {v.case: v for v in verdicts}


def show_large(claim_name):
    """Show the stored records of the claim's large cases (from `verify run --scale large`)."""
    claim = CLAIMS[claim_name]
    recs = load_records(claim_name, RESULTS)
    large = {c.name: recs[c.name] for c in claim.cases_at("large") if c.name in recs}
    missing = [c.name for c in claim.cases_at("large") if c.name not in recs]
    display(Markdown(records_table(large)))
    if missing:
        display(Markdown("Not yet recorded: " + ", ".join(f"`{m}`" for m in missing)
                         + " (run `verify run " + claim_name + " --scale large`)."))
    return large


def hypotheses_block(claim_name):
    """The claim's hypotheses as the paper prints them (``Claim.hypotheses``, LaTeX), as a Markdown list."""
    claim = CLAIMS[claim_name]
    cite = f"Paper {claim.paper}, {claim.reference}" + (f", PDF {claim.page}" if claim.page else "")
    if not claim.hypotheses:
        return Markdown(f"**Hypotheses** ({cite}): none listed.")
    return Markdown(f"**Hypotheses, as printed** ({cite}):\n\n" + "\n".join(f"- ${h}$" for h in claim.hypotheses))
