"""A throwaway PostgreSQL server for the tests: initdb in a temporary folder, started with pg_ctl
on a free loopback port, password authentication over TCP, removed afterwards.

initdb refuses to run as root, so as root the server runs as the ``postgres`` user the Debian
package creates (or ``nobody``). Nothing outside the temporary folder is touched: a cluster the
package may have created (and started, or not) on port 5432 is left alone.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

USER = "custseg"


def find_bindir() -> Path | None:
    """Folder holding initdb and pg_ctl: $CUSTSEG_PG_BINDIR, Debian's newest, or the PATH."""
    candidates = []
    if os.environ.get("CUSTSEG_PG_BINDIR"):
        candidates.append(Path(os.environ["CUSTSEG_PG_BINDIR"]))
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True
    )
    candidates += [Path(p) for p in versions]
    found = shutil.which("initdb")
    if found:
        candidates.append(Path(found).resolve().parent)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run_as() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root but there is no 'postgres' or 'nobody' user to run as")


@dataclass
class Server:
    bindir: Path
    base: Path
    port: int
    password: str
    account: pwd.struct_passwd | None

    @property
    def data(self) -> Path:
        return self.base / "data"

    def url(self, database: str = "postgres", *, with_password: bool = True) -> str:
        secret = f":{self.password}" if with_password else ""
        return f"postgresql://{USER}{secret}@127.0.0.1:{self.port}/{database}"

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        env = {**os.environ, "HOME": str(self.base), "LC_ALL": "C"}
        options: dict = {}
        if self.account is not None:
            account = self.account
            options = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
        return subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            cwd=self.base,
            env=env,
            capture_output=True,
            text=True,
            check=check,
            timeout=120,
            **options,
        )

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


def start(bindir: Path | None = None) -> Server:
    """Create and start a server; the caller must ``stop()`` it."""
    bindir = bindir or find_bindir()
    if bindir is None:
        raise FileNotFoundError("PostgreSQL server binaries (initdb, pg_ctl) not found")
    account = _run_as()
    # As root, a folder the server's user can reach (TMPDIR may be under /root).
    base = Path(tempfile.mkdtemp(prefix="custseg-pg-", dir="/tmp" if account else None))
    server = Server(bindir, base, _free_port(), secrets.token_urlsafe(12), account)
    try:
        if account is not None:
            os.chown(base, account.pw_uid, account.pw_gid)
        pwfile = base / "pw"
        pwfile.write_text(server.password + "\n")
        pwfile.chmod(0o600)
        if account is not None:
            os.chown(pwfile, account.pw_uid, account.pw_gid)
        server.run(
            "initdb", "-D", str(server.data), "-U", USER, f"--pwfile={pwfile}",
            "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale",
            "--no-sync",
        )  # fmt: skip
        pwfile.unlink()
        options = (
            f"-p {server.port} -h 127.0.0.1 -k {base} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off"
        )
        result = server.run(
            "pg_ctl", "-D", str(server.data), "-l", str(base / "log"), "-o", options,
            "-w", "-t", "60", "start", check=False,
        )  # fmt: skip
        if result.returncode != 0:
            log = (base / "log").read_text() if (base / "log").exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {result.stderr}\n{log[-2000:]}")
    except BaseException:
        server.stop()
        raise
    return server
