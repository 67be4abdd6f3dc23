"""Duplicate detection: scoring pairs of one organization's patients (issue 26).

``names`` folds and keys names, ``matcher`` scores a pair with its reasons, ``keys`` holds the
blocking keys kept per patient (``index`` keeps them in step on every flush), ``scan`` finds an
organization's candidate pairs through those keys in SQL, ``queries`` and ``service`` are the
staff list and the dismissal. docs/duplicates.md explains the rules.
"""
