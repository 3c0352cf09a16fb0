"""Imports of an existing caseload and of staff lists: upload, preview, confirm."""
