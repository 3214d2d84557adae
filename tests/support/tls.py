"""Certificates made for one test run with the `openssl` command: a private CA, a server certificate for 127.0.0.1
signed by it, and a client certificate it signs (mutual TLS); and bcrypt hashes, for servers whose users are
configured that way (Prometheus' web configuration). Without the tools, the tests that need them skip."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

OPENSSL = shutil.which("openssl")
_EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


@dataclass(frozen=True)
class Pki:
    """Where the PEM files are."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path

    def server_context(self, *, client_certificates: bool = False) -> ssl.SSLContext:
        """A server-side context; `client_certificates`: a client must show a certificate the CA signed."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.server_cert, self.server_key)
        if client_certificates:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(self.ca)
        return context


def make_pki(directory: Path) -> Pki:
    """A fresh CA and the certificates it signs, in `directory` (skips the test without `openssl`)."""
    if OPENSSL is None:
        pytest.skip("the openssl command is not installed (Debian package openssl)")
    directory.mkdir(parents=True, exist_ok=True)

    def run(*args: str) -> None:
        subprocess.run([OPENSSL, *args], cwd=directory, check=True, capture_output=True, timeout=60)

    run("req", "-x509", *_EC, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=modelops test CA")
    for name, extension in (("server", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth"),
                            ("client", "extendedKeyUsage=clientAuth")):
        (directory / f"{name}.ext").write_text(extension + "\n")
        run("req", "-new", *_EC, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN=modelops {name}")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext")
    return Pki(directory / "ca.pem", directory / "server.pem", directory / "server.key", directory / "client.pem",
               directory / "client.key")


def bcrypt_hash(password: str) -> str:
    """A bcrypt hash of `password`: from the `bcrypt` package, Python's `crypt` module or `htpasswd`, whichever
    exists (skips the test when none does)."""
    try:
        import bcrypt

        return str(bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode())
    except ImportError:
        pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import crypt  # removed in Python 3.13

            hashed = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))
            if hashed and hashed.startswith("$2"):
                return hashed
        except (ImportError, AttributeError, OSError):
            pass
    htpasswd = shutil.which("htpasswd")
    if htpasswd is None:
        pytest.skip("no way to make a bcrypt hash here (pip bcrypt, Python's crypt module, or apache2-utils)")
    done = subprocess.run([htpasswd, "-nbBC", "4", "user", password], capture_output=True, text=True, check=True)
    return done.stdout.strip().split(":", 1)[1]
