"""The scheduler process and its jobs (idempotent; work is claimed with conditional UPDATEs)."""
