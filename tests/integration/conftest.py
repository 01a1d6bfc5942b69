"""The integration tests' fixtures; the market they build lives in market_harness.py."""

from market_harness import local_chain  # noqa: F401 (fixtures)
