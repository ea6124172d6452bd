"""Worker processes for the CPU-bound loops (features, synthesis, re-encoding)."""
from multiprocessing.pool import Pool

import torch


def pool(jobs: int) -> Pool:
    """A pool of `jobs` worker processes, each running torch on one thread.

    One thread each is what `jobs` workers on `jobs` cores want anyway, and it is needed: a
    forked worker that starts an OpenMP team of its own hangs for good in its first parallel
    op when the caller had already run torch on several threads (libgomp's thread pool does not
    survive fork). The default start method, fork on Linux up to Python 3.13, not spawn: a
    script without a `__main__` guard still works."""
    return Pool(jobs, initializer=torch.set_num_threads, initargs=(1,))
