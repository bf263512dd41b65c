"""The Experiments tab's table headers, their tooltips and its fixed texts.

With a test part, the columns are the delivered models' (test cross-entropy and
accuracy, the gap at the delivered epoch, that epoch), the verdict, and the best
epoch's validation cross-entropy, labelled as chosen on validation; without one,
the best epoch's numbers under headers that say so (``FALLBACK_COLUMNS``).
"""

from __future__ import annotations

COLUMNS = (
    "Arm",
    "Test cross-\nentropy",
    "Test acc",
    "Gap (nats)\nat its epoch",
    "Delivered\nepoch",
    "Verdict",
    "Val CE (chosen\non validation)",
)
TIPS = (
    "The arm (hover for its runs, seeds and diagnoses)",
    "The delivered model's cross-entropy on the test part, rows nothing in the run "
    "decided with: mean ± half its 95 % interval over the seeds. Arms are ranked and "
    "judged by it",
    "The delivered model's accuracy on the test part: mean ± half its 95 % interval",
    "Gap at the delivered epoch: validation − training cross-entropy, both measured at "
    "the epoch's end in inference mode, in nats per sample (mean ± half the 95 % interval)",
    "The epoch whose model the run delivers (mean over the seeds): the restored best "
    "epoch when early stopping restored its weights, else the last epoch run",
    "Paired with the baseline seed by seed on the test cross-entropy: better, worse, seed "
    "noise, or too few seeds (under 3) for a verdict (hover for the numbers)",
    "Best-epoch validation cross-entropy (no weight penalty): optimistic, since that epoch "
    "was chosen on the same validation rows it is read from",
)
#: Columns shown only when asked for (the header's right-click menu): the delivered epoch
#: and the best epoch's validation cross-entropy; the side panel is too narrow for seven.
OPTIONAL_COLUMNS = (4, 6)
#: Without a test part (a source with its own validation rows only): judged at the best
#: epoch on validation, and the headers say so; the last column would repeat the first.
FALLBACK_COLUMNS = (
    "Arm",
    "Best val cross-\nentropy (no test)",
    "Best val acc",
    "Gap (nats) at\nbest epoch",
    "Best\nepoch",
    "Verdict",
    "",
)
FALLBACK_TIPS = (
    TIPS[0],
    "No test part: the best-epoch validation cross-entropy (no weight penalty), chosen "
    "and judged on the same rows: mean ± half its 95 % interval over the seeds",
    "Validation accuracy at the best epoch: mean ± half its 95 % interval",
    "Gap at the best epoch: validation − training cross-entropy, both measured at the "
    "epoch's end in inference mode, in nats per sample (mean ± half the 95 % interval)",
    "The best epoch (lowest validation cross-entropy, or the restored one), mean over the seeds",
    "Paired with the baseline seed by seed on the best validation cross-entropy: better, "
    "worse, seed noise, or too few seeds (under 3) for a verdict (hover for the numbers)",
    "",
)
#: What an empty tab says will appear (there is no "run 0 of 1" before an experiment).
EMPTY_TEXT = (
    "Run → Compare remedies (Ctrl+Shift+R) trains the current setup and four remedies "
    "on the same data and seeds; Run → Sweep… (Ctrl+Shift+W) draws a validation curve "
    "over one lever, or a learning curve. Each arm's delivered model is judged on the "
    "test part (validation chooses, test judges): its test cross-entropy and accuracy "
    "over the seeds will appear here in a table, with each remedy compared with the "
    "baseline seed by seed, and a sweep's points on a plot below it."
)
VERDICT_TEXT = {"indistinguishable": "seed noise", "too_few_seeds": "too few\nseeds"}
