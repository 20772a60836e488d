"""Errors the classifier raises for people to read; the CLI turns them into one clear line."""

from __future__ import annotations


class ClassifierError(Exception):
    """Base class: anything the user can fix (input, data files, model files)."""


class InputError(ClassifierError):
    """A transcript that cannot be classified at all (too long, not text)."""


class DataError(ClassifierError):
    """A CSV or corpus file that cannot be read as labelled data."""


class ModelError(ClassifierError):
    """A model file that is missing, corrupt, or made with other library versions."""
