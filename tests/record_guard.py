"""The record guard of tests that call the loaders directly (a fixed key, so pseudonyms repeat)."""

from loaders.privacy import RecordGuard, keyed_pseudonymizer

TEST_KEY = b"test-key: not for real data"
TEST_GUARD = RecordGuard(keyed_pseudonymizer(TEST_KEY))
pseudonym = keyed_pseudonymizer(TEST_KEY)
"""``pseudonym(kind, normalized value)``: what the loaders store for an identifier under TEST_KEY."""
