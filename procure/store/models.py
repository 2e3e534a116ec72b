"""The store's tables, as SQLAlchemy 2 typed declarative models.

* ``workbooks``: each distinct base workbook once (by sha256), its bytes;
* ``scenarios``: one row per saved version of a named scenario: the definition as written,
  the workbook it ran on, the summary, solver statistics and timings, author, saved_at;
* ``result_tables``: the result tables of a saved scenario (Apache Parquet bytes);
* ``analyses`` and ``analysis_tables``: cooperation and security analyses (fair shares, rule
  costs, stress tests) keyed by scenario name and kind, versioned the same way.

The schema is created and upgraded by the Alembic migrations in ``migrations/`` (never by
``create_all``), so that an existing store is upgraded in place.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAME_LENGTH = 200


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}


class Workbook(Base):
    __tablename__ = "workbooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int]
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ScenarioVersion(Base):
    __tablename__ = "scenarios"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_scenarios_name_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), index=True)
    version: Mapped[int]
    description: Mapped[str] = mapped_column(Text, default="")
    #: the scenario file as written (TOML)
    definition: Mapped[str] = mapped_column(Text)
    workbook_id: Mapped[int] = mapped_column(ForeignKey("workbooks.id"), index=True)
    author: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    saved_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(32))
    total_cost: Mapped[float | None]
    currency: Mapped[str] = mapped_column(String(16))
    #: ``Result.summary()`` (the JSON of ``procure solve --json``)
    summary: Mapped[dict[str, Any]]
    #: solver statistics and timings: solver, is_mip, mip_gap, model size, seconds
    stats: Mapped[dict[str, Any]]
    warnings: Mapped[list[str]]

    workbook: Mapped[Workbook] = relationship()
    tables: Mapped[list[ResultTable]] = relationship(
        back_populates="scenario", cascade="all, delete-orphan", passive_deletes=True,
        order_by="ResultTable.id")


class _TableBytes:
    """A table kept as bytes (:mod:`procure.store.frames`): its name, format and row count."""

    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    format: Mapped[str] = mapped_column(String(16))
    rows: Mapped[int]
    content: Mapped[bytes] = mapped_column(LargeBinary)


class ResultTable(_TableBytes, Base):
    __tablename__ = "result_tables"
    __table_args__ = (UniqueConstraint("scenario_id", "name", name="uq_result_tables_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("scenarios.id", ondelete="CASCADE"))

    scenario: Mapped[ScenarioVersion] = relationship(back_populates="tables")


class Analysis(Base):
    __tablename__ = "analyses"
    __table_args__ = (
        UniqueConstraint("scenario_name", "kind", "version", name="uq_analyses_version"),
        Index("ix_analyses_scenario_kind", "scenario_name", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scenario_name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    kind: Mapped[str] = mapped_column(String(NAME_LENGTH))
    version: Mapped[int]
    #: the newest version of the scenario of that name when the analysis was saved, if any
    scenario_version: Mapped[int | None]
    author: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    saved_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    summary: Mapped[dict[str, Any]]

    tables: Mapped[list[AnalysisTable]] = relationship(
        back_populates="analysis", cascade="all, delete-orphan", passive_deletes=True,
        order_by="AnalysisTable.id")


class AnalysisTable(_TableBytes, Base):
    __tablename__ = "analysis_tables"
    __table_args__ = (UniqueConstraint("analysis_id", "name", name="uq_analysis_tables_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    analysis_id: Mapped[int] = mapped_column(ForeignKey("analyses.id", ondelete="CASCADE"))

    analysis: Mapped[Analysis] = relationship(back_populates="tables")
