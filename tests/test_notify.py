"""Notices reach real receivers: mail over STARTTLS with a login (aiosmtpd), Slack's and
PagerDuty Events v2's payloads with the idempotency key, a receiver failing twice gets exactly
one notice, a receiver that is down never delays a step, `cockpit notify test`, secrets never in
the log (docs/notifications.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from email.header import decode_header, make_header
from pathlib import Path

import pytest

from cockpit.actions import decide
from cockpit.config import LoadedConfig, parse_config_text
from cockpit.events import NewEvent
from cockpit.notify import Outbox, Sender, failing_channels, fold_notices
from cockpit.operator import Operator
from cockpit.release import create_release
from cockpit.session import Session
from cockpit.store import Store
from tests.receivers import HttpReceiver, SmtpReceiver, black_hole

alice = Operator.fixed("alice", "bastion-1")

SLACK_SECRET = "T0001/B0001/slacksecretpath0123456789"
ROUTING_KEY = "R0UT1NGKEYabcdef0123456789abcdef"
SMTP_PASSWORD = "smtp-pass-Zq81xK"

CONFIG = """
[database]
url = "{url}"
[audit]
checkpoint = "{root}/checkpoint.json"
[environments.staging]
rehearsal = true
[notify]
backoff_seconds = {backoff}
attempts = {attempts}
[notify.channels.mail]
kind = "email"
host = "127.0.0.1"
port = {smtp_port}
ca_file = "{ca_file}"
username_env = "COCKPIT_SMTP_USER"
password_env = "COCKPIT_SMTP_PASSWORD"
sender = "cockpit@example.com"
to = ["ops@example.com", "dev@example.com"]
[notify.channels.slack]
kind = "slack"
url_env = "COCKPIT_SLACK_WEBHOOK"
[notify.channels.pagerduty]
kind = "pagerduty"
url = "{http}/v2/enqueue"
routing_key_env = "COCKPIT_PD_ROUTING_KEY"
[notify.channels.hook]
kind = "webhook"
url = "{hook}"
timeout_seconds = {hook_timeout}
langs = ["en"]
# The seeds' routing (002): critical to Slack and PagerDuty, warning to Slack; news by mail.
[[notify.routes]]
severities = ["critical"]
channels = ["slack", "pagerduty"]
[[notify.routes]]
severities = ["warning"]
channels = ["slack"]
[[notify.routes]]
events = ["release_created", "release_closed"]
channels = ["mail"]
[[notify.routes]]
events = ["step_failed", "t0_start", "phase_complete"]
channels = ["hook"]
"""

PLAN = """\
schema_version: 1
name: notifyplan
title_ja: 通知計画
title_en: Notify plan
phases:
  - id: t-0
    offset_days: 0
    title_ja: リリース実施
    title_en: Release
    items:
      - id: t0.deploy
        kind: step
        title_ja: コードデプロイ
        title_en: Deploy the code
        run: {kind: shell, argv: [sh, -c, "echo deployed {version}"], timeout: 10}
      - id: t0.config
        kind: step
        title_ja: 設定更新
        title_en: Update the configuration
        run: {kind: shell, argv: ["false"], timeout: 10}
