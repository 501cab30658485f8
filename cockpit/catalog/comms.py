"""The words of notices, release notes, reports and the browser view (issue 19), in Japanese and
English."""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "notify.sev.critical": {"ja": "重大", "en": "CRITICAL"},
    "notify.sev.warning": {"ja": "警告", "en": "WARNING"},
    "notify.sev.info": {"ja": "お知らせ", "en": "INFO"},
    "notify.todo.critical": {
        "ja": "15分以内に対応してください",
        "en": "respond within 15 minutes",
    },
    "notify.todo.warning": {"ja": "1時間以内に確認してください", "en": "look within 1 hour"},
    "notify.todo.info": {"ja": "対応は不要です", "en": "nothing to do"},
    "notify.todo.step_failed": {
        "ja": "15分以内に: ランブックで再実行かロールバックかを判断してください",
        "en": "within 15 minutes: decide in the runbook whether to retry or roll back",
    },
    "notify.todo.trigger_fired": {
        "ja": "15分以内に: ロールバックするか、理由を記録して続行してください",
        "en": "within 15 minutes: roll back, or go on with a reason recorded",
    },
    "notify.todo.rollback_started": {
        "ja": "関係者とユーザーへの通知、ロールバック計画の共有を確認してください",
        "en": "check the notices to stakeholders and users, and share the rollback plan",
    },
    "notify.what.release_created": {
        "ja": "リリースを作成しました (計画 {detail})",
        "en": "release created (plan {detail})",
    },
    "notify.what.phase_complete": {
        "ja": "フェーズ {detail} が完了しました",
        "en": "phase {detail} complete",
    },
    "notify.what.t0_start": {
        "ja": "T-0 作業を開始しました ({detail})",
        "en": "T-0 work started ({detail})",
    },
    "notify.what.step_failed": {
        "ja": "ステップが失敗しました: {detail}",
        "en": "a step failed: {detail}",
    },
    "notify.what.trigger_fired": {
        "ja": "ロールバック基準に達しました: {detail}",
        "en": "a rollback trigger fired: {detail}",
    },
    "notify.what.rollback_started": {
        "ja": "ロールバックを開始しました: {detail}",
        "en": "rollback started: {detail}",
    },
    "notify.what.rollback_finished": {
        "ja": "ロールバックが終了しました: {detail}",
        "en": "rollback finished: {detail}",
    },
    "notify.what.go": {
        "ja": "リリース後の監視が正常に終了しました (Go) {detail}",
        "en": "the post-release watch ended healthy: go {detail}",
    },
    "notify.what.no_go": {"ja": "No-Go と判断しました: {detail}", "en": "no-go: {detail}"},
    "notify.what.release_closed": {
        "ja": "リリースを終了しました ({detail})",
        "en": "release closed ({detail})",
    },
    "notify.what.lease_taken_over": {
        "ja": "操作権が引き継がれました: {detail}",
        "en": "driving was taken over: {detail}",
    },
    "notify.what.stakeholder": {"ja": "関係者への通知: {detail}", "en": "notice: {detail}"},
    "notify.what.test": {
        "ja": "テスト通知です (チャネル {detail})",
        "en": "a test notice (channel {detail})",
    },
    "notify.rehearsal": {"ja": " (リハーサル)", "en": " (REHEARSAL)"},
    "notify.title": {
        "ja": "[{severity}] {version} {environment}{rehearsal}: {what}",
        "en": "[{severity}] {version} {environment}{rehearsal}: {what}",
    },
    "notify.body": {
        "ja": "リリース: {release} {version} → {environment}{rehearsal}\n"
        "作業枠: T-0 {t0}\n発生: {what}\n対応: {todo}\n記録: #{seq} {actor}",
        "en": "Release: {release} {version} -> {environment}{rehearsal}\n"
        "Window: T-0 {t0}\nWhat happened: {what}\nWhat to do: {todo}\n"
        "Logged: #{seq} by {actor}",
    },
    "notify.draft": {
        "ja": "関係者各位\n\n{version} のリリースを行います。\n環境: {environment}\n"
        "作業枠: T-0 {t0}\n変更内容:\n{changes}\n想定される影響: {impact}\n\n"
        "リリース管理: {actor}",
        "en": "To everyone concerned,\n\nwe are releasing {version}.\n"
        "Environment: {environment}\nWindow: T-0 {t0}\nChanges:\n{changes}\n"
        "Expected impact: {impact}\n\nRelease manager: {actor}",
    },
    "notify.impact": {
        "ja": "作業枠の間、サービスが一時的に利用できない場合があります",
        "en": "the service may be briefly unavailable during the window",
    },
    "notify.no_changes": {"ja": "(変更の記録なし)", "en": "(no changes recorded)"},
    "notes.title": {"ja": "リリースノート {version}", "en": "Release notes {version}"},
    "notes.span": {"ja": "{span} のコミット {count} 件", "en": "{count} commit(s) in {span}"},
    "notes.none": {
        "ja": "機能追加・修正のコミットはありません",
        "en": "No feature or fix commits.",
    },
    "notes.breaking": {"ja": "互換性のない変更", "en": "Breaking changes"},
    "notes.added": {"ja": "追加", "en": "Added"},
    "notes.changed": {"ja": "変更", "en": "Changed"},
    "notes.fixed": {"ja": "修正", "en": "Fixed"},
    "notes.docs": {"ja": "文書", "en": "Documentation"},
    "key.notice.send": {"ja": "送信", "en": "send"},
    "key.notice.cancel": {"ja": "取り消し", "en": "cancel"},
    "dlg.title.notice": {"ja": "{item}: 送信する内容", "en": "{item}: the notice to send"},
    "dlg.notice_hint": {
        "ja": "編集して ctrl+s で送信 (送信文は監査ログに記録)  esc 取消",
        "en": "edit, then ctrl+s sends it (the text goes in the audit log)  esc cancel",
    },
    "dlg.notice_empty": {"ja": "本文が空です", "en": "the notice is empty"},
    "dash.notify_failing": {
        "ja": "通知チャネル失敗: {names}",
        "en": "notice channel failing: {names}",
    },
    # [notify] in cockpit.toml (cockpit.config.notify)
    "notify.needs": {
        "ja": "{kind} チャネルには{what}が必要です",
        "en": "{kind} channel needs {what}",
    },
    "notify.a": {"ja": "{kind}", "en": "a {kind}"},
    "notify.an": {"ja": "{kind}", "en": "an {kind}"},
    "notify.need.url_env": {
        "ja": "受信 Webhook の URL を入れた環境変数",
        "en": "the variable holding the incoming webhook's URL",
    },
    "notify.need.host": {"ja": "SMTP サーバー", "en": "the SMTP server"},
    "notify.need.sender": {"ja": "From アドレス", "en": "the From address"},
    "notify.need.to": {"ja": "少なくとも1人の宛先", "en": "at least one recipient"},
    "notify.need.routing_key_env": {
        "ja": "インテグレーションのルーティングキーを入れた環境変数",
        "en": "the variable holding the integration's routing key",
    },
    "notify.webhook_url": {
        "ja": "webhook チャネルには url (または、それを入れた環境変数の url_env) が必要です",
        "en": "a webhook channel needs url (or url_env, the variable holding it)",
    },
    "notify.slack_secret": {
        "ja": "Slack の Webhook URL は秘密情報です: "
        "環境変数に入れ、その名前を url_env に書いてください",
        "en": "a Slack webhook URL is a secret: put it in a variable and name that in url_env",
    },
    "notify.both": {
        "ja": "username_env と password_env は両方設定するか、どちらも設定しないでください",
        "en": "set both username_env and password_env, or neither",
    },
    "notify.langs": {
        "ja": "言語を1つ以上指定してください (ja, en)",
        "en": "name at least one language (ja, en)",
    },
    "notify.no_channel": {
        "ja": "{name!r} という名前のチャネルはありません (設定済み: {known})",
        "en": "no channel named {name!r} (known: {known})",
    },
    # a notify item's draft and channels (cockpit.notify)
    "draft.unknown": {
        "ja": "{item}: [notify.channels] に {name!r} という名前のチャネルはありません "
        "(設定済み: {known})",
        "en": "{item}: no channel named {name!r} in [notify.channels] (known: {known})",
    },
    "draft.nowhere": {
        "ja": "{item}: 送信先のチャネルがありません: 項目にチャネルを書くか、cockpit.toml で "
        'stakeholder の通知をルーティングしてください ([[notify.routes]] events = ["stakeholder"])',
        "en": "{item}: no channel to send it to: name channels on the item or route "
        'stakeholder notices in cockpit.toml ([[notify.routes]] events = ["stakeholder"])',
    },
    "draft.empty": {"ja": "{item}: 通知が空です", "en": "{item}: the notice is empty"},
    "draft.test_unknown": {
        "ja": "notify test: {name!r} という名前のチャネルはありません (設定済み: {known})",
        "en": "notify test: no channel named {name!r} (known: {known})",
    },
    "report.no_rollback": {
        "ja": "リリース {release}: ロールバックの記録がありません",
        "en": "release {release}: no rollback recorded",
    },
}
