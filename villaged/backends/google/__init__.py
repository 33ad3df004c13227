"""Gmail and Google Calendar backend."""
