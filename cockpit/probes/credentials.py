"""The ``credentials`` probe: the environment's AWS credentials work. STS ``GetCallerIdentity``
(it needs no permission) answers with the account and the caller's ARN, which are shown; the
keys never are (boto3 keeps them; nothing here reads them)."""

from __future__ import annotations

from cockpit.plan.probes import CredentialsProbe
from cockpit.probes.aws import call, client
from cockpit.probes.base import ProbeContext, ProbeKind, Result


class CredentialsProbeKind(ProbeKind):
    name = "credentials"

    def preview(self, spec: CredentialsProbe, ctx: ProbeContext) -> str:
        profile = ctx.env.aws.profile or "the default credentials"
        want = f" of account {spec.account}" if spec.account else ""
        return f"STS GetCallerIdentity with {profile}: answers{want}"

    def run(self, spec: CredentialsProbe, ctx: ProbeContext) -> Result:
        sts = client(ctx, "sts")
        answer = call("STS GetCallerIdentity", sts.get_caller_identity)
        account, arn = str(answer.get("Account", "")), str(answer.get("Arn", ""))
        details = {"account": account, "arn": arn, "profile": ctx.env.aws.profile}
        expected = f"account {spec.account}" if spec.account else "an identity"
        seen = f"account {account} as {arn}"
        return Result(not spec.account or account == spec.account, seen, expected, details)
