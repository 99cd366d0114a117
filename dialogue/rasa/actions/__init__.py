"""Custom actions of the Loket helpline assistant (run by `rasa run actions`).

The modules without `rasa_sdk` imports (settings, summary) hold the logic and are
unit-tested from the gateway's test suite; the others are thin rasa_sdk adapters.
"""
