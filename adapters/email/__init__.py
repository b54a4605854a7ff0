"""Outgoing email: the queue, SMTP and the log transport."""
