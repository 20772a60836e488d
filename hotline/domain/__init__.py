"""Pure domain logic: no Flask, no database.

Everything here can be unit-tested with plain values and a fixed clock.
"""
