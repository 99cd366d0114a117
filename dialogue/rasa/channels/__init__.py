"""Input channels of the Loket assistant (loaded by Rasa from credentials.yml)."""
