"""The `instructmix` command line and its Prefect flows.

Arrow's allocator is chosen here, before anything imports pyarrow: jemalloc, unless
ARROW_DEFAULT_MEMORY_POOL already names one. pyarrow 26's default, mimalloc, kept about 50 MB
more resident for the same work in the sharded near-dedup stage (benchmarks/near_dedup.py:
peak 312 against 262 MB, same speed); the local process pool and Ray workers inherit it.
"""

import os

os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")
