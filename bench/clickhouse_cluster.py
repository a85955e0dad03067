"""A throw-away two-shard ClickHouse cluster on loopback, for tests and benchmarks.

Each shard is its own `clickhouse-server` process with its own config, data folder and
ports (HTTP, native, interserver); both know the cluster `hospdash` (one replica per
shard) through `remote_servers`, so a `Distributed` table on either server spreads a
query over both. Nothing outside the chosen folder is touched.

    with ClickHouseCluster.started() as cluster:
        url = cluster.url()  # clickhouse+native://default@127.0.0.1:PORT/default
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from xml.sax.saxutils import escape

CLUSTER = "hospdash"
# The Debian package (18.16) installs /usr/sbin/clickhouse-server; newer upstream builds ship `clickhouse server`.
SERVER_CANDIDATES = ("clickhouse-server", "/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server")


class ClusterError(RuntimeError):
    """The cluster could not be started."""


def find_server() -> str | None:
    """The clickhouse-server binary, or None when it is not installed."""
    for name in SERVER_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def free_ports(n: int) -> list[int]:
    """n distinct TCP ports on 127.0.0.1 that are free right now."""
    socks, ports = [], []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


@dataclass
class Node:
    """One shard: a server process with its own folder and ports."""

    name: str
    folder: Path
    http_port: int
    tcp_port: int
    interserver_port: int
    process: subprocess.Popen | None = None

    @property
    def config(self) -> Path:
        return self.folder / "config.xml"

    def log_tail(self, lines: int = 15) -> str:
        for name in ("err.log", "server.log", "stdout.log"):
            path = self.folder / name
            if path.exists() and path.stat().st_size:
                return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        return "(no log)"


_USERS_XML = """<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage><load_balancing>in_order</load_balancing></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows>
    <read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
"""


def _config_xml(node: Node, shards: list[Node]) -> str:
    d = escape(str(node.folder))
    replicas = "\n".join(
        f"      <shard><replica><host>127.0.0.1</host><port>{s.tcp_port}</port></replica></shard>" for s in shards)
    return f"""<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>{d}/server.log</log><errorlog>{d}/err.log</errorlog>
    <size>10M</size><count>1</count></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>{node.http_port}</http_port>
  <tcp_port>{node.tcp_port}</tcp_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <interserver_http_port>{node.interserver_port}</interserver_http_port>
  <path>{d}/data/</path>
  <tmp_path>{d}/tmp/</tmp_path>
  <user_files_path>{d}/user_files/</user_files_path>
  <format_schema_path>{d}/format_schemas/</format_schema_path>
  <users_config>{d}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
  <max_concurrent_queries>50</max_concurrent_queries>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <remote_servers>
    <{CLUSTER}>
{replicas}
    </{CLUSTER}>
  </remote_servers>
