"""The SQLAlchemy 2 models of the cockpit's own tables.

They describe the schema that the shipped migrations create (a test compares the two). The hot
paths in :mod:`cockpit.store` use plain SQL, so the ORM is not imported when the cockpit starts.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

_SeqType = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    pass


class EventRow(Base):
    """One event. Rows are never updated or deleted (triggers refuse it)."""

    __tablename__ = "events"
    # What is queried (migration 0003): releases by their actions, a release's events in order.
    __table_args__ = (
        Index("ix_events_action", "action"),
        Index("ix_events_release_seq", "release_id", "seq"),
        # A release's events of one kind (migration 0004): its notes, the committee's approvals.
        Index("ix_events_release_action", "release_id", "action", "seq"),
    )

    seq: Mapped[int] = mapped_column(_SeqType, primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    schema: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[str] = mapped_column(String(32))
    release_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[str] = mapped_column(Text)
    rehearsal: Mapped[bool] = mapped_column(Boolean)
    actor: Mapped[str] = mapped_column(String(255))
    actor_evidence: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str | None] = mapped_column(Text)
    # Stamped by the server on PostgreSQL (not hashed): who inserted the row, and when.
    db_user: Mapped[str | None] = mapped_column(String(255))
    db_time: Mapped[str | None] = mapped_column(String(32))


class ChainHead(Base):
    """One row: the last seq and hash. Locked per append on PostgreSQL."""

    __tablename__ = "chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(_SeqType)
    hash: Mapped[str] = mapped_column(String(64))


class Lease(Base):
    """Who drives a release now (one row per release; every change is also an event)."""

    __tablename__ = "leases"

    release_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    token: Mapped[str] = mapped_column(String(36))
    since: Mapped[str] = mapped_column(String(32))
    heartbeat_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)


class StepOutput(Base):
    """A running step's output in chunks, for followers on other hosts."""

    __tablename__ = "step_output"

    release_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    intent_seq: Mapped[int] = mapped_column(_SeqType, primary_key=True, autoincrement=False)
    chunk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    item_id: Mapped[str] = mapped_column(String(128))
    written_at: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)


class OperatorRole(Base):
    """A database role made for one operator (``cockpit db grant NAME``)."""

    __tablename__ = "operator_roles"

    role: Mapped[str] = mapped_column(String(63), primary_key=True)
    operator: Mapped[str] = mapped_column(String(255))
    granted_at: Mapped[str] = mapped_column(String(32))
    granted_by: Mapped[str] = mapped_column(String(255))


class ReleaseSummary(Base):
    """A release as its events fold it (less the notes): a projection written in each append's
    transaction, rebuilt by ``cockpit db rebuild``, compared with the fold by verify."""

    __tablename__ = "release_summaries"

    release_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    plan: Mapped[str] = mapped_column(Text)
    environment: Mapped[str] = mapped_column(String(255))
    version: Mapped[str] = mapped_column(String(255))
    t0: Mapped[str] = mapped_column(String(64))
    zone: Mapped[str] = mapped_column(String(64))
    rehearsal: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[str] = mapped_column(String(32))
    created_seq: Mapped[int] = mapped_column(_SeqType, index=True)
    last_seq: Mapped[int] = mapped_column(_SeqType)
    last_action: Mapped[str] = mapped_column(String(64))
    event_count: Mapped[int] = mapped_column(_SeqType)


class ItemStateRow(Base):
    """The facts of one checklist item as its release's events leave them (never a verdict: the
    reader's signers judge approvals), a projection written in each append's transaction
    (:mod:`cockpit.itemfacts`, migration 0004)."""

    __tablename__ = "item_states"

    release_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    status: Mapped[str] = mapped_column(String(32))
    decided_by: Mapped[str | None] = mapped_column(String(255))
    decided_at: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    seq: Mapped[int] = mapped_column(_SeqType)
    signed: Mapped[bool] = mapped_column(Boolean)
    open_intent: Mapped[int | None] = mapped_column(_SeqType)
    intent_seq: Mapped[int | None] = mapped_column(_SeqType)
    seen: Mapped[str | None] = mapped_column(Text)
    expected: Mapped[str | None] = mapped_column(Text)
    votes: Mapped[str] = mapped_column(Text)
