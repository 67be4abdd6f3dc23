"""Rate limits kept in the database, so they hold across every process and server."""
