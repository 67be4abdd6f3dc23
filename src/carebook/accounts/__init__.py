"""Account flows: signing in, signing up, enrolling, creating and changing patients and staff.

A flow layer above the domain packages: a flow composes users with the domains its side effects
touch (welcome emails, care teams, provider notifications, form requests, user groups), so that
``users`` itself imports none of them.
"""
