"""Accounts: registration, sessions (JWT), password reset."""
