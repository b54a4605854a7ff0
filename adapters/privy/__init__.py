"""Privy identity tokens."""
