"""The campaign catalog: one SQLite database (WAL) per campaign directory.

Tables: ``meta`` (campaign name, file hash, the campaign file's path, the SLURM worker
jobs of a slurm executor), ``jobs`` (key, design, replica, status, timings, ns/day,
platform, error, and where it ran: host, SLURM job id, worker log) and ``descriptors`` (job key,
name, value, standard error, effective samples n_eff, converged (1/0, NULL: not
assessed), reason, the trajectory time it covers, the run-length factor shells need to
exchange). Catalogs made before the convergence or placement columns existed gain them
when opened (NULL for the old rows). Only the coordinating process writes; every write is a short
transaction, so a killed campaign loses no finished result and readers never see half
a job.
"""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from solvation.errors import SolvationError

from .definitions import unit_of

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS jobs (
    key TEXT PRIMARY KEY, design TEXT, replica INTEGER, status TEXT, attempts INTEGER,
    started REAL, finished REAL, seconds REAL, ns_per_day REAL, platform TEXT, error TEXT,
    spec TEXT, host TEXT, slurm_job TEXT, log TEXT);
CREATE TABLE IF NOT EXISTS descriptors (
    job TEXT, name TEXT, value REAL, err REAL, n_eff REAL, converged INTEGER, reason TEXT,
    span_ps REAL, time_factor REAL, sampled INTEGER, problem TEXT, PRIMARY KEY (job, name));
