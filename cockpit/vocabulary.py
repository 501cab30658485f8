"""The vocabulary of the log: every event ``action`` the cockpit records, in one place.

Each action is a constant with a one-line meaning, grouped by what it is about. An action that
changes the world is written twice (write-ahead): its intent before it runs (``*.started``) and
its outcome after (``*.succeeded``/``*.done`` or ``*.failed``). :data:`ALL_ACTIONS` is the whole
registry and :data:`REASON_REQUIRED` the actions whose event must say why (the store refuses them
without a reason). ``tests/test_vocabulary.py`` reads the engine's source and fails when an
action is spelled there that is not registered here. The last section holds the words the
commands take (decisions on an item, version bumps, export formats): the engine checks them and
the CLI offers them as choices from here. Pure data: no imports, so `cockpit --help` stays
instant.
"""

from __future__ import annotations

# --- releases ------------------------------------------------------------------------------------

RELEASE_CREATED = "release.created"  # a release opened: version, plan and environment
VERSION_CHOSEN = "version.chosen"  # a version other than the planned or suggested one was taken
RELEASE_CLOSED = "release.closed"  # the release's work is over
RELEASE_CANCELLED = "release.cancelled"  # the release was given up (release.py asks a reason)
NOTE = "note"  # free text from an operator; the reason holds the text

# --- checklist items -----------------------------------------------------------------------------

ITEM_DONE = "item.done"  # a manual item confirmed, or a check's probe passed (its outcome)
ITEM_SKIPPED = "item.skipped"  # an item skipped, with the reason why
# A done or skipped manual or check item opened again (a mis-tick), with the reason why; its
# details name the gates whose approvals it voided (the gates after it in its phase).
ITEM_REOPENED = "item.reopened"
CHECK_STARTED = "check.started"  # intent: a check item's probe is about to run
CHECK_FAILED = "check.failed"  # outcome: the probe failed
GATE_APPROVED = "gate.approved"  # one approval of a gate, bound to the plan's SHA-256
GATE_REJECTED = "gate.rejected"  # a gate rejected, with the reason why
OVERRIDE_REQUESTED = "override.requested"  # production outside the window: first of two operators
OVERRIDE = "override"  # a rule (the change window) overridden, with the reason why
NO_GO = "no_go"  # a no-go outside a watch; validation knows it, nothing records it today

# --- deployment steps ----------------------------------------------------------------------------

STEP_STARTED = "step.started"  # intent: a deployment step (or a tag step) is about to run
STEP_SUCCEEDED = "step.succeeded"  # outcome: the step ran and verified
STEP_FAILED = "step.failed"  # outcome: the step failed (the first line of the error)
STEP_CANCEL_REQUESTED = "step.cancel_requested"  # an operator asked a running step to stop
STEP_CANCELLED = "step.cancelled"  # outcome: the step was stopped on request (group killed)
STEP_BLOCKED = "step.blocked"  # the step's preview refused it: nothing was run
STEP_RECHECKED = "step.rechecked"  # resume: the real world re-checked for an interrupted step
STEP_UNDO_STARTED = "step.undo_started"  # intent: a done step is about to be undone
STEP_UNDONE = "step.undone"  # outcome: the step was undone
STEP_UNDO_FAILED = "step.undo_failed"  # outcome: the undo failed
STEP_UNDO_SKIPPED = "step.undo_skipped"  # a failed undo left as it is, with the reason why
ROLLBACK_STARTED = "rollback.started"  # a rollback decided, with the reason why
ROLLBACK_FINISHED = "rollback.finished"  # the rollback ended: what was undone, skipped, left

# --- version tags --------------------------------------------------------------------------------

TAG_STARTED = "tag.started"  # intent: tag a version outside a checklist step
TAG_CREATED = "tag.created"  # the tag was made (sha, signature, the log's head in its message)
TAG_PUSH_FAILED = "tag.push_failed"  # the atomic push of branch and tag failed
TAG_PUBLISHED = "tag.published"  # branch and tag pushed to the remote
TAG_DONE = "tag.done"  # outcome of tag.started: done
TAG_FAILED = "tag.failed"  # outcome of tag.started: failed

# --- metrics and the post-release watch ----------------------------------------------------------

METRICS_BASELINE = "metrics.baseline"  # the baseline the triggers compare with
WATCH_STARTED = "watch.started"  # the post-release watch began (its panels and length)
TRIGGER_FIRED = "trigger.fired"  # a trigger's rule held: rule, query, baseline, samples
TRIGGER_CONTINUED = "trigger.continued"  # go on despite a fired trigger, with the reason why
NODATA_OVERRIDE = "nodata.override"  # go on although panels have no data, with the reason why
WATCH_GO = "watch.go"  # the watch ended healthy: go
WATCH_NO_GO = "watch.no_go"  # the watch ended in a no-go, with the reason why

# --- who drives a release (the lease, cockpit/lease.py) -----------------------------------------

