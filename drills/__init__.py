"""Load, fault, bad-input and security drills: each runs from one command and ends with a
PASS/FAIL verdict on whether anything was lost (see docs/drills.md)."""
