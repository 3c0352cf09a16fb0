"""Deadlines of a case: the working-day calendar, holidays, monthly cut-offs and the deadline scan."""
