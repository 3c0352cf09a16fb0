"""Supervision: the county bureau's dashboards (selectors.py, summary.py), nightly system
checks (checks.py), the 30% field spot-check sample (sampling.py), bulletins, rectification
and revocation, complaints, statistics and the yearly assessment (services.py).

Layer 3, the top: reads everything below it; nothing imports it."""
