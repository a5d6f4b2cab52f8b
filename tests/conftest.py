"""Test-session settings shared by every part."""

from __future__ import annotations

import os
import tempfile

# Cached lookup tables (haetae.pipelines.io.array_cache) go to a folder of this session, inherited by the Beam
# worker processes and CLI subprocesses the tests start: the suite neither reads nor fills the user's cache.
os.environ["HAETAE_CACHE_DIR"] = tempfile.mkdtemp(prefix="haetae-test-cache-")
