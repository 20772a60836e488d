"""Routing rules: the routing_rules.yaml schema, its loader and the pure routing engine."""
