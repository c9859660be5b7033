"""Signing in and tokens: login, sessions and refresh, MFA, client and service tokens."""
