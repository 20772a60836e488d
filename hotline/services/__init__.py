"""Use cases. Every function changes state through the session and flushes; none commits.

The caller (one web request, one CLI command, one scheduler job) owns the transaction and
commits once, so a use case either happens whole or not at all.
"""
