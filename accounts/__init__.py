"""Accounts: the organisation tree (county bureau, approval units, villages), staff and roles,
the one access door (access.py), sign-in with two factors, notifications and the security
audit log. Pages in urls.py (/accounts/), API tokens in api_urls.py (/api/auth/, /api/me/).

Layer 0, the bottom: it imports no other project app, only dengkou_aid.lib."""
