"""Lambda SnapStart: what faasport does around the snapshot, and the user's restore hooks.

With ``snapstart = true``, Lambda initialises a published version once, snapshots its
memory, and resumes every new environment from that snapshot. So the work worth snapshotting
happens before it (the app imported, lifespan startup run), and what must not be shared by
every environment resumed from one snapshot is redone after restore: the random generator's
state, pooled database connections (their sockets belong to the environment that opened
them), cached secrets (they may have been rotated since the snapshot). Then the user's own
hooks run, in the order they were registered::

    from faasport import aws

    @aws.on_restore
    def reconnect() -> None:
        client.reset()

The hooks go through ``snapshot_restore_py``, which Lambda's Python runtime provides.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from faasport.core.runner import AppRunner

    Hook = Callable[[], object]

_restore_hooks: list[Hook] = []


def on_restore(hook: Hook) -> Hook:
    """Run ``hook()`` in every environment resumed from a SnapStart snapshot, after
    faasport's own restore work. Usable as a decorator; returns ``hook``."""
    _restore_hooks.append(hook)
    return hook


def register(runner: AppRunner) -> None:
    """Have Lambda's runtime prepare ``runner`` before the snapshot and call
    :func:`restored` after each restore."""
    from snapshot_restore_py import register_after_restore, register_before_snapshot

    register_before_snapshot(runner.prepare)
    register_after_restore(restored)


def restored() -> None:
    """Undo what one snapshot would otherwise share between environments, then run the
    user's hooks."""
    import random  # not at import: faasport.aws imports this module on every cold start

    random.seed()  # from os.urandom: each environment its own sequence
    db = sys.modules.get("faasport.db")
    if db is not None:
        db.dispose()
    secrets = sys.modules.get("faasport.secrets")
    if secrets is not None:
        secrets.clear()
    for hook in list(_restore_hooks):
        hook()
