"""Email notifications: settings, sent notification records, the welcome email."""
