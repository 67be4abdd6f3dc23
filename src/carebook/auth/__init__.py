"""The auth core: who is calling (Actor, Role), passwords, secrets and the credential tables.

It imports no domain package, so every domain may use it. What needs the user table (resolving a
credential to its user, signup tokens, visibility) lives in ``carebook.users``; the sign-in flow
in ``carebook.accounts``.
"""
