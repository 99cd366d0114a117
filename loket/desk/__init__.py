"""The agent desk, served by the gateway.

Access — accounts, password hashing, sessions, CSRF, login throttling and the gate
that guards every desk route and WebSocket — is ``auth`` with ``accounts``,
``passwords``, ``csrf``, ``throttle`` and ``gate``; ``auth.install_auth`` puts it on
a FastAPI app (see docs/desk-auth.md).
"""
