"""Build the demo warehouse at a URL: generate, refuse to clobber real data, load, record truth."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import inspect, select

from ..engine import make_engine, parse_url, redact, translate_errors
from ..errors import UserError
from ..load import write_warehouse
from ..schema import CONTRACT_VERSION, meta_load
from .anomalies import for_contract_version
from .generate import generate

DEMO_SOURCE_PREFIX = "demo generator"


@dataclass
class BuildResult:
    display_url: str
    counts: dict[str, int]
    anomalies: list[dict]
    truth_path: Path
    generate_seconds: float
    load_seconds: float
    defects: list[dict] = field(default_factory=list)


def default_truth_path(url: str) -> Path:
    """Beside a DuckDB/SQLite file; for a server, in ./data named after the database."""
    parsed = parse_url(url)
    if parsed.get_backend_name() in ("duckdb", "sqlite") and parsed.database and parsed.database != ":memory:":
        p = Path(parsed.database)
        return p.with_name(p.stem + ".anomalies.json")
    return Path("data") / f"{parsed.get_backend_name()}-{parsed.host or 'local'}-{parsed.database}.anomalies.json"


def is_demo_warehouse(engine) -> bool | None:
    """True if the newest load is the demo generator's, False if it is someone else's, None if empty."""
    with translate_errors(engine.url):
        if "meta_load" not in inspect(engine).get_table_names():
            return None
        with engine.connect() as conn:
            row = conn.execute(select(meta_load.c.source).order_by(meta_load.c.loaded_at.desc()).limit(1)).first()
    if row is None:
        return None
    return str(row[0]).startswith(DEMO_SOURCE_PREFIX)


def build_demo(url: str, *, scale: float = 1.0, years: int = 5, seed: int = 42, through: date | None = None,
               now: datetime | None = None, truth: Path | None = None, force: bool = False,
               progress: bool = True, anomalies: bool = True, placement: str = "fixed",
               contract_version: int = CONTRACT_VERSION, defects: bool = False) -> BuildResult:
    """Generate the demo hospital and load it into `url`. `contract_version=1` writes the warehouse a
    version 1 hospital has (no table or column version 2 added; DIP cases keep their DIP payment)."""
    if contract_version not in (1, CONTRACT_VERSION):
        raise UserError(f"contract version is 1 or {CONTRACT_VERSION}, not {contract_version}")
    parsed = parse_url(url)
    file_backed = parsed.get_backend_name() in ("duckdb", "sqlite") and parsed.database not in (None, "", ":memory:")
    engine = make_engine(url)
    try:
        existing = is_demo_warehouse(engine)
        if existing is False and not force:
            raise UserError(f"{redact(parsed)} holds a warehouse that the demo generator did not build: "
                            "refusing to overwrite it (use --force if you mean it)")
    finally:
        engine.dispose()
    t0 = time.perf_counter()
    say = (lambda msg: print(f"  {msg}", flush=True)) if progress else None
    data = generate(scale=scale, years=years, seed=seed, through=through, now=now, progress=say, anomalies=anomalies,
                    placement=placement, defects=defects)
    t1 = time.perf_counter()
    if file_backed:
        path = Path(parsed.database)
        tmp = path.with_name(path.name + ".building")
        for p in (tmp, Path(str(tmp) + ".wal")):
            p.unlink(missing_ok=True)
        engine = make_engine(parsed.set(database=str(tmp)))
    else:
        engine = make_engine(url)
    try:
        with translate_errors(parsed):
            counts = write_warehouse(engine, data.tables, progress=progress, version=contract_version)
    finally:
        engine.dispose()
    if file_backed:
        for p in (path, Path(str(path) + ".wal")):
            p.unlink(missing_ok=True)
        tmp.rename(path)  # readers never see a half-built file
    t2 = time.perf_counter()
    truth_path = truth or default_truth_path(url)
    recorded = for_contract_version(data.anomalies, contract_version)
    write_truth(truth_path, recorded, {**data.params, "contract_version": contract_version}, data.defects)
    return BuildResult(redact(parsed), counts, recorded, truth_path, t1 - t0, t2 - t1, data.defects)


def write_truth(path: Path, anomalies: list[dict], params: dict, defects: list[dict] | None = None) -> None:
    """The ground-truth file of injected anomalies and data defects (beside the warehouse, never inside it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"generator": "data_layer demo", "params": params, "anomalies": anomalies}
    if defects:
        payload["defects"] = defects
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
