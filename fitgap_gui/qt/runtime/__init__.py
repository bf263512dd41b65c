"""Work off the GUI thread and the model it feeds: ``BackgroundTask``, the training
controller and ``LiveRuns``, the runs on screen."""
