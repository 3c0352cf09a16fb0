"""Accounts: the organisation tree (county bureau, approval units, villages), staff, roles,
per-unit access, sign-in with two factors, notifications and the security audit log.

The bottom layer: it imports no other project app."""
