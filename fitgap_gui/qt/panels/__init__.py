"""The views beside the plots: controls, runs, diagnosis, experiments and insights.

Each is handed the live-run model (``runtime.live_runs.LiveRuns``) and what else it needs in
its constructor, and listens to the model's signals."""
