"""Test doubles that implement villaged's ports for real, in memory."""