LEASE_TAKEN = "lease.taken"  # an operator drives the release now (holder, host, pid, ttl)
LEASE_RELEASED = "lease.released"  # the driver let go (quit, detach, `cockpit lease release`)
LEASE_EXPIRED = "lease.expired"  # heartbeat loss: a dead lease found by the next taker
LEASE_TAKEN_OVER = "lease.taken_over"  # a live (or dead) lease taken over, with the reason why
LEASE_TAKEOVER_APPROVED = "lease.takeover_approved"  # a second operator approves a takeover

# --- the log itself ------------------------------------------------------------------------------

AUDIT_BREAK_ACKNOWLEDGED = "audit.break_acknowledged"  # a broken chain investigated: seq, finding

# --- database roles (PostgreSQL; recorded in the same transaction as the change) ----------------

DB_ROLE_GRANTED = "db.role_granted"  # a role may append: its operator (or shared), by whom
DB_ROLE_REVOKED = "db.role_revoked"  # a role's privileges and login taken away

# --- notices to people (cockpit/notify/: the outbox, `notify` items) ---------------------------

NOTICE_QUEUED = "notice.queued"  # a notice to send: channel, what happened, its text (subject: key)
NOTICE_ATTEMPT = "notice.attempt"  # intent: one attempt at sending a queued notice
NOTICE_SENT = "notice.sent"  # outcome: the channel took it (once per notice)
NOTICE_ATTEMPT_FAILED = "notice.attempt_failed"  # outcome: the channel refused or was down
NOTICE_FAILED = "notice.failed"  # a notice given up after its last attempt

ALL_ACTIONS = frozenset(
    {
        RELEASE_CREATED,
        VERSION_CHOSEN,
        RELEASE_CLOSED,
        RELEASE_CANCELLED,
        NOTE,
        ITEM_DONE,
        ITEM_SKIPPED,
        ITEM_REOPENED,
        CHECK_STARTED,
        CHECK_FAILED,
        GATE_APPROVED,
        GATE_REJECTED,
        OVERRIDE_REQUESTED,
        OVERRIDE,
        NO_GO,
        STEP_STARTED,
        STEP_SUCCEEDED,
        STEP_FAILED,
        STEP_BLOCKED,
        STEP_CANCEL_REQUESTED,
        STEP_CANCELLED,
        STEP_RECHECKED,
        STEP_UNDO_STARTED,
        STEP_UNDONE,
        STEP_UNDO_FAILED,
        STEP_UNDO_SKIPPED,
        ROLLBACK_STARTED,
        ROLLBACK_FINISHED,
        TAG_STARTED,
        TAG_CREATED,
        TAG_PUSH_FAILED,
        TAG_PUBLISHED,
        TAG_DONE,
        TAG_FAILED,
        METRICS_BASELINE,
        WATCH_STARTED,
        TRIGGER_FIRED,
        TRIGGER_CONTINUED,
        NODATA_OVERRIDE,
        WATCH_GO,
        WATCH_NO_GO,
        AUDIT_BREAK_ACKNOWLEDGED,
        DB_ROLE_GRANTED,
        DB_ROLE_REVOKED,
        LEASE_TAKEN,
        LEASE_RELEASED,
        LEASE_EXPIRED,
        LEASE_TAKEN_OVER,
        LEASE_TAKEOVER_APPROVED,
        NOTICE_QUEUED,
        NOTICE_ATTEMPT,
        NOTICE_SENT,
        NOTICE_ATTEMPT_FAILED,
        NOTICE_FAILED,
    }
)

# Actions whose event must say why.
REASON_REQUIRED = frozenset(
    {
        STEP_UNDO_SKIPPED,
        ITEM_SKIPPED,
        ITEM_REOPENED,
        NO_GO,
        OVERRIDE,
        ROLLBACK_STARTED,
        GATE_REJECTED,
        WATCH_NO_GO,
        TRIGGER_CONTINUED,
        NODATA_OVERRIDE,
        AUDIT_BREAK_ACKNOWLEDGED,
        LEASE_TAKEN_OVER,
    }
)


# --- words the commands take ------------------------------------------------------------------

# What an operator can decide on a checklist item (`cockpit item ACTION`, the checklist's keys).
DECISIONS = ("done", "skip", "approve", "reject", "resume", "redo", "reopen")
# The decisions that only a step item takes: run it again after an interruption, or anew.
STEP_DECISIONS = frozenset({"resume", "redo"})
# Which part of a semantic version to raise, and the pre-release series (`1.4.0-beta.1`).
BUMPS = ("major", "minor", "patch")
PRE_TOKENS = ("alpha", "beta", "rc")
# `cockpit audit export --format`.
EXPORT_FORMATS = ("jsonl", "csv", "md")

# --- the calendar and rehearsals (docs/windows.md, docs/rehearsal.md) ---------------------------

EMERGENCY_APPROVED = "emergency.approved"  # the release committee lets an emergency release run
# Why a release may be an emergency (the release procedure's criteria): a serious vulnerability,
# an outage, a legal requirement (`cockpit release new --emergency`).
EMERGENCY_CRITERIA = ("vulnerability", "outage", "legal")
ALL_ACTIONS = ALL_ACTIONS | {EMERGENCY_APPROVED}