"""
DESCRIPTOR_COLUMNS = (
    "n_eff REAL",
    "converged INTEGER",
    "reason TEXT",
    "span_ps REAL",
    "time_factor REAL",
    "sampled INTEGER",
    "problem TEXT",
)
JOB_COLUMNS = ("host TEXT", "slurm_job TEXT", "log TEXT")


class CatalogError(SolvationError):
    """A campaign directory that belongs to another campaign file, or a directory that is
    not a campaign directory."""


# queued: handed to a Dask scheduler, not started on a worker yet
STATES = ("pending", "queued", "running", "interrupted", "failed", "done")


class Catalog:
    """Thin wrapper over the campaign's SQLite database.

    Parameters
    ----------
    directory : str or Path
        The campaign directory (created if missing).
    """

    def __init__(self, directory: str | Path):
        self.path = Path(directory) / "catalog.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(SCHEMA)
            for table, columns in (("descriptors", DESCRIPTOR_COLUMNS), ("jobs", JOB_COLUMNS)):
                have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
                for column in columns:
                    if column.split()[0] not in have:
                        db.execute(f"ALTER TABLE {table} ADD COLUMN {column}")

    @classmethod
    def existing(cls, directory: str | Path) -> Catalog:
        """The catalog of an existing campaign directory; refuses anything else without
        creating files."""
        directory = Path(directory)
        if not (directory / "catalog.sqlite").is_file():
            what = "does not exist" if not directory.exists() else "holds no catalog.sqlite"
            raise CatalogError(
                f"{directory} {what}: it is not a campaign directory (make one with "
                "`solvation campaign run CAMPAIGN.toml -o DIR`)"
            )
        return cls(directory)

    @contextmanager
    def _db(self):
        try:
            db = sqlite3.connect(self.path, timeout=60)
        except sqlite3.OperationalError as err:
            raise CatalogError(f"cannot open {self.path}: {err}") from None
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA busy_timeout=60000")
            with db:
                yield db
        except sqlite3.DatabaseError as err:
            if isinstance(err, sqlite3.OperationalError) and "no such" not in str(err):
                raise  # locked, disk full ...: not the file's fault
            raise CatalogError(
                f"{self.path} is not a campaign catalog this version can read ({err}); "
                "it may be damaged or another file: move it away and run the campaign again "
                "(finished jobs are recomputed from their directories' results)"
            ) from None
        finally:
            db.close()

    def claim(self, name: str, file_hash: str, source: str | Path | None = None) -> None:
        """Bind the directory to a campaign; refuse one made by a different file. The
        campaign file's absolute path is kept (``campaign_file``) for ``rank``."""
        with self._db() as db:
            row = db.execute("SELECT value FROM meta WHERE key='file_hash'").fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO meta VALUES ('file_hash', ?), ('name', ?)", (file_hash, name)
                )
            elif row[0] != file_hash:
                raise CatalogError(
                    f"{self.path.parent} was made by a different campaign file; "
                    "use another directory"
                )
            if source is not None:
                db.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('campaign_file', ?)",
                    (str(Path(source).resolve()),),
                )

    def set_meta(self, key: str, value: str) -> None:
        """Set a value of the ``meta`` table."""
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def meta(self, key: str) -> str | None:
        """A value of the ``meta`` table (name, file_hash, campaign_file)."""
        with self._db() as db:
            row = db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def register(self, jobs) -> None:
        """Add ``jobs`` as pending (jobs already known are kept as they are)."""
        with self._db() as db:
            db.executemany(
                "INSERT OR IGNORE INTO jobs (key, design, replica, status, attempts, spec) "
                "VALUES (?, ?, ?, 'pending', 0, ?)",
                [(j.key, j.design_name, j.replica, json.dumps(j.design)) for j in jobs],
            )

    def status(self, key: str) -> str | None:
        """Status of job ``key`` (pending, running, done, failed ...), None if unknown."""
        with self._db() as db:
            row = db.execute("SELECT status FROM jobs WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def mark_queued(self, keys: list[str]) -> None:
        """Jobs handed to a Dask scheduler that no worker has started yet."""
        with self._db() as db:
            db.executemany(
                "UPDATE jobs SET status='queued', error=NULL WHERE key=?", [(k,) for k in keys]
            )

    def mark_running(self, key: str, where: dict | None = None) -> None:
        """Mark job ``key`` running and count the attempt; ``where``: the host, SLURM job
        and worker log it runs in (``slurm.where_am_i``), when known."""
        where = where or {}
        with self._db() as db:
            db.execute(
                "UPDATE jobs SET status='running', attempts=attempts+1, started=?, host=?, "
                "slurm_job=?, log=?, error=NULL WHERE key=?",
                (
                    where.get("started", time.time()),
                    where.get("host"),
                    where.get("slurm_job"),
                    where.get("log"),
                    key,
                ),
            )

    def requeue(self, keys: list[str], note: str | None = None) -> None:
        """Queued jobs that never started go back to pending (``note`` says why)."""
        with self._db() as db:
            db.executemany(
                "UPDATE jobs SET status='pending', error=? WHERE key=? AND status='queued'",
                [(note, k) for k in keys],
            )

    def mark_interrupted(self, keys: list[str], note: str | None = None) -> None:
        """Jobs stopped by the user (or busy in another process): resumable on the next
        run, not failed; ``note`` is kept in the error column."""
        with self._db() as db:
            db.executemany(
                "UPDATE jobs SET status='interrupted', error=? WHERE key=? AND status='running'",
                [(note, k) for k in keys],
            )

    def counts(self) -> dict[str, int]:
        """Number of jobs in each state (every state of STATES, zeros included)."""
        with self._db() as db:
            rows = db.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status").fetchall()
        return {**dict.fromkeys(STATES, 0), **dict(rows)}

    def finish(self, key: str, result: dict) -> None:
        """Store a finished job and its descriptors in one transaction."""
        with self._db() as db:
            db.execute(
                "UPDATE jobs SET status='done', finished=?, seconds=?, ns_per_day=?, "
                "platform=?, error=NULL WHERE key=?",
                (
                    time.time(),
                    result.get("seconds"),
                    result.get("ns_per_day"),
                    result.get("platform"),
                    key,
                ),
            )
            db.executemany(
                "INSERT OR REPLACE INTO descriptors (job, name, value, err, n_eff, converged, "
                "reason, span_ps, time_factor, sampled, problem) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        key,
                        n,
                        d["value"],
                        d.get("err"),
                        d.get("n_eff"),
                        None if d.get("converged") is None else int(d["converged"]),
                        d.get("reason"),
                        d.get("span_ps"),
                        d.get("time_factor"),
                        None if d.get("sampled") is None else int(d["sampled"]),
                        d.get("problem"),
                    )
                    for n, d in result.get("descriptors", {}).items()
                ],
            )

    def fail(self, key: str, error: str) -> None:
        """Mark job ``key`` failed with (the tail of) its ``error`` text."""
        with self._db() as db:
            db.execute(
                "UPDATE jobs SET status='failed', finished=?, error=? WHERE key=?",
                (time.time(), error[-4000:], key),
            )

    def jobs(self) -> pd.DataFrame:
        """Every job with its status, attempts, time and performance, as a table."""
        with self._db() as db:
            return pd.read_sql_query(
                "SELECT key, design, replica, status, attempts, seconds, "
                "ns_per_day, platform, error, host, slurm_job, log FROM jobs "
                "ORDER BY design, replica",
                db,
            )

    def descriptors(self) -> pd.DataFrame:
        """One row per job and descriptor, with the design and replica and the
        descriptor's unit (``definitions``); ``converged`` and ``sampled`` are nullable
        booleans (NULL: not assessed)."""
        with self._db() as db:
            table = pd.read_sql_query(
                "SELECT j.design, j.replica, d.job, d.name, d.value, d.err, d.n_eff, "
                "d.converged, d.reason, d.span_ps, d.time_factor, d.sampled, d.problem "
                "FROM descriptors d "
                "JOIN jobs j ON j.key = d.job WHERE j.status='done' "
                "ORDER BY j.design, j.replica, d.name",
                db,
            )
        table["converged"] = table["converged"].astype("boolean")
        table["sampled"] = table["sampled"].astype("boolean")
        table.insert(table.columns.get_loc("value"), "unit", table["name"].map(unit_of))
        return table

    def export(self, directory: str | Path) -> list[Path]:
        """jobs.csv, descriptors.csv and descriptors.parquet in ``directory``; the
        descriptor tables carry a ``unit`` column (value and err are in it; "1":
        dimensionless)."""
        directory = Path(directory)
        out = [directory / "jobs.csv", directory / "descriptors.csv"]
        self.jobs().to_csv(out[0], index=False)
        table = self.descriptors()
        table.to_csv(out[1], index=False)
        try:
            table.to_parquet(directory / "descriptors.parquet", index=False)
            out.append(directory / "descriptors.parquet")
        except ImportError:  # pyarrow is optional
            pass
        return out
