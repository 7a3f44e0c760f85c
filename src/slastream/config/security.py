"""Secrets, TLS and SASL in a config file (docs/interfaces.md#secrets).

A secret is never written in the YAML itself: ``NAME_env: VARIABLE`` names an environment
variable, ``NAME_file: PATH`` a file (surrounding whitespace stripped, so a file written by
``echo`` works); exactly one of the two. Both are read while the config loads, so a missing
variable or an unreadable file is a problem line like any other, reported with the rest.
Relative paths start at the config file's directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from slastream.config.checker import Checker
from slastream.errors import ConfigError
from slastream.model.security import (
    SASL_MECHANISMS,
    SaslMechanism,
    SaslSettings,
    Secret,
    TlsSettings,
)

TLS_KEYS = {"ca_file", "cert_file", "key_file", "key_password_env", "key_password_file",
            "verify", "check_hostname"}
SASL_KEYS = {"mechanism", "username", "password_env", "password_file", "token_env",
             "token_file"}


def secret_keys(name: str) -> set[str]:
    """The two keys a secret ``name`` may be given by."""
    return {f"{name}_env", f"{name}_file"}


def path_of(c: Checker, data: dict[str, Any], key: str, path: str) -> str | None:
    """A readable file named by ``data[key]``, as an absolute path; None when absent."""
    raw = c.text(data, key, path, None)
    if raw is None:
        return None
    file = Path(raw).expanduser()
    if not file.is_absolute() and c.base_dir is not None:
        file = c.base_dir / file
    if not file.is_file() or not os.access(file, os.R_OK):
        c.fail(f"{path}.{key}", f"no readable file {str(file)!r}")
    return str(file.absolute())


def secret(c: Checker, data: dict[str, Any], name: str, path: str,
           environ: Mapping[str, str] | None = None) -> Secret | None:
    """``{name}_env`` or ``{name}_file`` of ``data``, read now; None when neither is given."""
    env = os.environ if environ is None else environ
    given = [k for k in (f"{name}_env", f"{name}_file") if k in data]
    if not given:
        return None
    if len(given) == 2:
        c.fail(f"{path}.{name}_env", f"give either {name}_env or {name}_file, not both")
        return None
    key = given[0]
    if key.endswith("_env"):
        variable = c.text(data, key, path, None)
        if variable is None:
            return None
        value = env.get(variable)
        if not value:
            c.fail(f"{path}.{key}", f"environment variable {variable} is not set or empty")
            return None
        return Secret(value, f"env {variable}")
    file = path_of(c, data, key, path)
    if file is None:
        return None
    try:
        value = Path(file).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        c.fail(f"{path}.{key}", f"cannot read {file!r}: {exc.__class__.__name__}")
        return None
    if not value:
        c.fail(f"{path}.{key}", f"{file!r} is empty")
        return None
    return Secret(value, f"file {file}", file)


def tls(c: Checker, raw: Any, path: str) -> TlsSettings | None:
    """``tls``: absent or false for none, true for the system's CAs, or a mapping."""
    if raw is None or raw is False:
        return None
    if raw is True:
        return TlsSettings()
    before = len(c.problems)
    data = c.mapping(raw, path)
    c.unknown(data, path, TLS_KEYS)
    cert = path_of(c, data, "cert_file", path)
    key = path_of(c, data, "key_file", path)
    if key is not None and cert is None:
        c.fail(f"{path}.key_file", "needs cert_file (the client certificate)")
    password = secret(c, data, "key_password", path)
    if password is not None and cert is None:
        c.fail(f"{path}.key_password_env", "needs cert_file and key_file")
    settings = TlsSettings(
        ca_file=path_of(c, data, "ca_file", path), cert_file=cert, key_file=key,
        key_password=password, verify=c.flag(data, "verify", path, True),
        check_hostname=c.flag(data, "check_hostname", path, True))
    if len(c.problems) == before:  # the files exist: are they certificates and keys?
        # imported here: the Kafka client it brings costs every command (a replay
        # included) 50 ms of start-up, and only a configuration with TLS needs it
        from slastream.transport.security import ssl_context
        try:
            ssl_context(settings)
        except ConfigError as exc:
            c.fail(path, str(exc).split(": ", 1)[1])
    return settings


def sasl(c: Checker, raw: Any, path: str) -> SaslSettings | None:
    """``sasl``: a mechanism with a user name and password, or OAUTHBEARER with a token."""
    if raw is None:
        return None
    data = c.mapping(raw, path)
    c.unknown(data, path, SASL_KEYS)
    mechanism = c.text(data, "mechanism", path, None, SASL_MECHANISMS)
    if mechanism is None:
        if "mechanism" not in data:
            c.fail(f"{path}.mechanism", f"required: one of {', '.join(SASL_MECHANISMS)}")
        return None
    username = c.text(data, "username", path, None)
    password = secret(c, data, "password", path)
    token = secret(c, data, "token", path)
    if mechanism == "OAUTHBEARER":
        if token is None:
            c.fail(f"{path}.token_env", "OAUTHBEARER needs token_env or token_file")
        if username is not None or password is not None:
            c.fail(f"{path}.username", "OAUTHBEARER takes a token, not a user name")
    else:
        if username is None:
            c.fail(f"{path}.username", f"{mechanism} needs a user name")
        if password is None:
            c.fail(f"{path}.password_env", f"{mechanism} needs password_env or password_file")
        if token is not None:
            c.fail(f"{path}.token_env", "a token is for OAUTHBEARER only")
    return SaslSettings(cast(SaslMechanism, mechanism), username, password, token)
