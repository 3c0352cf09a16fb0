"""Disbursement: entitlements of approved cases, the monthly payment rosters per approval unit,
their sign-off and submission between the 20th and 25th, the county's aggregation and fund
request, exports (models.py, services.py, selectors.py, exports.py), and two feature folders:

    reviews/    dynamic management: periodic reviews, change reports, comparison runs
    imports/    the caseload import (reading, preview, set-based write) and the staff import

Layer 2: sits on cases and accounts; imports nothing from supervision."""
