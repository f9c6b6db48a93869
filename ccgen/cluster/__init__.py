"""Running a batch on Ray (``ccgen INPUTS --engine ray [--ray-address ADDR]``).

Why Ray Core actors and not Ray Data: a batch of captions is a few thousand files, each a
long chain of stages whose models are expensive to load; what matters is that models load
once per process, that one bad file fails alone with its one-line error, and that a lost
worker costs a retry, not the batch. Actors give exactly that (an actor is a process that
keeps its models, a call is one file, ``max_task_retries`` re-runs a call whose process
died). Ray Data's map_batches also keeps models in actors, but an exception in one row
aborts the whole dataset job (tried: one damaged file stopped every file), and it pulls
pyarrow and pandas for rows that here are just file names.

- :mod:`ccgen.cluster.connect`: is Ray installed, which cluster, a connection that fails in
  one line.
- :mod:`ccgen.cluster.actors`: the CPU captioner actors and the GPU describer actors.
- :mod:`ccgen.cluster.engine`: the driver, which writes every output and the manifest.

Importing this package does not import Ray; :func:`require_ray` says what to install.
"""

from typing import Any

from ccgen.cluster.connect import INSTALL_HINT, require_ray, resolve_address


def run_ray_batch(*args: Any, **kwargs: Any) -> Any:
    """:func:`ccgen.cluster.engine.run_ray_batch`, imported when first called."""
    from ccgen.cluster.engine import run_ray_batch as run

    return run(*args, **kwargs)


__all__ = ["INSTALL_HINT", "require_ray", "resolve_address", "run_ray_batch"]
