"""Self-signed certificates for TLS tests, made with the ``openssl`` command line.

``openssl ca -selfsign`` takes explicit validity dates, so an already expired certificate
can be made without touching any clock (``openssl req -x509`` only counts days from now).
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

CA_CONFIG = """
[ ca ]
default_ca = local
[ local ]
database = {dir}/index.txt
new_certs_dir = {dir}
serial = {dir}/serial
default_md = sha256
policy = anything
copy_extensions = copy
unique_subject = no
[ anything ]
commonName = supplied
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = localhost
"""


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def self_signed(directory: Path, not_before: datetime, not_after: datetime) -> tuple[Path, Path]:
    """(certificate, key) for ``localhost`` and 127.0.0.1, valid between the two times."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "index.txt").write_text("")
    (directory / "serial").write_text("01\n")
    conf = directory / "ca.cnf"
    conf.write_text(CA_CONFIG.format(dir=directory))
    key, csr, cert = directory / "key.pem", directory / "req.csr", directory / "cert.pem"
    _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", str(key), "-out", str(csr), "-config", str(conf), "-subj", "/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1")
    fmt = "%Y%m%d%H%M%SZ"
    _openssl("ca", "-batch", "-config", str(conf), "-selfsign", "-keyfile", str(key),
             "-in", str(csr), "-out", str(cert), "-notext",
             "-startdate", not_before.astimezone(UTC).strftime(fmt),
             "-enddate", not_after.astimezone(UTC).strftime(fmt))
    return cert, key


def expired(directory: Path) -> tuple[Path, Path]:
    return self_signed(directory, datetime(2020, 1, 1, tzinfo=UTC),
                       datetime(2020, 2, 1, tzinfo=UTC))


def expiring_in(directory: Path, days: float) -> tuple[Path, Path]:
    now = datetime.now(UTC)
    return self_signed(directory, now - timedelta(days=1), now + timedelta(days=days))
