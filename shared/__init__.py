"""Non-lesson utilities the labs reuse (import name: dlc_shared)."""
