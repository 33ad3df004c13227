"""The IMAP + CalDAV backend: any standard mail server and calendar server."""
