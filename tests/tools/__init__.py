"""Test tools: a real SIP + RTP caller (``sip_caller``) and its CLI (``caller_cli``)."""
