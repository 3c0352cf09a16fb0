"""Disbursement: entitlements of approved cases, the monthly payment rosters per approval unit,
their sign-off and submission between the 20th and 25th, the county's aggregation and request
to the finance bureau, exports, and dynamic adjustments of amounts.

Sits on cases and accounts; imports nothing from supervision."""
