"""The one catalog of UI text, in Japanese and English.

Screens and widgets never hard-code words: they ask :func:`tr` for a key. A test checks that every
key has both languages and the same ``{placeholders}`` in each.
"""

from __future__ import annotations

import os

LANGS = ("ja", "en")

CATALOG: dict[str, dict[str, str]] = {
    "app.title": {"ja": "Release Cockpit", "en": "Release Cockpit"},
    "rehearsal": {"ja": "リハーサル REHEARSAL", "en": "REHEARSAL"},
    # dashboard
    "dash.releases": {"ja": "リリース", "en": "Releases"},
    "dash.timeline": {"ja": "タイムライン", "en": "Timeline"},
    "dash.window": {"ja": "作業枠", "en": "Window"},
    "dash.recent": {"ja": "最近の決定", "en": "Recent decisions"},
    "dash.audit": {"ja": "監査", "en": "Audit"},
    "dash.next": {"ja": "次", "en": "Next"},
    "dash.no_releases": {
        "ja": "リリースがありません: cockpit release new で作成",
        "en": "no releases yet: create one with cockpit release new",
    },
    "dash.all_done": {"ja": "すべて完了", "en": "all items settled"},
    "dash.chain_ok": {"ja": "#{seq} チェーン正常", "en": "#{seq} chain ok"},
    "dash.chain_bad": {"ja": "#{seq} {code} 改ざんの疑い", "en": "#{seq} {code} BROKEN"},
    "dash.due": {"ja": "期限 {when}", "en": "due {when}"},
    "dash.overdue": {"ja": "期限超過 {when}", "en": "OVERDUE {when}"},
    "window.open": {"ja": "作業枠 開放中 残り {left}", "en": "window open, {left} left"},
    "window.next": {"ja": "次回 {when} (あと {left})", "en": "next {when} (in {left})"},
    # checklist
    "list.progress": {"ja": "{done}/{total}", "en": "{done}/{total}"},
    "list.kind.manual": {"ja": "手動確認", "en": "manual"},
    "list.kind.check": {"ja": "自動チェック", "en": "check"},
    "list.kind.gate": {"ja": "承認ゲート", "en": "gate"},
    "list.kind.step": {"ja": "実行ステップ", "en": "step"},
    "list.kind.notify": {"ja": "通知", "en": "notice"},
    "list.gate": {
        "ja": "承認 {have}/{need} (ロール {role}, {preparer} 以外)",
        "en": "gate {have}/{need} (role {role}, anyone but {preparer})",
    },
    "list.void": {
        "ja": "計画変更により無効: {names}",
        "en": "void after a plan change: {names}",
    },
    "list.in": {"ja": "(あと {left})", "en": "(in {left})"},
    "who.claimed": {"ja": "{name}（未署名）", "en": "{name} (claimed)"},
    "gate.ask": {
        "ja": "承認できるのは {names}（ロール {role}）: 本人の端末で {command}",
        "en": "{names} (role {role}) may approve, from their own terminal: {command}",
    },
    "gate.demo": {
        "ja": "試すには、2つ目の端末で {name} として承認: "
        "COCKPIT_CONFIG={config} COCKPIT_SIGNING_KEY={keyfile} {command}",
        "en": "to try it, approve as {name} from a second terminal: "
        "COCKPIT_CONFIG={config} COCKPIT_SIGNING_KEY={keyfile} {command}",
    },
    "list.runs": {"ja": "実行: {what}", "en": "runs: {what}"},
    "list.by": {"ja": "{status}: {who} {when}", "en": "{status}: {who} {when}"},
    "list.reason": {"ja": "理由: {reason}", "en": "reason: {reason}"},
    "list.seen": {"ja": "確認結果: {seen}", "en": "saw: {seen}"},
    "list.expected": {"ja": "期待値: {expected}", "en": "expected: {expected}"},
    "list.not_now": {
        "ja": "{keyname} {action}: 不可 - {why}",
        "en": "{keyname} {action}: not now - {why}",
    },
    "list.timing": {"ja": "リハーサルのため期限は参考", "en": "rehearsal: timing is advisory"},
    # statuses
    "status.pending": {"ja": "未実施", "en": "pending"},
    "status.done": {"ja": "完了", "en": "done"},
    "status.skipped": {"ja": "スキップ", "en": "skipped"},
    "status.awaiting": {"ja": "承認待ち", "en": "awaiting approval"},
    "status.approved": {"ja": "承認済み", "en": "approved"},
    "status.rejected": {"ja": "却下", "en": "rejected"},
    "status.failed": {"ja": "失敗", "en": "failed"},
    "status.interrupted": {"ja": "中断", "en": "interrupted"},
    "status.running": {"ja": "実行中", "en": "running"},
    "status.undone": {"ja": "取り消し済み", "en": "rolled back"},
    "status.cancelled": {"ja": "中止", "en": "cancelled"},
    "status.undoing": {"ja": "取り消し中", "en": "undoing"},
    "status.undo_interrupted": {"ja": "取り消し中断", "en": "undo interrupted"},
    "status.undo_failed": {"ja": "取り消し失敗", "en": "undo failed"},
    # actions (footer and dialogs)
    "act.do": {"ja": "実施", "en": "do"},
    "act.skip": {"ja": "スキップ", "en": "skip"},
    "act.approve": {"ja": "承認", "en": "approve"},
    "act.reject": {"ja": "却下", "en": "reject"},
    "act.note": {"ja": "メモ", "en": "note"},
    "act.back": {"ja": "戻る", "en": "back"},
    "act.help": {"ja": "ヘルプ", "en": "help"},
    "act.quit": {"ja": "終了", "en": "quit"},
    "act.open": {"ja": "開く", "en": "open"},
    "act.audit": {"ja": "監査ログ", "en": "audit log"},
    "act.filter": {"ja": "絞り込み", "en": "filter"},
    "act.verify": {"ja": "検証", "en": "verify"},
    "act.commands": {"ja": "コマンド", "en": "commands"},
    "act.phase": {"ja": "フェーズ", "en": "phase"},
    # decision dialog
    "dlg.reason": {"ja": "理由 (必須)", "en": "Reason (required)"},
    "dlg.reason_optional": {"ja": "理由 (任意)", "en": "Reason (optional)"},
    "dlg.note": {"ja": "メモ", "en": "Note"},
    "dlg.confirm": {"ja": "enter 記録  esc 取消", "en": "enter record  esc cancel"},
    "dlg.confirm_run": {"ja": "enter 実行  esc 取消", "en": "enter run  esc cancel"},
    "dlg.yes_no": {
        "ja": "y はい  enter / n / esc いいえ (既定)",
        "en": "y yes  enter / n / esc no (the default)",
    },
    "dlg.typed": {
        "ja": "名前を入力して enter  esc 取消",
        "en": "type the name, then enter  esc cancel",
    },
    "dlg.type_name": {
        "ja": "本番環境です: 確認のため {name} と入力",
        "en": "production: type {name} to confirm",
    },
    "dlg.title.done": {"ja": "{item} を完了にする", "en": "Mark {item} done"},
    "dlg.title.skip": {"ja": "{item} をスキップする", "en": "Skip {item}"},
    "dlg.title.approve": {"ja": "{item} を承認する", "en": "Approve {item}"},
    "dlg.title.reject": {"ja": "{item} を却下する", "en": "Reject {item}"},
    "dlg.title.reopen": {"ja": "{item} を未完了に戻す", "en": "Reopen {item}"},
    "key.checklist.reopen": {
        "ja": "完了を取り消す (理由必須、後のゲートの承認は無効)",
        "en": "reopen a done item (reason required; voids later approvals)",
    },
    "dlg.title.note": {"ja": "監査ログにメモを残す", "en": "Add a note to the audit log"},
    "dlg.need_reason": {"ja": "理由を入力してください", "en": "a reason is required"},
    "dlg.quit_step": {
        "ja": "{item} を実行中です ({who})。\n"
        "d: 切り離して終了 (ステップは監視プロセスの下で続行)\n"
        "c: ステップを中止して終了\n"
        "Esc / Enter: 戻る",
        "en": "{item} is running ({who}).\n"
        "d: detach and quit (the step goes on under its supervisor)\n"
        "c: cancel the step, then quit\n"
        "esc / enter: stay",
    },
    "dlg.quit_running": {
        "ja": "実行中の処理があります。終了しますか?",
        "en": "Something is running. Quit anyway?",
    },
    # audit screen
    "audit.title": {"ja": "監査ログ", "en": "Audit log"},
    "audit.filter": {
        "ja": "絞り込み: 文字列・実行者・アクション・リリース",
        "en": "filter: text, actor, action, release",
    },
    "audit.count": {"ja": "{shown}/{total} 件", "en": "{shown}/{total} events"},
    "audit.verify_ok": {
        "ja": "検証 OK: {count} 件, 先頭 #{seq}",
        "en": "verify ok: {count} events, head #{seq}",
    },
    "audit.verify_bad": {"ja": "検証 NG: {finding}", "en": "verify FAILED: {finding}"},
    # help
    "help.title": {"ja": "キー操作", "en": "Keys"},
    "help.close": {"ja": "esc / ? で閉じる", "en": "esc or ? closes"},
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
    # key labels in the help screen: "key.<binding id>" (screens/keys.py)
    "key.nav.down": {"ja": "下へ", "en": "down"},
    "key.nav.up": {"ja": "上へ", "en": "up"},
    "key.app.takeover": {
        "ja": "このリリースの操作を引き継ぐ (理由)",
        "en": "take over driving this release (reason)",
    },
    "key.dashboard.open": {"ja": "開く", "en": "open"},
    "key.dashboard.tag": {"ja": "タグ作成 (確認あり)", "en": "tag (asks first)"},
    "key.dashboard.deploy": {"ja": "デプロイ (T-0 ランブック)", "en": "deploy"},
    "key.dashboard.metrics": {"ja": "監視", "en": "metrics"},
    "key.dashboard.note": {"ja": "メモを残す", "en": "add a note"},
    "key.checklist.do": {
        "ja": "実施 (チェック・ステップは実行)",
        "en": "do (runs a check or step)",
    },
    "key.checklist.skip": {"ja": "スキップ (理由必須)", "en": "skip (reason required)"},
    "key.checklist.approve": {"ja": "承認", "en": "approve"},
    "key.checklist.reject": {"ja": "却下 (理由必須)", "en": "reject (reason required)"},
    "key.checklist.note": {"ja": "メモを残す", "en": "add a note"},
    "key.checklist.prev_phase": {"ja": "前のフェーズ", "en": "previous phase"},
    "key.checklist.next_phase": {"ja": "次のフェーズ", "en": "next phase"},
    "key.runbook.run": {"ja": "実行 (確認あり)", "en": "run"},
    "key.runbook.cancel": {"ja": "実行中のステップを中止", "en": "cancel"},
    "key.runbook.preview": {"ja": "プレビュー", "en": "preview"},
    "key.runbook.output": {"ja": "出力ログ", "en": "output"},
    "key.runbook.resume": {"ja": "再確認して再開", "en": "resume"},
    "key.runbook.redo": {"ja": "やり直し", "en": "redo"},
    "key.runbook.skip": {"ja": "スキップ (理由必須)", "en": "skip (reason required)"},
    "key.runbook.rollback": {"ja": "ロールバック", "en": "rollback"},
    "key.runbook.metrics": {"ja": "監視", "en": "metrics"},
    "key.audit.filter": {"ja": "絞り込み", "en": "filter"},
    "key.audit.verify": {"ja": "チェーン検証", "en": "verify the chain"},
    "key.tagging.tag": {"ja": "タグ作成 (確認あり)", "en": "tag (asks first)"},
    "key.tagging.major": {"ja": "メジャーを上げる", "en": "bump major"},
    "key.tagging.minor": {"ja": "マイナーを上げる", "en": "bump minor"},
    "key.tagging.patch": {"ja": "パッチを上げる", "en": "bump patch"},
    "key.tagging.rc": {"ja": "次の rc", "en": "next release candidate"},
    "key.tagging.beta": {"ja": "次の beta", "en": "next beta"},
    "key.tagging.planned": {"ja": "リリースの計画版に戻す", "en": "the release's version"},
    "key.metrics.pause": {"ja": "一時停止", "en": "pause"},
    "key.metrics.baseline": {"ja": "基準を取得", "en": "baseline"},
    "key.metrics.watch": {"ja": "監視開始", "en": "start watch"},
    "key.metrics.go": {"ja": "Go 判定", "en": "go"},
    "key.metrics.no_go": {"ja": "No-Go 判定 (理由必須)", "en": "no-go"},
    "key.metrics.override": {"ja": "欠測の承認", "en": "override no data"},
    "key.metrics.rollback": {"ja": "ロールバック", "en": "rollback"},
    "key.app.audit": {"ja": "監査ログ", "en": "audit log"},
    "key.app.back": {"ja": "戻る", "en": "back"},
    "key.app.help": {"ja": "ヘルプ", "en": "help"},
    "key.app.commands": {"ja": "コマンドパレット", "en": "command palette"},
    "key.app.quit": {"ja": "終了", "en": "quit"},
    "key.dialog.cancel": {"ja": "取り消し", "en": "cancel"},
    "key.confirm.yes": {"ja": "はい", "en": "yes"},
    "key.confirm.no": {"ja": "いいえ", "en": "no"},
    "key.quit.stay": {"ja": "戻る (既定)", "en": "stay (default)"},
    "key.quit.detach": {
        "ja": "切り離して終了 (実行は続く)",
        "en": "detach: quit, the step goes on",
    },
    "key.quit.cancel": {"ja": "中止して終了", "en": "cancel the step, then quit"},
    "key.help.close": {"ja": "閉じる", "en": "close"},
    "key.trigger.later": {"ja": "後で", "en": "later"},
    # the log view's own keys (widgets/auditview.py), by their description
    "key.down": {"ja": "下へ", "en": "down"},
    "key.up": {"ja": "上へ", "en": "up"},
    "key.top": {"ja": "先頭へ", "en": "top"},
    "key.end": {"ja": "末尾へ (追従)", "en": "end (follow)"},
    # messages
    # tagging screen
    "tag.looking": {"ja": "確認中 (preflight)...", "en": "looking (preflight)..."},
    "tag.none": {"ja": "タグ計画なし", "en": "no tag plan"},
    "tag.version": {"ja": "バージョン", "en": "Version"},
    "tag.commits": {"ja": "コミット", "en": "Commits"},
    "tag.commit": {"ja": "対象", "en": "Commit"},
    "tag.detached": {"ja": "detached HEAD", "en": "detached HEAD"},
    "tag.preflight": {"ja": "事前確認 (preflight)", "en": "Preflight"},
    "tag.no_step": {
        "ja": "計画 {plan} にタグ作成ステップはありません (cockpit tag を使用)",
        "en": "plan {plan} has no tag step (use cockpit tag)",
    },
    "tag.changelog": {"ja": "変更履歴", "en": "Changelog"},
    "tag.changelog_what": {
        "ja": "{file} に [{version}] の節を追加してコミットしてからタグ作成",
        "en": "a [{version}] section is committed to {file} before the tag",
    },
    "tag.message": {"ja": "タグメッセージ ({tag})", "en": "Tag message ({tag})"},
    "tag.act_tag": {"ja": "タグ作成", "en": "tag"},
    "tag.act_push": {"ja": "push 再開", "en": "resume push"},
    "tag.act_nothing": {"ja": "公開済み", "en": "published"},
    "tag.act_bump": {"ja": "上げる", "en": "bump"},
    "tag.act_pre": {"ja": "rc/beta", "en": "rc/beta"},
    "tag.act_planned": {"ja": "計画の版", "en": "planned"},
    "tag.confirm": {
        "ja": "{commit} にタグ {tag} を作成しますか (push しない)?",
        "en": "Create tag {tag} on {commit} (not pushed)?",
    },
    "tag.confirm_push": {
        "ja": "{commit} にタグ {tag} を作成し、{branch} と共に {remote} へ push しますか?",
        "en": "Create tag {tag} on {commit} and push it with {branch} to {remote}?",
    },
    "tag.confirm_resume": {
        "ja": "作成済みのタグ {tag} ({commit}) を {remote} へ push しますか?",
        "en": "Push the tag {tag} already made on {commit} to {remote}?",
    },
    # the T-0 runbook
    "run.act_run": {"ja": "実行", "en": "run"},
    "run.act_cancel": {"ja": "中止", "en": "cancel"},
    "run.act_resume": {"ja": "再開", "en": "resume"},
    "run.act_view": {"ja": "プレビュー", "en": "preview"},
    "run.act_rollback": {"ja": "ロールバック", "en": "rollback"},
    "run.looking": {"ja": "プレビューを取得中...", "en": "reading the preview..."},
    "run.no_preview": {"ja": "プレビュー不可: {why}", "en": "no preview: {why}"},
    "run.no_preview_yet": {
        "ja": "プレビューの取得を待っています (p で再取得)",
        "en": "waiting for the preview (p reads it again)",
    },
    "run.interrupted": {
        "ja": "中断: r で実状態を再確認して再開、e でやり直し、s で理由を付けてスキップ",
        "en": "interrupted: r re-checks the real state and resumes, e redoes, s skips (reason)",
    },
    "run.use_checklist": {
        "ja": "この項目はチェックリスト画面で実施してください",
        "en": "do this item from the checklist screen",
    },
    "run.confirm": {"ja": "{item} を実行しますか?", "en": "Run {item}?"},
    "run.confirm_resume": {
        "ja": "{item}: 実状態を再確認して再開しますか?",
        "en": "{item}: re-check the real state and resume?",
    },
    "run.confirm_redo": {
        "ja": "{item} を最初からやり直しますか?",
        "en": "{item}: run it again from the start?",
    },
    "run.running": {"ja": "実行中: {item} (c で中止)", "en": "running {item} (c cancels)"},
    "run.following": {
        "ja": "{item} は別の端末で実行中: 出力を追跡 (c で中止)",
        "en": "{item} runs under its supervisor (started elsewhere): following (c cancels)",
    },
    "run.following_log": {"ja": "実行中のステップを追跡", "en": "following the running step"},
    "run.followed": {"ja": "{item}: {status}", "en": "{item}: {status}"},
    "run.cancelling": {"ja": "{item} を中止しています...", "en": "cancelling {item}..."},
    "run.nothing_to_undo": {
        "ja": "取り消せる完了ステップはありません",
        "en": "no done step can be undone",
    },
    "run.rolled_back": {
        "ja": "ロールバック完了: {undone} ({seconds} 秒)",
        "en": "rolled back: {undone} ({seconds} s)",
    },
    "run.rolled_back_unhealthy": {
        "ja": "ロールバック済み: {undone}、ただしヘルスチェック失敗 ({seconds} 秒)",
        "en": "rolled back: {undone}, but the health checks fail ({seconds} s)",
    },
    "run.rollback_failed": {
        "ja": "ロールバック停止: {failed} で失敗、残り {left}",
        "en": "rollback stopped: {failed} failed; left: {left}",
    },
    # live metrics
    "met.title": {"ja": "メトリクス", "en": "Metrics"},
    "met.paused": {"ja": "一時停止中", "en": "PAUSED"},
    "met.base_set": {"ja": "ベースライン取得済み", "en": "baseline captured"},
    "met.base_none": {"ja": "ベースライン未取得 (b)", "en": "no baseline yet (b)"},
    "met.go_blocked": {"ja": "Go 不可: {why}", "en": "go blocked: {why}"},
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


def tr(key: str, lang: str, **values: object) -> str:
    """The text for ``key`` in ``lang`` with ``values`` filled in."""
    text = CATALOG[key].get(lang) or CATALOG[key]["en"]
    return text.format(**values) if values else text


def default_lang(environ: dict[str, str] | None = None) -> str:
    """``ja`` when the locale says Japanese (LC_ALL, LC_MESSAGES, LANG), else ``en``."""
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name)
        if value:
            return "ja" if value.lower().startswith("ja") else "en"
    return "en"


# --- notices, release notes and reports, the browser view (issue 19) ---------------------------
CATALOG.update(
    {
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
    }
)
