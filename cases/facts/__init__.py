"""Household facts as versioned records: see services.py."""
