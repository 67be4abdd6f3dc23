"""Small server-rendered pages (the set-password page of invitation emails)."""