"""


class Desk:
    """A workspace whose notices go to the receivers of the test."""

    def __init__(
        self,
        root: Path,
        url: str,
        http: HttpReceiver,
        smtp: SmtpReceiver,
        *,
        hook: str | None = None,
        backoff: float = 0.05,
        attempts: int = 5,
        hook_timeout: float = 5.0,
    ) -> None:
        self.root, self.url = root, url
        self.text = CONFIG.format(
            url=url,
            root=root,
            smtp_port=smtp.port,
            ca_file=smtp.ca_file,
            http=http.url,
            hook=hook or f"{http.url}/hook",
            backoff=backoff,
            attempts=attempts,
            hook_timeout=hook_timeout,
        )
        (root / "cockpit.toml").write_text(self.text)
        (root / "notifyplan.yaml").write_text(PLAN)
        self.loaded = LoadedConfig(parse_config_text(self.text), root / "cockpit.toml")
        self.store = Store(url, checkpoint_file=root / "checkpoint.json").open()
        self.environ = {
            "COCKPIT_SMTP_USER": "cockpit",
            "COCKPIT_SMTP_PASSWORD": SMTP_PASSWORD,
            "COCKPIT_SLACK_WEBHOOK": f"{http.url}/services/{SLACK_SECRET}",
            "COCKPIT_PD_ROUTING_KEY": ROUTING_KEY,
        }

    def session(self) -> Session:
        return Session(store=self.store, loaded=self.loaded, operator=alice)

    def outbox(self) -> Outbox:
        return Outbox(self.store, self.loaded, alice, environ=self.environ)

    def release(self) -> str:
        return create_release(
            self.session(),
            plan=str(self.root / "notifyplan.yaml"),
            environment="staging",
            version="1.4.0",
            t0="2026-12-16T01:00",
        ).id

    def log_text(self) -> str:
        return "\n".join(json.dumps(ev.as_dict(), ensure_ascii=False) for ev in self.store.events())


_NOTICE = (
    "notice.queued",
    "notice.attempt",
    "notice.sent",
    "notice.attempt_failed",
    "notice.failed",
)


@pytest.fixture
def http() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver(tmp_path, "cockpit", SMTP_PASSWORD)
    yield receiver
    receiver.stop()


@pytest.fixture
def desk(tmp_path: Path, db_url: str, http: HttpReceiver, smtp: SmtpReceiver) -> Iterator[Desk]:
    d = Desk(tmp_path, db_url, http, smtp)
    yield d
    d.store.close()


def fire_trigger(store: Store, rid: str) -> None:
    """A rollback trigger fires on a rehearsal release (a critical notice)."""
    store.append(
        NewEvent(
            action="trigger.fired",
            release_id=rid,
            subject="error_rate",
            rehearsal=True,
            details={"rule": "error rate 12% >= 10%"},
        ),
        alice,
    )


def wait_for(predicate: Callable[[], object], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_mail_over_starttls_with_a_login_in_japanese_and_english(
    desk: Desk, smtp: SmtpReceiver
) -> None:
    outbox = desk.outbox()
    outbox.cursor = 0
    rid = desk.release()
    events = outbox.run_once()
    assert [ev.action for ev in events] == ["notice.queued", "notice.attempt", "notice.sent"]
    assert smtp.logins == ["cockpit"]
    (mail,) = smtp.messages
    subject = str(make_header(decode_header(mail["Subject"])))
    assert subject.startswith("[お知らせ] 1.4.0 staging (リハーサル): リリースを作成しました")
    assert mail["To"] == "ops@example.com, dev@example.com"
    key = events[0].subject
    assert mail["Message-ID"] == f"<{key}@release-cockpit>" and mail["X-Cockpit-Notice"] == key
    body = mail.get_content()
    assert f"リリース: {rid} 1.4.0 → staging (リハーサル)" in body
    assert "作業枠: T-0 2026-12-16 01:00 JST" in body and "対応: 対応は不要です" in body
    assert f"Release: {rid} 1.4.0 -> staging (REHEARSAL)" in body
    assert "What happened: release created (plan" in body and "What to do: nothing to do" in body
    # The text sent is in the log; the password is not.
    assert events[0].details_obj["text"] == body.rstrip("\n")
    assert SMTP_PASSWORD not in desk.log_text()
    # Once sent, never again.
    assert outbox.run_once() == [] and len(smtp.messages) == 1


def test_slack_and_pagerduty_payloads_carry_the_idempotency_key(
    desk: Desk, http: HttpReceiver
) -> None:
    rid = desk.release()
    outbox = desk.outbox()
    outbox.cursor = desk.store.head()[0]
    with pytest.raises(Exception, match="false"):
        decide(desk.session(), rid, "t0.config", "done")
    outbox.run_once()
    by_path = {path.split("/")[1]: (headers, body) for path, headers, body in http.accepted}
    assert set(by_path) == {"services", "v2", "hook"}
    slack_headers, slack = by_path["services"]
    assert slack["text"].startswith("[重大] 1.4.0 staging (リハーサル): ステップが失敗しました")
    assert [b["type"] for b in slack["blocks"]] == ["header", "section", "context"]
    assert "ステップが失敗しました: t0.config" in slack["blocks"][1]["text"]["text"]
    assert "15分以内に" in slack["blocks"][1]["text"]["text"]
    assert (
        "What happened: a step failed: t0.config - false exited 1"
        in slack["blocks"][1]["text"]["text"]
    )
    pd_headers, pd = by_path["v2"]
    assert pd["routing_key"] == ROUTING_KEY and pd["event_action"] == "trigger"
    assert pd["payload"]["severity"] == "critical" and pd["payload"]["class"] == "step_failed"
    assert pd["payload"]["summary"].startswith("[重大] 1.4.0 staging")
    assert pd["payload"]["source"] and pd["payload"]["group"] == rid
    notices = fold_notices(desk.store.events(actions=_NOTICE))
    pd_notice = next(s for s in notices.values() if s.channel == "pagerduty")
    assert pd["dedup_key"] == pd_headers["Idempotency-Key"] == pd_notice.key
    assert slack_headers["Idempotency-Key"] != pd_notice.key  # one key per channel
    # The webhook's T-0 start and step failure are separate notices.
    kinds = sorted(body["kind"] for path, _h, body in http.accepted if path == "/hook")
    assert kinds == ["step_failed", "t0_start"]
    log = desk.log_text()
    assert ROUTING_KEY not in log and SLACK_SECRET not in log


def test_a_receiver_failing_twice_then_succeeding_gets_exactly_one_notice(
    tmp_path: Path, db_url: str, smtp: SmtpReceiver
) -> None:
    flaky = HttpReceiver(fail_first=2, fail_status=503)
    desk = Desk(tmp_path, db_url, flaky, smtp, backoff=0.2)
    try:
        rid = desk.release()
        # Two senders at once (two cockpits on one log): still one notice per channel.
        senders = [Sender(desk.outbox(), desk.url, idle_s=0.2) for _ in range(2)]
        for sender in senders:
            sender.outbox.cursor = desk.store.head()[0]
            sender.start()
        fire_trigger(desk.store, rid)

        def settled() -> bool:
            states = fold_notices(desk.store.events(actions=_NOTICE)).values()
            return len(states) == 2 and all(s.settled for s in states)

        wait_for(settled)
        for sender in senders:
            sender.stop()
        for sender in senders:
            sender.join(10)
        states = list(fold_notices(desk.store.events(actions=_NOTICE)).values())
        assert sorted(s.channel for s in states) == ["pagerduty", "slack"]
        assert all(s.sent is not None for s in states)
        # Two refusals, then each channel took its notice exactly once.
        assert len(flaky.accepted) == 2 and len(flaky.requests) == 4
        assert sum(len(s.attempts) for s in states) == 4
        assert sum(len(s.failures) for s in states) == 2
        keys = [headers["Idempotency-Key"] for _p, headers, _b in flaky.requests]
        assert len(set(keys)) == 2  # retries carry the same key
        assert failing_channels(desk.store) == []
    finally:
        flaky.stop()
        desk.store.close()


def test_a_receiver_that_is_down_never_delays_a_step(
    tmp_path: Path, http: HttpReceiver, smtp: SmtpReceiver
) -> None:
    url = f"sqlite:///{tmp_path / 'cockpit.db'}"
    with black_hole() as dead:
        desk = Desk(tmp_path, url, http, smtp, hook=dead, hook_timeout=8.0, attempts=1)
        rid = desk.release()
        sender = Sender(desk.outbox(), url, idle_s=0.2)
        sender.outbox.cursor = desk.store.head()[0]
        sender.start()
        try:
            started = time.monotonic()
            decide(desk.session(), rid, "t0.deploy", "done")  # queues t0_start for the hook

            def hook_attempted() -> bool:
                return any(
                    ev.details_obj.get("channel") == "hook"
                    for ev in desk.store.events(actions=("notice.attempt",))
                )

            wait_for(hook_attempted)
            # The sender now hangs on the dead receiver: a step runs as fast as ever.
            begun = time.monotonic()
            with pytest.raises(Exception, match="false"):
                decide(desk.session(), rid, "t0.config", "done")
            took = time.monotonic() - begun
            assert took < 4.0, took
            wait_for(lambda: failing_channels(desk.store) == ["hook"], seconds=30)
            assert time.monotonic() - started >= 8.0  # the send did wait its deadline out
        finally:
            sender.stop()
            sender.join(15)
            desk.store.close()
    failed = [ev for ev in desk.store.events(actions=("notice.failed",))]
    assert failed and "ReadTimeout" in failed[-1].details_obj["error"]


def test_t0_start_and_a_phase_complete_are_announced_once(desk: Desk, http: HttpReceiver) -> None:
    rid = desk.release()
    outbox = desk.outbox()
    outbox.cursor = desk.store.head()[0]
    decide(desk.session(), rid, "t0.deploy", "done")
    decide(desk.session(), rid, "t0.config", "skip", reason="config unchanged in 1.4.0")
    outbox.run_once()
    hooked = [body for path, _h, body in http.accepted if path == "/hook"]
    assert [body["kind"] for body in hooked] == ["t0_start", "phase_complete"]
    assert "\nWhat happened: phase t-0 (リリース実施 / Release) complete\n" in hooked[1]["text"]
    # Settling more of the phase (a note, a redo) announces nothing again.
    desk.store.append(
        NewEvent(
            action="item.skipped",
            release_id=rid,
            subject="t0.config",
            reason="again",
            rehearsal=True,
        ),
        alice,
    )
    assert outbox.run_once() == []


def run_cli(desk: Desk, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, **env, "COCKPIT_CONFIG": str(desk.root / "cockpit.toml")}
    return subprocess.run(
        [sys.executable, "-m", "cockpit", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=environ,
        cwd=desk.root,
    )


def test_notify_test_sends_once_and_names_what_is_wrong_without_the_secret(
    tmp_path: Path, http: HttpReceiver, smtp: SmtpReceiver
) -> None:
    desk = Desk(tmp_path, f"sqlite:///{tmp_path / 'cockpit.db'}", http, smtp)
    try:
        done = run_cli(desk, "notify", "test", "slack", env=desk.environ)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("slack: sent (#")
        (_path, _headers, body) = http.accepted[-1]
        assert "テスト通知です (チャネル slack)" in body["blocks"][1]["text"]["text"]
        down = dict(desk.environ, COCKPIT_SLACK_WEBHOOK=f"http://127.0.0.1:9/{SLACK_SECRET}")
        failed = run_cli(desk, "notify", "test", "slack", env=down)
        assert failed.returncode == 1 and "slack: NOT sent: slack: ConnectError" in failed.stdout
        assert SLACK_SECRET not in failed.stdout + failed.stderr
        missing = {k: v for k, v in desk.environ.items() if k != "COCKPIT_PD_ROUTING_KEY"}
        missing_env = run_cli(desk, "notify", "test", "pagerduty", env=missing)
        assert "routing_key_env names COCKPIT_PD_ROUTING_KEY, which is not set" in (
            missing_env.stdout
        )
        unknown = run_cli(desk, "notify", "test", "teams", env=desk.environ)
        assert unknown.returncode == 2
        assert unknown.stderr.strip() == (
            "cockpit: notify test: no channel named 'teams' (known: hook, mail, pagerduty, slack)"
        )
        status = run_cli(desk, "notify", "status", env=desk.environ)
        assert "slack            slack      failing: slack: ConnectError" in status.stdout
        assert SLACK_SECRET not in desk.log_text()
    finally:
        desk.store.close()


def test_config_refuses_a_slack_url_in_the_file_and_unknown_route_channels() -> None:
    from cockpit.errors import ConfigError

    with pytest.raises(ConfigError, match=r"notify.channels.s.url: a Slack webhook URL is a"):
        parse_config_text('[notify.channels.s]\nkind = "slack"\nurl_env = "X"\nurl = "https://h"\n')
    with pytest.raises(ConfigError, match=r"notify.routes\[0\].channels: no channel named 'x'"):
        parse_config_text('[[notify.routes]]\nchannels = ["x"]\n')
    with pytest.raises(ConfigError, match=r"notify\.channels\.m\.host: an? email channel needs"):
        parse_config_text('[notify.channels.m]\nkind = "email"\n')


NOTICE_PLAN = """\
schema_version: 1
name: noticeplan
title_ja: 通知計画
title_en: Notice plan
phases:
  - id: t-1
    offset_days: -1
    title_ja: 最終確認
    title_en: Final check
    items:
      - id: t1.stakeholders
        kind: notify
        title_ja: 関係者への通知
        title_en: Stakeholders notified
        channels: [mail, slack]
        impact_ja: 01:00-01:30 に管理画面が利用できません
        impact_en: the admin screen is down 01:00-01:30
      - id: t1.nowhere
        kind: notify
        title_ja: 送り先のない通知
        title_en: A notice with nowhere to go
  - id: t-0
    offset_days: 0
    title_ja: リリース実施
    title_en: Release
    items:
      - {id: t0.done, kind: manual, title_ja: 完了, title_en: Done}
