"""The agent desk. Access first: accounts, password hashing, sessions, CSRF and the login gate.

``loket.desk.auth.install_auth`` puts it all on a FastAPI app; see docs/desk-auth.md.
"""
