"""Real servers for the sign-in tests, started per test session on ports 9700–9799:
Debian's slapd (LDAP) with a throwaway cn=config, and an OIDC provider (django-oauth-toolkit in
its own gunicorn process). A missing tool fails the test in CI (CI=true) and skips it elsewhere."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LDAP_BASE = "dc=ledger,dc=test"
LDAP_ADMIN = f"cn=admin,{LDAP_BASE}"
LDAP_ADMIN_PW = "admin-pw-for-tests"


def unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run this test: {reason}")
    pytest.skip(reason)


def worker_offset() -> int:
    """xdist workers gw0, gw1 … each get their own port."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(name[2:]) if name.startswith("gw") and name[2:].isdigit() else 0


def wait_for_port(port: int, proc: subprocess.Popen, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            raise RuntimeError(f"server exited with {proc.returncode}: {out[-3000:]}")
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listened on 127.0.0.1:{port} after {timeout_s:g} s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- LDAP ----------------------------------------------------------------------------------------

CONFIG_LDIF = """\
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {dir}/slapd.pid

dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif

dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcAccess: {{0}}to * by * none

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcSuffix: {base}
olcRootDN: {admin}
olcRootPW: {admin_pw}
olcDbDirectory: {dir}/data
olcAccess: {{0}}to attrs=userPassword by self read by anonymous auth by * none
olcAccess: {{1}}to * by * read
"""

DATA_LDIF = """\
dn: {base}
objectClass: dcObject
objectClass: organization
dc: ledger
o: LEDger test directory

dn: ou=people,{base}
objectClass: organizationalUnit
ou: people

dn: ou=groups,{base}
objectClass: organizationalUnit
ou: groups

dn: uid=carla,ou=people,{base}
objectClass: inetOrgPerson
uid: carla
cn: Carla Rossi
givenName: Carla
sn: Rossi
mail: carla@uni.example
userPassword: carla-ldap-pw

dn: uid=dmitri,ou=people,{base}
objectClass: inetOrgPerson
uid: dmitri
cn: Dmitri Ivanov
givenName: Dmitri
sn: Ivanov
mail: dmitri@uni.example
userPassword: dmitri-ldap-pw

dn: uid=jlv-rig-1,ou=people,{base}
objectClass: inetOrgPerson
uid: jlv-rig-1
cn: JLV rig
sn: rig
userPassword: rig-ldap-pw

dn: cn=qd-lab,ou=groups,{base}
objectClass: groupOfNames
cn: qd-lab
member: uid=carla,ou=people,{base}

dn: cn=lab-managers,ou=groups,{base}
objectClass: groupOfNames
cn: lab-managers
member: uid=dmitri,ou=people,{base}
"""


class Slapd:
    def __init__(self, workdir: Path, port: int):
        self.workdir, self.port = workdir, port
        self.uri = f"ldap://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        for tool in ("slapd", "slapadd"):
            if not (shutil.which(tool) or Path(f"/usr/sbin/{tool}").exists()):
                unavailable(f"{tool} not installed (apt-get install slapd)")
        conf, data = self.workdir / "slapd.d", self.workdir / "data"
        conf.mkdir(parents=True)
        data.mkdir()
        fmt = {"dir": self.workdir, "base": LDAP_BASE, "admin": LDAP_ADMIN, "admin_pw": LDAP_ADMIN_PW}
        (self.workdir / "config.ldif").write_text(CONFIG_LDIF.format(**fmt))
        (self.workdir / "data.ldif").write_text(DATA_LDIF.format(**fmt))
        slapadd = shutil.which("slapadd") or "/usr/sbin/slapadd"
        for args in (["-n", "0", "-F", str(conf), "-l", str(self.workdir / "config.ldif")],
                     ["-n", "1", "-F", str(conf), "-l", str(self.workdir / "data.ldif")]):
            done = subprocess.run([slapadd, *args], capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"slapadd {' '.join(args)}: {done.stderr}")
        slapd = shutil.which("slapd") or "/usr/sbin/slapd"
        # -d 0: stay in the foreground (the test owns the process), log nothing.
        self.proc = subprocess.Popen([slapd, "-F", str(conf), "-h", self.uri + "/", "-d", "0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        wait_for_port(self.port, self.proc, 30)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)

    def modify(self, dn: str, changes: list) -> None:
        import ldap

        conn = ldap.initialize(self.uri)
        conn.simple_bind_s(LDAP_ADMIN, LDAP_ADMIN_PW)
        try:
            conn.modify_s(dn, changes)
        finally:
            conn.unbind_s()


# --- OIDC provider -------------------------------------------------------------------------------

class OIDCProvider:
    """django-oauth-toolkit's OpenID provider (tests/ops/oidc_provider), in its own gunicorn."""

    client_id = "ledger-tests"
    client_secret = "ledger-tests-client-secret-0123456789"

    def __init__(self, workdir: Path, port: int, redirect_uri: str):
        self.workdir, self.port, self.redirect_uri = workdir, port, redirect_uri
        self.base = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None

    def env(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "CELERY_"))}
        return {**keep, "DJANGO_SETTINGS_MODULE": "tests.ops.oidc_provider.settings", "PYTHONPATH": str(ROOT),
                "OIDC_PROVIDER_DIR": str(self.workdir), "OIDC_PROVIDER_BASE": self.base,
                "OIDC_TEST_CLIENT_ID": self.client_id, "OIDC_TEST_CLIENT_SECRET": self.client_secret,
                "OIDC_TEST_REDIRECT_URI": self.redirect_uri}

    def start(self) -> None:
        try:
            import oauth2_provider  # noqa: F401
        except ImportError:
            unavailable("django-oauth-toolkit is not installed (requirements-dev.txt)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        done = subprocess.run([sys.executable, "-m", "tests.ops.oidc_provider.bootstrap"], cwd=ROOT, env=self.env(),
                              capture_output=True, text=True, timeout=180, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"OIDC provider bootstrap failed: {done.stdout[-2000:]}{done.stderr[-3000:]}")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}", "--workers", "1", "--no-control-socket",
             "tests.ops.oidc_provider.wsgi:application"],
            cwd=ROOT, env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        wait_for_port(self.port, self.proc, 60)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)

    def settings_env(self) -> dict[str, str]:
        """The environment a lab's IT would set for this provider (read by config.signin)."""
        return {"OIDC_RP_CLIENT_ID": self.client_id, "OIDC_RP_CLIENT_SECRET": self.client_secret,
                "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{self.base}/o/authorize/",
                "OIDC_OP_TOKEN_ENDPOINT": f"{self.base}/o/token/",
                "OIDC_OP_USER_ENDPOINT": f"{self.base}/o/userinfo/",
                "OIDC_OP_JWKS_ENDPOINT": f"{self.base}/o/.well-known/jwks.json",
                "LEDGER_OIDC_PROJECT_GROUPS": '{"qd-lab": ["alpha"], "blue-lab": ["beta"]}',
                "LEDGER_OIDC_STAFF_GROUPS": "lab-managers"}


