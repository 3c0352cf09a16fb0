"""Supervision: the county bureau's dashboards, nightly system checks, the 30% field spot-check
sample, bulletins, rectification and revocation, complaints, statistics and yearly assessment.

The top layer: reads everything below it."""
