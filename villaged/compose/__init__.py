"""Turning plan actions into messages (pure: templates in, EmailMessage out)."""
