"""The trainers\x27 browser view (Solara)."""
