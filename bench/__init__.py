"""Carebook's benchmark harness: a data generator and an HTTP load runner (``python -m bench``)."""
