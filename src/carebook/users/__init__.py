"""Users: providers, staff members and patients (Healthie's User object).

The lowest domain but organizations and user_notifications: its models, field validation, reads,
visibility rules (scoping), credentials (API keys, session tokens) and signup tokens (activation).
Writes with side effects in other domains are flows (carebook.accounts).
"""