"""


def git_history(root: Path) -> None:
    """The application's repository: a release tag, then the commits of this release."""

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("config", "user.name", "Test")
    git("config", "user.email", "test@example.com")
    for message, tag in (
        ("feat: upload API", "v1.3.0"),
        ("feat(search): full-text search", None),
        ("fix: paginate datasets", None),
        ("chore: tidy", None),
    ):
        (root / "CHANGES.txt").open("a").write(message + "\n")
        git("add", "CHANGES.txt")
        git("commit", "-q", "-m", message)
        if tag:
            git("tag", tag)


def test_a_notify_item_drafts_from_the_release_and_sends_the_edited_text_on_confirm(
    tmp_path: Path, http: HttpReceiver, smtp: SmtpReceiver
) -> None:
    desk = Desk(tmp_path, f"sqlite:///{tmp_path / 'cockpit.db'}", http, smtp)
    try:
        git_history(tmp_path)
        (tmp_path / "noticeplan.yaml").write_text(NOTICE_PLAN)
        rid = create_release(
            desk.session(),
            plan=str(tmp_path / "noticeplan.yaml"),
            environment="staging",
            version="1.4.0",
            t0="2026-12-16T01:00",
        ).id
        env = desk.environ
        drafted = run_cli(desk, "notify", "draft", rid, "t1.stakeholders", env=env)
        assert drafted.returncode == 0, drafted.stderr
        text = drafted.stdout
        assert text.startswith("関係者各位\n\n1.4.0 のリリースを行います。\n環境: staging\n")
        assert "作業枠: T-0 2026-12-16 01:00 JST" in text
        assert "変更内容:\n- full-text search\n- paginate datasets\n" in text
        assert "想定される影響: 01:00-01:30 に管理画面が利用できません" in text
        assert "Expected impact: the admin screen is down 01:00-01:30" in text
        assert "upload API" not in text and "tidy" not in text  # released before; a chore
        # The operator edits the draft, then confirms it: that text is what goes out.
        edited = text.replace("関係者各位", "開発・運用・サポート各位")
        (tmp_path / "notice.txt").write_text(edited)
        sent = run_cli(
            desk, "item", "done", rid, "t1.stakeholders", "--message-file", "notice.txt", env=env
        )
        assert sent.returncode == 0, sent.stderr
        (mail,) = smtp.messages
        assert mail.get_content().replace("\r\n", "\n").rstrip("\n") == edited.rstrip("\n")
        assert str(make_header(decode_header(mail["Subject"]))).startswith(
            "[お知らせ] 1.4.0 staging (リハーサル): 関係者への通知: 関係者への通知 / Stakeholders"
        )
        (_path, _headers, slack) = http.accepted[-1]
        assert slack["blocks"][1]["text"]["text"] == edited[:3000]
        done = desk.store.events(release_id=rid, actions=("item.done",))[-1]
        assert done.subject == "t1.stakeholders" and done.details_obj["text"] == edited
        assert done.details_obj["delivered"] == {"mail": "sent", "slack": "sent"}
        queued = desk.store.events(release_id=rid, actions=("notice.queued",))
        assert {ev.details_obj["channel"] for ev in queued} == {"mail", "slack"}
        assert all(ev.details_obj["text"] == edited for ev in queued)
        # No channel to send to: refused, saying what to do.
        nowhere = run_cli(desk, "item", "done", rid, "t1.nowhere", env=env)
        assert nowhere.returncode == 1
        assert "t1.nowhere: no channel to send it to: name channels on the item" in (nowhere.stderr)
    finally:
        desk.store.close()


def test_notify_run_sends_from_the_log_until_stopped(
    tmp_path: Path, http: HttpReceiver, smtp: SmtpReceiver
) -> None:
    import signal

    desk = Desk(tmp_path, f"sqlite:///{tmp_path / 'cockpit.db'}", http, smtp)
    try:
        rid = desk.release()
        proc = subprocess.Popen(
            [sys.executable, "-m", "cockpit", "notify", "run"],
            env={**os.environ, **desk.environ, "COCKPIT_CONFIG": str(tmp_path / "cockpit.toml")},
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        # It starts at the head: the release's creation is history, not announced.
        head = desk.store.head()[0]
        assert (
            proc.stdout.readline() == f"sending notices from the log after #{head} (Ctrl-C stops)\n"
        )
        fire_trigger(desk.store, rid)
        wait_for(lambda: len(http.accepted) == 2)  # Slack and PagerDuty
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0, proc.stderr.read() if proc.stderr else ""
        assert smtp.messages == []  # release_created came before the sender: not announced
        sent = desk.store.events(actions=("notice.sent",))
        assert sorted(ev.details_obj["channel"] for ev in sent) == ["pagerduty", "slack"]
    finally:
        desk.store.close()
