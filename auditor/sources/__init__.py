"""Sources of model metadata: the Hub, a local folder, a recorded snapshot."""
