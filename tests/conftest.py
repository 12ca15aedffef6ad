"""Shared test settings."""

from hypothesis import settings

# Property tests explore the same examples on every run and machine, so a
# failure in CI is reproducible; `--hypothesis-profile explore` searches anew.
settings.register_profile("default", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, max_examples=500)
settings.load_profile("default")
