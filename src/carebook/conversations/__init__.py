"""Conversations: who takes part in which conversation (the users list filters by it)."""
