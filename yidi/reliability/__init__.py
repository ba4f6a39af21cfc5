"""Reliability: fault tests of issue #10 (item 5) — what happens when things break in the middle of an action.

A test package only (`yidi/reliability/tests/`): no models, no views, not an installed app. See the tests'
`support.py` for the tools (real commits in the test database, databases and PostgreSQL clusters of their own,
real `yidi` processes).
"""
