"""The ``tls`` probe: the certificate a server presents for a name (SNI) verifies and expires in
more than N days; names its subject, issuer and expiry.

The handshake verifies the chain and the host name (against ``ca_file``, else the system's trust
store) unless ``verify: false``. A certificate that does not verify still has its subject, issuer
and expiry shown: they are read from a second, unverified handshake, so the operator sees what is
there (a self-signed or expired certificate) rather than only that it failed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cockpit.plan.probes import TlsProbe
from cockpit.probes.base import CannotLook, ProbeContext, ProbeKind, Result


class TlsProbeKind(ProbeKind):
    name = "tls"

    def preview(self, spec: TlsProbe, ctx: ProbeContext) -> str:
        name = spec.server_name or spec.host
        return (
            f"TLS certificate of {spec.host}:{spec.port} for {name}: "
            f"expires in more than {spec.days:g} days"
        )

    def run(self, spec: TlsProbe, ctx: ProbeContext) -> Result:
        import ssl

        name = spec.server_name or spec.host
        expected = f"a valid certificate expiring in more than {spec.days:g} days"
        where = f"{spec.host}:{spec.port} ({name})"
        problem = ""
        try:
            der = _handshake(spec, ctx, verify=spec.verify)
        except ssl.SSLCertVerificationError as exc:
            problem = f"does not verify: {exc.verify_message or exc.reason}"
            der = _handshake(spec, ctx, verify=False)
        cert = describe(der)
        details: dict[str, Any] = {"host": spec.host, "port": spec.port, "server_name": name}
        details |= cert
        seen = (
            f"{cert['subject']} issued by {cert['issuer']}, expires {cert['not_after']} "
            f"({cert['days_left']:g} days)"
        )
        if problem:
            return Result(False, f"{problem}; {seen}", expected, details, f"{where}: {problem}")
        if cert["days_left"] <= spec.days:
            line = (
                f"{where}: the certificate expires {cert['not_after']}, in {cert['days_left']:g} "
                f"days (needs more than {spec.days:g})"
            )
            return Result(False, seen, expected, details, line)
        return Result(True, seen, expected, details)


def _handshake(spec: TlsProbe, ctx: ProbeContext, *, verify: bool) -> bytes:
    import socket
    import ssl

    if verify:
        cafile = str(ctx.resolve(spec.ca_file)) if spec.ca_file else None
        try:
            context = ssl.create_default_context(cafile=cafile)
        except (OSError, ssl.SSLError) as exc:
            raise CannotLook(f"tls: cannot read ca_file {cafile}: {exc}") from None
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    where = f"{spec.host}:{spec.port}"
    try:
        with socket.create_connection((spec.host, spec.port), timeout=ctx.remaining()) as sock:
            sock.settimeout(ctx.remaining())
            with context.wrap_socket(sock, server_hostname=spec.server_name or spec.host) as tls:
                der = tls.getpeercert(binary_form=True)
    except ssl.SSLCertVerificationError:
        raise
    except TimeoutError:
        raise CannotLook(f"tls {where}: no answer within the timeout") from None
    except ssl.SSLError as exc:
        raise CannotLook(f"tls {where}: handshake failed ({exc.reason or exc})") from None
    except OSError as exc:
        raise CannotLook(f"tls {where}: cannot connect ({exc.strerror or exc})") from None
    if not der:
        raise CannotLook(f"tls {where}: the server presented no certificate")
    return der


def describe(der: bytes) -> dict[str, Any]:
    """Subject, issuer, expiry, days left and SHA-256 fingerprint of a DER certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    cert = x509.load_der_x509_certificate(der)
    not_after = cert.not_valid_after_utc
    days_left = (not_after - datetime.now(UTC)).total_seconds() / 86400
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "not_after": not_after.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "days_left": round(days_left, 1),
        "sha256": cert.fingerprint(hashes.SHA256()).hex(),
    }
