"""The ``carebook`` command line."""
