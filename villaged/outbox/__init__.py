"""Where drafts go: one protocol, a Maildir folder or Gmail Drafts."""
