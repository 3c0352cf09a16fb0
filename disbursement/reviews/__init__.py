"""Dynamic management: periodic reviews, change reports and comparison runs."""
