"""Where evidence of contact comes from."""