# --- LEDger itself, as `make serve` runs it ------------------------------------------------------

class LedgerServe:
    """deploy/serve (supervisord: gunicorn + Celery worker + beat) against the test database."""

    def __init__(self, workdir: Path, port: int, env: dict[str, str]):
        self.workdir, self.port = workdir, port
        self.base = f"http://127.0.0.1:{port}"
        self.log = workdir / "serve.log"
        self.env = {**{k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "PYTEST_XDIST_WORKER"}},
                    "LEDGER_BIND": f"127.0.0.1:{port}", "LEDGER_RUN_DIR": str(workdir / "run"), "LEDGER_HTTPS": "false",
                    "ALLOWED_HOSTS": "127.0.0.1,localhost", "SECRET_KEY": "serve-tests-" + "s" * 40,
                    "LEDGER_ANALYSIS_TIMEOUT_S": "120", **env}
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self._out = open(self.log, "w")  # noqa: SIM115 — held for the server's life
        self.proc = subprocess.Popen([str(ROOT / "deploy" / "serve")], cwd=ROOT, env=self.env,
                                     stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for_port(self.port, self.proc, 120)

    def supervisorctl(self, *args: str) -> str:
        done = subprocess.run([str(ROOT / ".venv" / "bin" / "supervisorctl"), "-c", "deploy/supervisord.conf", *args],
                              cwd=ROOT, env={**self.env, **self._supervisor_env()}, capture_output=True, text=True, timeout=300)
        return done.stdout + done.stderr

    def _supervisor_env(self) -> dict[str, str]:
        # the variables deploy/serve exports and supervisord.conf interpolates
        return {"LEDGER_ROOT": str(ROOT), "LEDGER_VENV": str(ROOT / ".venv"), "CELERY_QUEUE": self.env.get("CELERY_QUEUE", "ledger"),
                "LEDGER_WORKER_CONCURRENCY": self.env.get("LEDGER_WORKER_CONCURRENCY", "2"), "LEDGER_CELERY_LOG_LEVEL": "info",
                "LEDGER_STOP_WAIT_S": "150"}

    def stop(self, timeout_s: float = 180) -> int:
        """SIGTERM to supervisord (what Ctrl-C or systemd does) and wait; returns its exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.terminate()
        try:
            return self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait()
            raise
        finally:
            self._out.close()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")
