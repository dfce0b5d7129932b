"""Shared test settings: hypothesis profiles sized for pure Python."""
import os

from hypothesis import settings

# Pure Python is slow and CI runs the suite on several interpreters: no
# deadline (timing is not what we test), a modest number of examples.
settings.register_profile("default", deadline=None, max_examples=60)
settings.register_profile("thorough", deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("PURENN_HYPOTHESIS_PROFILE", "default"))
