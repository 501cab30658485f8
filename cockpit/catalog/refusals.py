"""Why something is not allowed now, in Japanese and English: a checklist's refusals
(:class:`cockpit.checklist.Why`), the lease, why go is blocked, unsettled triggers, the point
of no return and rehearsals."""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    # why an action is not allowed now (cockpit.checklist.Why)
    "why.unknown": {
        "ja": "項目 {item!r} は計画 {plan} にありません (cockpit plan show {plan})",
        "en": "item {item!r}: not in plan {plan} (see `cockpit --lang en plan show {plan}`)",
    },
    "why.closed": {
        "ja": "リリース {release} は {status} です",
        "en": "release {release} is {status}",
    },
    "why.skip_reason": {
        "ja": "スキップには理由が必要です",
        "en": "skipping needs a reason",
    },
    "why.reject_reason": {
        "ja": "却下には理由が必要です",
        "en": "rejecting needs a reason",
    },
    "why.already": {
        "ja": "{by} が {status} 済み",
        "en": "already {status} by {by}",
    },
    "why.approval_voided": {
        "ja": "#{seq} で {item} が再オープンされ、それ以前の承認は無効",
        "en": "approvals before #{seq} void: {item} was reopened",
    },
    "why.reopen_kind": {
        "ja": "{item} は {kind} 項目です: 再オープンできるのは手動確認と自動チェックのみ",
        "en": "{item} is a {kind} item: only manual and check items are reopened",
    },
    "why.reopen_open": {
        "ja": "{status} の項目は再オープンできません (完了かスキップのみ)",
        "en": "it is {status}: only a done or skipped item is reopened",
    },
    "why.reopen_reason": {
        "ja": "再オープンには理由が必要です",
        "en": "reopening needs a reason",
    },
    "why.redo_reason": {
        "ja": "{by} が完了済み: やり直しには理由が必要です",
        "en": "done by {by}: running it again needs a reason",
    },
    "why.rejected": {
        "ja": "{by} が却下: {reason}",
        "en": "rejected by {by}: {reason}",
    },
    "why.not_gate": {
        "ja": "{item} は {kind} 項目でゲートではありません: 実施かスキップ",
        "en": "{item} is a {kind} item, not a gate: use done or skip",
    },
    "why.is_gate": {
        "ja": "{item} は承認ゲートです: 承認 (または却下) が必要",
        "en": "{item} is a gate: it needs approve (or reject)",
    },
    "why.evidence": {
        "ja": "この項目の完了には理由 (根拠) が必要です",
        "en": "this item needs a reason (the evidence) when it is marked done",
    },
    "why.before": {
        "ja": "{item} ({title}) が未完了です",
        "en": "{item} ({title}) is not done yet",
    },
    "why.gate_open": {
        "ja": "ゲート {item} ({title}) が未承認です",
        "en": "gate {item} ({title}) is not approved yet",
    },
    "why.gate_uncounted": {
        "ja": "ゲート {item} ({title}) が未承認です: {why}",
        "en": "gate {item} ({title}) is not approved yet: {why}",
    },
    "why.approval_unsigned": {
        "ja": "承認 #{seq} ({name}) は署名がないため数えません",
        "en": "approval #{seq} by {name} is not signed, so it does not count",
    },
    "why.approval_bad": {
        "ja": "承認 #{seq} ({name}) の署名が検証できないため数えません",
        "en": "approval #{seq} by {name} has a signature that does not verify",
    },
    "why.approval_not_theirs": {
        "ja": "承認 #{seq} は {name} の鍵で署名されていません",
        "en": "approval #{seq} by {name} is not signed by a key of {name}",
    },
    "why.approval_preparer": {
        "ja": "承認 #{seq} ({name}) は準備者 {preparer} の承認のため数えません",
        "en": "approval #{seq} by {name} does not count: it is the preparer's ({preparer})",
    },
    "why.sign_no_key": {
        "ja": "{action} には署名が必要ですが、許可された署名者の鍵がありません: ssh-add で鍵を"
        "エージェントに読み込むか、[identity] signing_key か COCKPIT_SIGNING_KEY を設定",
        "en": "{action} is signed here and there is no key the allowed signers know to sign "
        "with: load yours into the agent (ssh-add), or set [identity] signing_key or "
        "COCKPIT_SIGNING_KEY",
    },
    "why.sign_unknown_key": {
        "ja": "{action} には署名が必要ですが、鍵 {fingerprint} は {file} にありません: "
        "追加してもらうか、登録済みの鍵を使ってください",
        "en": "{action} is signed here and the key {fingerprint} is not in {file} for this "
        "namespace: have it added, or use a key that is",
    },
    "why.sign_other_name": {
        "ja": "{action} には署名が必要ですが、鍵 {fingerprint} は {name} ではなく "
        "{principal} として署名します",
        "en": "{action} is signed here and the key {fingerprint} signs as {principal}, "
        "not as {name}",
    },
    "why.four_eyes": {
        "ja": "4つの目: {name} はこのリリースの準備者のため承認できません",
        "en": "four-eyes: {name} prepared this release and may not approve it",
    },
    "why.role_empty": {
        "ja": "ロール {role!r} のメンバーが cockpit.toml [roles] にいません",
        "en": "role {role!r} has no members in cockpit.toml [roles]",
    },
    "why.role_missing": {
        "ja": "{name} はロール {role} を持っていません ({members})",
        "en": "{name} does not hold role {role} ({members} do)",
    },
    "why.approved_twice": {
        "ja": "{name} は承認済み: 別の承認者が必要です",
        "en": "{name} already approved; it needs a different approver",
    },
    "why.running": {
        "ja": "{by} が実行中です ({at} 開始)",
        "en": "running: started by {by} at {at}",
    },
    "why.not_step": {
        "ja": "{item} は {kind} 項目でステップではありません",
        "en": "{item} is a {kind} item, not a step",
    },
    "why.not_interrupted": {
        "ja": "中断していません ({status}): 再開は中断したステップだけです",
        "en": "not interrupted ({status}): only an interrupted step resumes",
    },
    "why.interrupted": {
        "ja": "{by} の実行が中断しました ({at}): 再確認して再開 (r) か、やり直し (R) かスキップ",
        "en": "interrupted ({by}, {at}): resume (re-check first), redo, or skip with a reason",
    },
    # one driver per release (cockpit/lease.py, screens/driving.py)
    "why.driven": {
        "ja": "{holder} が {since} から操作中です。引き継ぐには "
        "`cockpit lease takeover {release} --reason ...`",
        "en": "driven by {holder} since {since}; take it over with "
        "`cockpit lease takeover {release} --reason ...`",
    },
    "why.takeover_approval": {
        "ja": "{holder} が操作中の本番リリースです: 引き継ぎには期限切れか別の操作者の承認が"
        "必要です (`cockpit lease approve-takeover {release} --for {taker}`)",
        "en": "{holder} drives this production release: a takeover needs an expired lease or "
        "a second operator's approval (`cockpit lease approve-takeover {release} --for {taker}`)",
    },
    "lease.driven": {
        "ja": "{holder} が操作中 ({since} から)",
        "en": "driven by {holder} since {since}",
    },
    "lease.readonly": {"ja": "読み取り専用", "en": "READ-ONLY"},
    "lease.follow": {
        "ja": "読み取り専用 (--readonly で起動)",
        "en": "read-only: opened with --readonly",
    },
    "lease.refused": {"ja": "{driven}。T で引き継ぎ", "en": "{driven}; T takes over"},
    "act.takeover": {"ja": "引き継ぐ", "en": "take over"},
    "lease.lost": {
        "ja": "{holder} に引き継がれました: この画面は読み取り専用です",
        "en": "taken over by {holder}: this cockpit is read-only now",
    },
    "lease.took": {"ja": "このリリースを引き継ぎました", "en": "you drive this release now"},
    "dlg.title.takeover": {"ja": "{holder} から引き継ぐ", "en": "Take over from {holder}"},
    "dlg.takeover_note": {
        "ja": "理由とともに監査ログに記録され、{holder} の画面は読み取り専用になります",
        "en": "recorded in the audit log with your reason; {holder} turns read-only",
    },
    # why go is blocked (cockpit.metrics.go_blocked_reason)
    "go.not_started": {
        "ja": "リリース後監視が開始されていません",
        "en": "the post-release watch has not started",
    },
    "go.decided": {
        "ja": "判定済み: {by} が {at}Z に {outcome}",
        "en": "already decided: {outcome} by {by} at {at}Z",
    },
    "go.trigger": {
        "ja": "トリガー発火: {rule} (seq {seq})。ロールバックするか理由を付けて続行",
        "en": "trigger fired: {rule} (seq {seq}); roll back or continue with a reason",
    },
    "go.no_panels": {
        "ja": "メトリクスパネルがありません (cockpit.toml の metrics.panels)",
        "en": "no metrics panels (metrics.panels in cockpit.toml)",
    },
    "go.critical": {"ja": "危険域: {panels}", "en": "critical: {panels}"},
    "go.missing": {
        "ja": "データ欠測: {names}。別の担当者が理由を付けて承認が必要 (欠測は安全側に倒す)",
        "en": "missing data: {names}; a second operator must override with a reason "
        "(missing data fails closed)",
    },
    "go.watch_left": {
        "ja": "監視の残り時間 {left} (metrics.watch_hours = {hours}{fast})",
        "en": "the watch has {left} left (metrics.watch_hours = {hours}{fast})",
    },
    "met.go_ready": {"ja": "Go 判定可能", "en": "go possible: every panel fresh, no trigger"},
    "met.act_pause": {"ja": "一時停止", "en": "pause"},
    "met.act_baseline": {"ja": "基準", "en": "base"},
    "met.act_watch": {"ja": "監視開始", "en": "watch"},
    "met.act_go": {"ja": "Go", "en": "go"},
    "met.act_no_go": {"ja": "No-Go", "en": "no-go"},
    "met.act_override": {"ja": "欠測の承認", "en": "override"},
    "met.capturing": {"ja": "ベースラインを取得中...", "en": "capturing the baseline..."},
    "met.rolling_back": {"ja": "ロールバック中...", "en": "rolling back..."},
    "met.dlg_no_go": {"ja": "No-Go を記録 (理由)", "en": "Record no-go (reason)"},
    "met.dlg_override": {
        "ja": "欠測のまま進める (別の担当者が理由を付けて承認)",
        "en": "Go on without data (a second operator, with a reason)",
    },
    "met.dlg_rollback": {
        "ja": "ロールバック計画を開始しますか? (理由)",
        "en": "Start the rollback plan? (reason)",
    },
    "met.trigger_title": {
        "ja": "ロールバックトリガー発火 (#{seq})",
        "en": "Rollback trigger fired (#{seq})",
    },
    "met.trigger_rule": {"ja": "ルール: {rule}", "en": "rule: {rule}"},
    "met.trigger_samples": {"ja": "サンプル: {samples}", "en": "samples: {samples}"},
    "met.trigger_base": {
        "ja": "ベースライン: {base}  しきい値: {threshold}",
        "en": "baseline: {base}  threshold: {threshold}",
    },
    "met.reason": {"ja": "理由 (必須):", "en": "Reason (required):"},
    "met.trigger_keys": {
        "ja": "ctrl+r ロールバック開始  ctrl+o 続行 (記録)  esc 後で",
        "en": "ctrl+r start the rollback  ctrl+o continue (recorded)  esc later",
    },
    # issue 18: a trigger dismissed with esc is settled later
    "met.act_settle": {"ja": "トリガー", "en": "settle"},
    "key.metrics.settle": {
        "ja": "未対応のトリガーに答える (ロールバックか続行)",
        "en": "settle a fired trigger (rollback or continue)",
    },
    "key.trigger.rollback": {"ja": "ロールバック開始 (理由必須)", "en": "start the rollback"},
    "key.trigger.continue": {"ja": "続行 (理由を記録)", "en": "continue (recorded)"},
    "met.nothing_to_settle": {"ja": "未対応のトリガーはありません", "en": "no trigger to settle"},
    "run.trigger_unsettled": {
        "ja": "注意: ロールバックトリガー #{seq} ({rule}) が未対応です (監視画面の s)",
        "en": "WARNING: rollback trigger #{seq} ({rule}) is not settled (s on the metrics screen)",
    },
    "dash.metrics": {"ja": "監視", "en": "metrics"},
    "dash.deploy": {"ja": "デプロイ", "en": "deploy"},
    "key.runbook": {"ja": "T-0 ランブック", "en": "T-0 runbook"},
    "msg.recorded": {"ja": "#{seq} {action} を記録", "en": "recorded #{seq} {action}"},
    "msg.refused": {"ja": "不可: {why}", "en": "refused: {why}"},
    "msg.failed": {"ja": "失敗: {why}", "en": "failed: {why}"},
    "msg.running": {"ja": "実行中: {item}", "en": "running: {item}"},
    # the point of no return and rehearsals (docs/rehearsal.md)
    "ponr.ok": {
        "ja": "引き返し限界 {when} 残り {left}",
        "en": "point of no return {when}, {left} left",
    },
    "ponr.warn": {
        "ja": "引き返し限界 {when} まで {left}: 続行かロールバックか決める",
        "en": "point of no return {when} in {left}: go on or roll back now",
    },
    "ponr.past": {
        "ja": "引き返し限界 {when} 経過: 前進には理由付きの上書きが必要",
        "en": "past the point of no return {when}: forward steps need an override",
    },
    "ponr.none": {
        "ja": "リハーサル未実施: 引き返し限界不明",
        "en": "not rehearsed: no point of no return",
    },
    "dash.rehearsed": {
        "ja": "{day} {env} でリハーサル済: デプロイ {deploy}、ロールバック {rollback}",
        "en": "rehearsed {day} in {env}: deploy {deploy}, rollback {rollback}",
    },
    "dash.not_rehearsed": {"ja": "未リハーサル: {why}", "en": "not rehearsed: {why}"},
}
