"""What the engine and the commands say, in Japanese and English: why a T-0 step, a release, a
rollback, the lease or the watch refuses now (and the rule an override sets aside), and what a
command says when it did something."""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    # what a step will do (cockpit.steps: a Preview's lines)
    "step.timeout": {
        "ja": "タイムアウト: {seconds} 秒 (プロセスグループごと終了)",
        "en": "timeout: {seconds} s (the process group is killed)",
    },
    # why a decision or a T-0 step waits (cockpit.actions): the rules an override sets aside
    "err.action": {
        "ja": "操作 {action!r}: {choices} のいずれかを指定してください",
        "en": "action {action!r}: use one of {choices}",
    },
    "need.committee": {
        "ja": "緊急リリース: T-0 のステップはリリース委員会の承認待ちです "
        "(cockpit release approve-emergency {release})",
        "en": "emergency release: its T-0 steps wait for the release committee's approval "
        "(cockpit release approve-emergency {release})",
    },
    "need.window": {"ja": "作業枠の外です: {window}", "en": "outside the change window: {window}"},
    "need.no_return": {
        "ja": "引き返し限界 ({at}) を過ぎています",
        "en": "past the point of no return ({at})",
    },
    "need.phases": {
        "ja": "前のフェーズが未完了です ({unfinished})",
        "en": "earlier phases unfinished ({unfinished})",
    },
    "need.phases_strict": {
        "ja": "前のフェーズが未完了です ({unfinished}): {plan} は順番どおりに実施します",
        "en": "earlier phases unfinished ({unfinished}): {plan} runs them in order",
    },
    "need.override": {
        "ja": "{problems}: 理由を添えて例外承認 (override) してください",
        "en": "{problems}; override with a reason",
    },
    "need.second": {
        "ja": "{problems}: {name} が例外承認を要求しました。"
        "本番では2人目の操作者が同じコマンドを実行する必要があります",
        "en": "{problems}; override requested by {name}: "
        "production needs a second operator to give the same command",
    },
    "need.by_hand": {
        "ja": "{item}: 環境 {env} にはチェックが設定されていません "
        '(cockpit.toml の checks."{item}")。理由 (根拠) を添えて手動で確認してください',
        "en": "{item}: no check configured for environment {env} "
        '(checks."{item}" in cockpit.toml); confirm it by hand with a reason (the evidence)',
    },
    # a release's T-0 and its life (cockpit.release)
    "t0.past": {"ja": "T-0 {when} は過去です", "en": "T-0 {when} is in the past"},
    "t0.blackout": {
        "ja": "T-0 {when} は作業禁止期間 ({reason}) に入っています",
        "en": "T-0 {when} falls in a blackout ({reason})",
    },
    "t0.next": {"ja": "。次の作業枠は {when}", "en": "; the next opens {when}"},
    "t0.outside": {
        "ja": "T-0 {when} は {plan} のどの作業枠にも入っていません{next}",
        "en": "T-0 {when} is outside every {plan} window{next}",
    },
    "t0.choose": {
        "ja": "{problem}: 作業枠内の T-0 を指定するか (cockpit window list --plan {plan})、"
        "--emergency CRITERION --reason TEXT か --override REASON を指定してください",
        "en": "{problem}: choose a T-0 in a window (cockpit window list --plan {plan}), "
        "or --emergency CRITERION --reason TEXT, or --override REASON",
    },
    "err.emergency": {
        "ja": "--emergency {value!r}: {choices} のいずれかを指定してください",
        "en": "--emergency {value!r}: use one of {choices}",
    },
    "err.emergency_reason": {
        "ja": "緊急リリースには --reason (何が起きたか) が必要です",
        "en": "an emergency release needs --reason (what happened)",
    },
    "err.not_emergency": {
        "ja": "リリース {release} は緊急リリースではありません",
        "en": "release {release} is not an emergency release",
    },
    "err.own_emergency": {
        "ja": "承認する委員は、作成した本人以外でなければなりません",
        "en": "the committee member who approves must not be the one who created it",
    },
    "err.release_over": {
        "ja": "リリース {release} はすでに {status} です",
        "en": "release {release} is already {status}",
    },
    "err.cancel_release_reason": {
        "ja": "リリースの取り消しには --reason が必要です",
        "en": "cancelling a release needs --reason",
    },
    "err.pre": {
        "ja": "--pre {value!r}: {choices} のいずれかを指定してください",
        "en": "--pre {value!r}: use one of {choices}",
    },
    # steps and rollbacks (cockpit.steprun, cockpit.deploy, cockpit.rollback)
    "run.busy": {
        "ja": "{item} は実行中です: {holder}。追跡するには cockpit item attach {release} {item}",
        "en": "{item} is running: {holder}; follow it with `cockpit item attach {release} {item}`",
    },
    "run.not_running": {
        "ja": "{item} は実行中ではありません ({status})",
        "en": "{item} is not running ({status})",
    },
    "run.nothing_to_cancel": {
        "ja": "{item} は実行中ではありません ({status}): 中止するものはありません",
        "en": "{item} is not running ({status}): nothing to cancel",
    },
    "run.not_step": {
        "ja": "{item}: {kind} 項目です。実行ステップではありません",
        "en": "{item}: is a {kind} item, not a step",
    },
    "run.tag_step": {
        "ja": "{item}: タグ作成ステップです。プレビューはタグ作成画面か cockpit tag で",
        "en": "{item}: a tag step; its preview is the tagging screen or `cockpit tag`",
    },
    "run.mode": {
        "ja": "モード {mode!r}: {choices} のいずれかを指定してください",
        "en": "mode {mode!r}: use one of {choices}",
    },
    "roll.reason": {
        "ja": "ロールバックには理由 (見たこと、またはトリガー) が必要です",
        "en": "a rollback needs a reason (what was seen, or the trigger)",
    },
    "roll.skip_reason": {
        "ja": "取り消しのスキップには理由が必要です",
        "en": "skipping an undo needs a reason",
    },
    "roll.not_failed": {
        "ja": "{item}: 取り消しは失敗していません ({status}): スキップするものはありません",
        "en": "{item}: its undo has not failed ({status}): nothing to skip",
    },
    "roll.running": {
        "ja": "{release} のロールバックが実行中です ({where})",
        "en": "a rollback of {release} is running ({where})",
    },
    # who drives a release (cockpit.lease)
    "lease.ttl": {
        "ja": "{name}={value}: リースの有効期間を秒数 (1 から 3600) で指定してください",
        "en": "{name}={value}: give the lease's life in seconds, 1 to 3600",
    },
    "lease.closed": {
        "ja": "リリース {release} は {status} です: 操作するものはありません",
        "en": "release {release} is {status}: nothing to drive",
    },
    "lease.gone": {
        "ja": "{release}: このリースはもうここで保持されていません",
        "en": "{release}: this lease is not held here any more",
    },
    "lease.not_yours": {
        "ja": "{release}: リースを保持しているのは {holder} で、{me} ではありません",
        "en": "{release}: the lease is held by {holder}, not by {me}",
    },
    "lease.for": {
        "ja": "approve-takeover: 引き継ぐ操作者を --for NAME で指定してください",
        "en": "approve-takeover: name the operator who takes over (--for NAME)",
    },
    "lease.own_takeover": {
        "ja": "{name} は自分の引き継ぎを承認できません: 別の操作者が承認してください",
        "en": "{name} cannot approve their own takeover: another operator must",
    },
    "lease.takeover_reason": {
        "ja": "引き継ぎには理由 (--reason) が必要です",
        "en": "a takeover needs a reason (--reason)",
    },
    # the post-release watch's decisions (cockpit.metrics.watch)
    "met.reason_required": {
        "ja": "{action}: 理由が必要です",
        "en": "{action}: a reason is required",
    },
    # what the commands say when they did something (cockpit.cli)
    "cli.noted": {"ja": "#{seq} としてメモを記録 ({actor})", "en": "noted as #{seq} by {actor}"},
    "cli.emergency_approved": {
        "ja": "緊急リリース {release} を {name} が承認",
        "en": "emergency release {release} approved by {name}",
    },
    "cli.no_releases": {
        "ja": "リリースはまだありません: cockpit release new --help を参照",
        "en": "no releases yet: `cockpit release new --help`",
    },
    "cli.its_report": {
        "ja": "レポート: cockpit release report {release} --format html --out FILE",
        "en": "its report: cockpit release report {release} --format html --out FILE",
    },
    "cli.nothing_ran": {
        "ja": "ロールバックするものはありません: このリリースのステップはまだ実行されていません",
        "en": "nothing to roll back: no step of this release has run",
    },
    "cli.undo_left": {
        "ja": "#{seq} {action} {item} ({actor}): そのままにします",
        "en": "#{seq} {action} {item} by {actor}: left as it is",
    },
    "cli.no_undo": {
        "ja": "ロールバックするものはありません: 取り消しのある完了ステップがありません",
        "en": "nothing to roll back: no done step has an undo",
    },
    "cli.not_rolled_back": {"ja": "ロールバックしませんでした", "en": "not rolled back"},
    "cli.left_to_undo": {"ja": "未取り消し: {left}", "en": "left to undo: {left}"},
    "cli.no_channels": {
        "ja": "通知チャネルが設定されていません: docs/notifications.md を参照",
        "en": "no channels configured: see docs/notifications.md",
    },
    "cli.nothing_sent": {"ja": "未送信", "en": "nothing sent yet"},
    "cli.sending": {
        "ja": "ログの #{seq} 以降の通知を送信中 (Ctrl-C で停止)",
        "en": "sending notices from the log after #{seq} (Ctrl-C stops)",
    },
    "cli.preflight_failed": {
        "ja": "事前確認に失敗: 何も変更していません",
        "en": "preflight failed: nothing was changed",
    },
    "cli.tag_published": {
        "ja": "{tag} は公開済みです: することはありません",
        "en": "{tag} is already published: nothing to do",
    },
    "cli.nothing_changed": {"ja": "何も変更していません", "en": "nothing was changed"},
    "cli.nobody_drives": {
        "ja": "{release}: 操作中の人はいません",
        "en": "{release}: nobody drives it",
    },
    "cli.you_drive": {
        "ja": "{release}: すでにあなたが操作中です ({host} の pid {pid})",
        "en": "{release}: you drive it already (pid {pid} on {host})",
    },
    "cli.driven_now": {
        "ja": "{release}: {holder} が操作中になりました (リース {ttl} 秒)",
        "en": "{release}: driven by {holder} now (lease of {ttl} s)",
    },
    "cli.taken_over": {
        "ja": "{release}: {holder} が操作中になりました。引き継ぎを記録しました",
        "en": "{release}: driven by {holder} now; the takeover is recorded",
    },
    "cli.holding": {"ja": "保持中: Ctrl-C で解放", "en": "holding it: Ctrl-C lets go"},
    "cli.lease_lost": {
        "ja": "{release}: リースが引き継がれました (現在: {who})",
        "en": "{release}: the lease was taken over (now: {who})",
    },
    "cli.wrote_config": {
        "ja": "{path} を作成しました: 編集してから cockpit config check を実行",
        "en": "wrote {path}: edit it, then run `cockpit config check`",
    },
    "cli.cancelling": {
        "ja": "{item} を中止しています (もう一度 Ctrl-C で実行したままにします)",
        "en": "cancelling {item} (Ctrl-C again to leave it running)",
    },
    "cli.release_ended": {"ja": "リリース {release}: {status}", "en": "release {release} {status}"},
    "tag.preflight_failed": {"ja": "事前確認に失敗: {first}", "en": "preflight failed: {first}"},
    # the tag step and the log itself (cockpit.tagging, cockpit.store, cockpit.events)
    "tag.other_env": {
        "ja": "--env {env}: リリース {release} は {its} 用です",
        "en": "--env {env}: release {release} is for {its}",
    },
    "tag.no_commits": {
        "ja": "{path}: リポジトリにコミットがありません",
        "en": "{path}: the repository has no commits",
    },
    "tag.no_version": {
        "ja": "タグを付けるバージョンがありません: {found}。"
        "--bump、--pre、--version のいずれかを指定",
        "en": "no version to tag: {found}; choose --bump, --pre or --version",
    },
    "db.read_other": {
        "ja": "{url}: ログのスキーマはリビジョン {at}、この cockpit が読むのは {ours}: "
        "そのリビジョンの cockpit で読んでください",
        "en": "{url}: the log's schema is at revision {at}, this cockpit reads {ours}: "
        "read it with a cockpit of that revision",
    },
    "db.newer": {
        "ja": "{url}: データベースのスキーマはリビジョン {at} で、"
        "この cockpit ({ours}) より新しいです: このホストの cockpit を更新してください",
        "en": "{url}: the database schema is at revision {at}, newer than this cockpit knows "
        "({ours}): upgrade the cockpit on this host",
    },
    "db.migration": {
        "ja": "{url}: マイグレーションに失敗しました（{cause}）",
        "en": "{url}: migration failed ({cause})",
    },
    "db.rebuild": {
        "ja": "{url}: 射影を再構築できません（{cause}）",
        "en": "{url}: cannot rebuild the projections ({cause})",
    },
    "db.acting_as": {
        "ja": "COCKPIT_AS={name} はリハーサル専用です: "
        "{action} はリハーサルのイベントではありません。COCKPIT_AS を外してください",
        "en": "COCKPIT_AS={name} is for rehearsals only: {action} is not a rehearsal event; "
        "unset it",
    },
    "db.append_failed": {
        "ja": "監査ログに書き込めなかったため、何も実行していません（{cause}）",
        "en": "the audit log could not be written, so nothing was done: {cause}",
    },
    "db.no_head": {
        "ja": "チェーンの先頭行がありません: cockpit audit verify を実行してください",
        "en": "the chain head row is missing: run `cockpit audit verify`",
    },
    "ev.action": {
        "ja": "操作 {action!r}: 英小文字の単語をドットでつないでください",
        "en": "action {action!r}: use lowercase words joined by dots",
    },
    # signing a decision (cockpit.signing, cockpit.operator)
    "sig.slow": {
        "ja": "{what} は記録されていません: {fingerprint} での署名が {seconds} 秒を超えました "
        "(エージェントが確認を待っていませんか)",
        "en": "{what} not recorded: signing with {fingerprint} took over {seconds}s "
        "(is the agent waiting for a confirmation?)",
    },
    "sig.no_keygen": {
        "ja": "{what} は記録されていません: ssh-keygen を実行できません（{cause}）",
        "en": "{what} not recorded: cannot run ssh-keygen ({cause})",
    },
    "sig.failed": {
        "ja": "{what} は記録されていません: "
        "鍵 {fingerprint} で署名できませんでした（{cause}）: {hint}",
        "en": "{what} not recorded: the key {fingerprint} did not sign ({cause}): {hint}",
    },
    "sig.hint_agent": {
        "ja": "ssh-add でエージェントに読み込んでください",
        "en": "load it into the agent with ssh-add",
    },
    "sig.hint_file": {"ja": "鍵ファイルを確認してください", "en": "check the key file"},
    "sig.no_key": {
        "ja": "{what} には署名が必要ですが、署名に使う鍵がありません: 鍵をエージェントに読み込むか "
        "(ssh-add)、[identity] signing_key か COCKPIT_SIGNING_KEY を設定してください",
        "en": "{what} must be signed and there is no key to sign with: load yours into the "
        "agent (ssh-add), or set [identity] signing_key or COCKPIT_SIGNING_KEY",
    },
    "sig.from": {"ja": "{origin}: {problem}", "en": "{origin}: {problem}"},
    "sig.no_file": {"ja": "{path}: 鍵ファイルがありません", "en": "{path}: no such key file"},
    "sig.no_pub": {
        "ja": "{path}: 公開鍵を読めません（{cause}）",
        "en": "{path}: cannot read its public key ({cause})",
    },
    "sig.pub_beside": {
        "ja": "{path}: 公開鍵を読めません。{name}.pub を隣に置いてください",
        "en": "{path}: cannot read its public key; put {name}.pub beside it",
    },
    "sig.unreadable": {
        "ja": "{path}: 読めません（{cause}）",
        "en": "{path}: cannot read it ({cause})",
    },
    "sig.not_openssh": {
        "ja": "{path}: OpenSSH の公開鍵ではありません",
        "en": "{path}: not an OpenSSH public key",
    },
    # the allowed-signers file (cockpit.identity)
    "ids.unreadable": {
        "ja": "{path}: allowed-signers ファイルを読めません（{cause}）",
        "en": "{path}: cannot read the allowed-signers file ({cause})",
    },
    "ids.form": {
        "ja": 'allowed-signers の行ではありません (PRINCIPALS [namespaces="..."] KEYTYPE BASE64)',
        "en": 'not an allowed-signers line (PRINCIPALS [namespaces="..."] KEYTYPE BASE64)',
    },
    "ids.bad_line": {"ja": "{where}: {form}（{cause}）", "en": "{where}: {form}: {cause}"},
    "ids.not_a_line": {"ja": "{where}: {form}", "en": "{where}: {form}"},
    "ids.option": {
        "ja": "{where}: オプション {option} はここでは使えません (namespaces のみ)",
        "en": "{where}: option {option} is not supported here (only namespaces)",
    },
    "ids.key_type": {
        "ja": "{where}: 鍵の種類 {kind!r} はここでは検証できません ({kinds} の鍵を使用)",
        "en": "{where}: key type {kind!r} cannot be checked here (use {kinds} keys)",
    },
    "ids.no_decode": {
        "ja": "{where}: {form}: {kind} の鍵を復号できません",
        "en": "{where}: {form}: the {kind} key does not decode",
    },
    # cockpit audit verify
    "aud.warning": {"ja": "警告: {warning}", "en": "warning: {warning}"},
    "aud.broken": {"ja": "監査チェーン破損: {problem}", "en": "audit chain BROKEN: {problem}"},
    "aud.principal": {
        "ja": "監査の主体が不正: {finding}",
        "en": "audit principal WRONG: {finding}",
    },
    "aud.identity": {"ja": "本人確認: {finding}", "en": "identity: {finding}"},
    "aud.ok": {
        "ja": "監査チェーン正常: {count} 件、先頭 #{seq} {hash}、{anchor} ({seconds} 秒)",
        "en": "audit chain ok: {count} events, head #{seq} {hash}, {anchor} ({seconds}s)",
    },
    "aud.anchor": {"ja": "チェックポイント seq {seq} と一致", "en": "matches checkpoint seq {seq}"},
    "aud.no_anchor": {
        "ja": "チェックポイントなし: 末尾の切り捨てや書き換えは検出できません",
        "en": "no checkpoint: a cut-off or rewritten end cannot be detected",
    },
    "aud.not_proven": {
        "ja": "本人確認できません: 上の {count} 件",
        "en": "identity NOT proven: {count} finding(s) above",
    },
    "aud.sig_ok": {
        "ja": "署名 ok: {path} で検証済み",
        "en": "signatures ok: checked against {path}",
    },
    "aud.sig_none": {
        "ja": "署名: [identity] allowed_signers がないため、すべての本人情報は自己申告です",
        "en": "signatures: no [identity] allowed_signers, so every identity is a claim",
    },
}