</yandex>
"""


@dataclass
class ClickHouseCluster:
    """Two (or more) clickhouse-server processes forming the cluster `hospdash`."""

    root: Path
    shards: int = 2
    server: str | None = None
    nodes: list[Node] = field(default_factory=list)
    _owns_root: bool = False

    def start(self, timeout: float = 60.0) -> ClickHouseCluster:
        """Write the configs, start every server and wait until each answers /ping."""
        binary = self.server or find_server()
        if binary is None:
            raise ClusterError("clickhouse-server is not installed (apt-get install clickhouse-server clickhouse-client)")
        ports = free_ports(3 * self.shards)
        self.nodes = [Node(f"shard{i + 1}", self.root / f"shard{i + 1}", *ports[3 * i:3 * i + 3])
                      for i in range(self.shards)]
        for node in self.nodes:
            for sub in ("data", "tmp", "user_files", "format_schemas"):
                (node.folder / sub).mkdir(parents=True, exist_ok=True)
            (node.folder / "users.xml").write_text(_USERS_XML)
            node.config.write_text(_config_xml(node, self.nodes))
        try:
            for node in self.nodes:
                out = (node.folder / "stdout.log").open("wb")
                node.process = subprocess.Popen([binary, f"--config-file={node.config}"], cwd=node.folder,
                                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
                out.close()
            deadline = time.monotonic() + timeout
            for node in self.nodes:
                self._wait(node, deadline)
        except BaseException:
            self.stop(remove=False)
            raise
        return self

    @staticmethod
    def _wait(node: Node, deadline: float) -> None:
        while True:
            if node.process is not None and node.process.poll() is not None:
                raise ClusterError(f"clickhouse-server {node.name} exited with code {node.process.returncode}:\n"
                                   f"{node.log_tail()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{node.http_port}/ping", timeout=1) as resp:
                    if resp.read().strip() == b"Ok.":
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise ClusterError(f"clickhouse-server {node.name} did not answer on port {node.http_port}:\n"
                                   f"{node.log_tail()}")
            time.sleep(0.2)

    def stop(self, remove: bool = True) -> None:
        """Stop every server this object started (SIGTERM, then SIGKILL) and remove a folder it created."""
        for node in self.nodes:
            proc = node.process
            if proc is None or proc.poll() is not None:
                continue
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if remove and self._owns_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, node: int = 0, database: str = "default") -> str:
        """SQLAlchemy URL of one server (queries on Distributed tables reach both shards from any node)."""
        return f"clickhouse+native://default@127.0.0.1:{self.nodes[node].tcp_port}/{database}"

    @property
    def tcp_addresses(self) -> list[tuple[str, int]]:
        return [("127.0.0.1", n.tcp_port) for n in self.nodes]

    @classmethod
    @contextmanager
    def started(cls, root: Path | None = None, shards: int = 2, timeout: float = 60.0) -> Iterator[ClickHouseCluster]:
        """A running cluster in `root` (default: a new temporary folder, removed afterwards)."""
        owns = root is None
        folder = Path(tempfile.mkdtemp(prefix="hospdash-ch-")) if root is None else root
        cluster = cls(folder, shards=shards, _owns_root=owns)
        try:
            cluster.start(timeout=timeout)
            yield cluster
        finally:
            cluster.stop(remove=True)
            if owns:
                shutil.rmtree(folder, ignore_errors=True)


def _median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return sorted(times)[len(times) // 2]


def indicator_timings(urls: dict[str, str], period_text: str | None = None, runs: int = 5,
                      levels: tuple[str, ...] = ("hospital", "department")) -> list[dict]:
    """Median uncached time of every indicator (one indicator_values call each) on each warehouse URL."""
    from data_layer.periods import parse_period
    from data_layer.queries.kpis import indicator_values
    from data_layer.registry import INDICATORS, Level
    from data_layer.scope import Scope
    from data_layer.warehouse import Warehouse

    whs = {name: Warehouse(url) for name, url in urls.items()}
    first = next(iter(whs.values()))
    through = first.freshness().data_through
    period = parse_period(period_text or str(through.year - 1), through)
    rows = []
    for level_name in levels:
        level = Level(level_name)
        for code, ind in INDICATORS.items():
            if level not in ind.levels:
                continue
            row = {"level": level_name, "indicator": code, "sources": "+".join(sorted(ind.sources))}
            for name, wh in whs.items():
                run = partial(indicator_values.uncached, wh, Scope.hospital(), (code,), period, level)
                run()  # warm: names, freshness, connections
                row[name] = _median_ms(run, runs)
            rows.append(row)
        row = {"level": level_name, "indicator": "(all at once)", "sources": "all"}
        codes = tuple(c for c, i in INDICATORS.items() if level in i.levels)
        for name, wh in whs.items():
            run_all = partial(indicator_values.uncached, wh, Scope.hospital(), codes, period, level)
            run_all()
            row[name] = _median_ms(run_all, runs)
        rows.append(row)
    for wh in whs.values():
        wh.engine.dispose()
    return rows


def _tables_from_duckdb(path: str) -> dict:
    import duckdb

    from data_layer.schema import TABLE_ORDER

    con = duckdb.connect(path, read_only=True)
    try:
        return {name: con.table(name).df() for name in TABLE_ORDER}
    finally:
        con.close()


def main(argv: list[str] | None = None) -> None:
    """`python -m bench.clickhouse_cluster`: a cluster until Ctrl-C; with --timings, DuckDB vs cluster figures."""
    import argparse

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--timings", action="store_true", help="load a warehouse, time every indicator, print markdown")
    ap.add_argument("--duckdb", help="DuckDB warehouse to copy (default: the small demo warehouse of the tests)")
    ap.add_argument("--period", help="period to time (default: the last whole year)")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    with ClickHouseCluster.started() as c:
        if not args.timings:
            for i, n in enumerate(c.nodes):
                print(f"{n.name}: {c.url(i)}  (http {n.http_port})  folder {n.folder}")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                return
        from data_layer.clickhouse import load_cluster

        folder = c.root / "duck"
        folder.mkdir()
        if args.duckdb:
            duck_url = f"duckdb:///{args.duckdb}"
            t = time.perf_counter()
            tables = _tables_from_duckdb(args.duckdb)
            read_s = time.perf_counter() - t
        else:
            from datetime import date, datetime

            from data_layer.demo import generate, write_warehouse
            from data_layer.engine import make_engine

            tables = generate(scale=0.05, years=2, seed=7, through=date(2026, 11, 21),
                              now=datetime(2026, 11, 22, 10, 30)).tables
            duck_url = f"duckdb:///{folder / 'small.duckdb'}"
            engine = make_engine(duck_url)
            write_warehouse(engine, tables, progress=False)
            engine.dispose()
            read_s = 0.0
        t = time.perf_counter()
        load_cluster(c.tcp_addresses, tables)
        load_s = time.perf_counter() - t
        rows_total = sum(len(df) for df in tables.values())
        print(f"rows {rows_total:,}; read {read_s:.1f} s; loaded into the cluster in {load_s:.1f} s")
        rows = indicator_timings({"duckdb": duck_url, "clickhouse": c.url(0)}, args.period, args.runs)
        print("| level | indicator | sources | DuckDB ms | ClickHouse (2 shards) ms | ratio |")
        print("|---|---|---|---:|---:|---:|")
        for r in rows:
            print(f"| {r['level']} | {r['indicator']} | {r['sources']} | {r['duckdb']:.1f} | {r['clickhouse']:.1f} | "
                  f"{r['clickhouse'] / r['duckdb']:.1f} |")
        for level in sorted({r["level"] for r in rows}):
            sub = [r for r in rows if r["level"] == level and r["sources"] != "all"]
            d = sorted(r["duckdb"] for r in sub)
            k = sorted(r["clickhouse"] for r in sub)
            print(f"summary {level}: {len(sub)} indicators; DuckDB median {d[len(d) // 2]:.1f} ms max {d[-1]:.1f}; "
                  f"ClickHouse median {k[len(k) // 2]:.1f} ms max {k[-1]:.1f}")


if __name__ == "__main__":
    main()
