"""The words results are said with, in Japanese and English: durations, weekdays and dates
(``when.*``, said by :func:`cockpit.when.format_remaining` and :func:`cockpit.when.day_label`),
what an event did (``verb.*``), the tagging preflight's checks (``pre.*``), why a version
(``ver.*``) and the calendar (``win.*``); and the refusals of the version rules, of a step's
supervisor and of a broken log's tail."""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    # durations, weekdays, dates (cockpit.window)
    "when.d_h": {"ja": "{d}日{h}時間", "en": "{d}d {h}h"},
    "when.h_m": {"ja": "{h}時間{m}分", "en": "{h}h{m}m"},
    "when.m_s": {"ja": "{m}分{s}秒", "en": "{m}m{s}s"},
    "when.s": {"ja": "{s}秒", "en": "{s}s"},
    "when.day0": {"ja": "月", "en": "Mon"},
    "when.day1": {"ja": "火", "en": "Tue"},
    "when.day2": {"ja": "水", "en": "Wed"},
    "when.day3": {"ja": "木", "en": "Thu"},
    "when.day4": {"ja": "金", "en": "Fri"},
    "when.day5": {"ja": "土", "en": "Sat"},
    "when.day6": {"ja": "日", "en": "Sun"},
    "when.day_date": {"ja": "{date}({day})", "en": "{day} {date}"},
    "when.open_left": {"ja": "開放中、残り {left}", "en": "open, {left} left"},
    "when.opens": {"ja": "{when} に開始 (あと {left})", "en": "opens {when} (in {left})"},
    # the tagging preflight (cockpit.versioning.preflight): each check's name and what it found
    "pre.name.plan": {"ja": "計画", "en": "plan"},
    "pre.name.history": {"ja": "履歴", "en": "history"},
    "pre.name.version": {"ja": "バージョン", "en": "version"},
    "pre.name.clean": {"ja": "作業ツリー", "en": "clean"},
    "pre.name.branch": {"ja": "ブランチ", "en": "branch"},
    "pre.name.remote": {"ja": "リモート", "en": "remote"},
    "pre.name.up_to_date": {"ja": "最新", "en": "up to date"},
    "pre.name.tag_free": {"ja": "タグ未使用", "en": "tag free"},
    "pre.name.signing": {"ja": "署名", "en": "signing"},
    "pre.name.publish": {"ja": "公開", "en": "publish"},
    "pre.refused": {"ja": "{item}: {why}", "en": "{item}: {why}"},
    "pre.shallow": {
        "ja": "shallow clone です: --unshallow を付けて実行 (git fetch --unshallow)",
        "en": "shallow clone: run with --unshallow (git fetch --unshallow)",
    },
    "pre.full": {"ja": "全履歴あり", "en": "full history"},
    "pre.version_shallow": {
        "ja": "shallow clone のタグとは照合していません",
        "en": "not checked against a shallow clone's tags",
    },
    "pre.greater": {
        "ja": "{version} は既存のどのバージョンタグよりも大きい",
        "en": "{version} is greater than every version tag",
    },
    "pre.ours": {
        "ja": "{tag} はこのリリースのタグで、他のどのバージョンタグよりも大きい",
        "en": "{tag} is this release's, above every other version tag",
    },
    "pre.clean": {"ja": "未コミットの変更なし", "en": "no uncommitted changes"},
    "pre.dirty_ok": {
        "ja": "{count} 件の変更を承知の上で続行: {reason}",
        "en": "{count} change(s), accepted: {reason}",
    },
    "pre.dirty": {
        "ja": "未コミットの変更 {count} 件: {files}。コミットするか --allow-dirty REASON を指定",
        "en": "{count} uncommitted change(s): {files}; commit them or give --allow-dirty REASON",
    },
    "pre.branch_ok": {
        "ja": "{branch} 上 (許可: {allowed})",
        "en": "on {branch} (allowed: {allowed})",
    },
    "pre.branch_bad": {
        "ja": "{branch} 上。許可: {allowed}",
        "en": "on {branch}; allowed: {allowed}",
    },
    "pre.detached_ok": {
        "ja": "{commit} で detached HEAD。このコミットは {branch} にのみ含まれます",
        "en": "detached at {commit}, which is on {branch} only",
    },
    "pre.detached": {
        "ja": "{commit} で detached HEAD ({which} 上): リリースするブランチをチェックアウト",
        "en": "detached at {commit}, on {which}: check out the branch to release from",
    },
    "pre.no_branch": {"ja": "許可されたブランチなし", "en": "no allowed branch"},
    "pre.unreachable": {
        "ja": "{remote} に接続できません（{cause}）",
        "en": "{remote} unreachable: {cause}",
    },
    "pre.reachable": {"ja": "{remote} に接続可能", "en": "{remote} reachable"},
    "pre.no_remote_branch": {"ja": "{ref} はまだありません", "en": "{ref} does not exist yet"},
    "pre.at_head": {"ja": "{ref} は HEAD と同じ", "en": "{ref} is at HEAD"},
    "pre.ahead": {"ja": "HEAD は {ref} より進んでいます", "en": "HEAD is ahead of {ref}"},
    "pre.behind": {
        "ja": "{ref} は {commit} にあり、HEAD に含まれていません: pull してから再実行",
        "en": "{ref} is at {commit}, which HEAD does not contain: pull, then run again",
    },
    "pre.tag_published_elsewhere": {
        "ja": "{tag} は {remote} の {at} にあり、HEAD は {head}: "
        "中止。公開済みのタグは動かしません",
        "en": "{tag} is on {remote} at {at}, HEAD is {head}: stop; a published tag is never moved",
    },
    "pre.tag_remake": {
        "ja": "{tag} ({at}) はここで作成され未公開: {head} に作り直します",
        "en": "{tag} at {at} was made here and never published: it will be made again on {head}",
    },
    "pre.tag_exists": {
        "ja": "{tag} は {at} にあり、HEAD は {head}: 別のバージョンにするか {at} をチェックアウト",
        "en": "{tag} exists at {at}, HEAD is {head}: choose another version or check out {at}",
    },
    "pre.tag_done": {
        "ja": "{tag} はこのコミットで公開済み",
        "en": "{tag} is already published on this commit",
    },
    "pre.tag_unpushed": {
        "ja": "{tag} はこのコミットにあり未公開: 再開します",
        "en": "{tag} exists on this commit, not published: resume",
    },
    "pre.tag_on_remote": {
        "ja": "{tag} はこのコミットで {remote} にあります",
        "en": "{tag} is already on {remote} at this commit",
    },
    "pre.tag_free": {
        "ja": "{tag} はローカルにも {remote} にもありません",
        "en": "{tag} is free locally and on {remote}",
    },
    "pre.local_only": {
        "ja": "タグはローカルのみ (--push で公開)",
        "en": "the tag stays local (--push publishes it)",
    },
    "pre.key_bad": {"ja": "{kind} の鍵を使えません（{cause}）", "en": "{kind} key: {cause}"},
    "pre.sign_fails": {
        "ja": "{kind} で署名できません（{cause}）",
        "en": "{kind} signing fails: {cause}",
    },
    "pre.signs": {
        "ja": "{kind} の鍵 {fingerprint} で署名可能",
        "en": "{kind} key {fingerprint} signs",
    },
    # what an event did, in one word (the last part of its action: item.done -> done)
    "verb.approved": {"ja": "承認", "en": "approved"},
    "verb.attempt": {"ja": "送信試行", "en": "attempt"},
    "verb.attempt_failed": {"ja": "送信失敗", "en": "attempt_failed"},
    "verb.baseline": {"ja": "基準値", "en": "baseline"},
    "verb.blocked": {"ja": "阻止", "en": "blocked"},
    "verb.break_acknowledged": {"ja": "破損確認", "en": "break_acknowledged"},
    "verb.cancel_requested": {"ja": "中止要求", "en": "cancel_requested"},
    "verb.cancelled": {"ja": "中止", "en": "cancelled"},
    "verb.chosen": {"ja": "選択", "en": "chosen"},
    "verb.closed": {"ja": "終了", "en": "closed"},
    "verb.continued": {"ja": "続行", "en": "continued"},
    "verb.created": {"ja": "作成", "en": "created"},
    "verb.done": {"ja": "完了", "en": "done"},
    "verb.expired": {"ja": "期限切れ", "en": "expired"},
    "verb.failed": {"ja": "失敗", "en": "failed"},
    "verb.finished": {"ja": "完了", "en": "finished"},
    "verb.fired": {"ja": "発火", "en": "fired"},
    "verb.go": {"ja": "Go", "en": "go"},
    "verb.no_go": {"ja": "No-Go", "en": "no_go"},
    "verb.note": {"ja": "メモ", "en": "note"},
    "verb.override": {"ja": "例外承認", "en": "override"},
    "verb.published": {"ja": "公開", "en": "published"},
    "verb.push_failed": {"ja": "push失敗", "en": "push_failed"},
    "verb.queued": {"ja": "送信待ち", "en": "queued"},
    "verb.rechecked": {"ja": "再確認", "en": "rechecked"},
    "verb.rejected": {"ja": "却下", "en": "rejected"},
    "verb.released": {"ja": "解放", "en": "released"},
    "verb.reopened": {"ja": "再オープン", "en": "reopened"},
    "verb.requested": {"ja": "要求", "en": "requested"},
    "verb.role_granted": {"ja": "ロール付与", "en": "role_granted"},
    "verb.role_revoked": {"ja": "ロール剥奪", "en": "role_revoked"},
    "verb.sent": {"ja": "送信", "en": "sent"},
    "verb.skipped": {"ja": "スキップ", "en": "skipped"},
    "verb.started": {"ja": "開始", "en": "started"},
    "verb.succeeded": {"ja": "成功", "en": "succeeded"},
    "verb.taken": {"ja": "取得", "en": "taken"},
    "verb.taken_over": {"ja": "引き継ぎ", "en": "taken_over"},
    "verb.takeover_approved": {"ja": "引継ぎ承認", "en": "takeover_approved"},
    "verb.undo_failed": {"ja": "取消失敗", "en": "undo_failed"},
    "verb.undo_skipped": {"ja": "取消スキップ", "en": "undo_skipped"},
    "verb.undo_started": {"ja": "取消開始", "en": "undo_started"},
    "verb.undone": {"ja": "取消済み", "en": "undone"},
    # why this version (cockpit.versioning): the commits, the bump, the release
    "ver.since": {"ja": "{tag} 以降", "en": "since {tag}"},
    "ver.whole": {"ja": "全履歴", "en": "in the whole history"},
    "ver.none": {
        "ja": "{since}のコミット {count} 件: feat、fix、破壊的変更はなし",
        "en": "{count} commit(s) {since}, none a feat, fix or breaking change",
    },
    "ver.some": {
        "ja": "{bump}: {since}のコミット {count} 件中 {n} 件が要求",
        "en": "{bump}: {n} of {count} commit(s) {since} ask for it",
    },
    "ver.given": {"ja": "{version} を指定", "en": "{version} given"},
    "ver.after": {"ja": "{base} の次の {bump}", "en": "{bump} after {base}"},
    "ver.after_commits": {
        "ja": "{base} の次の {bump} (コミットから)",
        "en": "{bump} after {base}, from the commits",
    },
    "ver.continues": {
        "ja": "{target} のプレリリースの続き",
        "en": "continues the {target} pre-releases",
    },
    "ver.ends": {
        "ja": "{base} の次の {bump}。{version} のプレリリースを終了",
        "en": "{bump} after {base}; ends the {version} pre-releases",
    },
    "ver.partial": {
        "ja": "未算出: 履歴が不完全 (shallow clone)",
        "en": "not computed: the history is partial (shallow clone)",
    },
    "ver.release": {"ja": "リリースのバージョン", "en": "the release's version"},
    "ver.commits": {"ja": "コミットから: {bump}", "en": "from the commits: {bump}"},
    "ver.suggest": {
        "ja": "{why} (コミットの提案は {suggested})",
        "en": "{why} (the commits suggest {suggested})",
    },
    # the change windows' calendar (cockpit window list)
    "when.plus_days": {"ja": "+{n}日", "en": "+{n}d"},
    "win.own": {"ja": "独自の日程", "en": "own schedule"},
    "win.weekly": {"ja": "毎週{day}曜日", "en": "every {day}"},
    "win.monthly": {"ja": "毎月{nth}{day}曜日", "en": "{nth} {day} monthly"},
    "win.nth1": {"ja": "第1", "en": "first"},
    "win.nth2": {"ja": "第2", "en": "second"},
    "win.nth3": {"ja": "第3", "en": "third"},
    "win.nth4": {"ja": "第4", "en": "fourth"},
    "win.nth5": {"ja": "第5", "en": "fifth"},
    "win.day0": {"ja": "月", "en": "monday"},
    "win.day1": {"ja": "火", "en": "tuesday"},
    "win.day2": {"ja": "水", "en": "wednesday"},
    "win.day3": {"ja": "木", "en": "thursday"},
    "win.day4": {"ja": "金", "en": "friday"},
    "win.day5": {"ja": "土", "en": "saturday"},
    "win.day6": {"ja": "日", "en": "sunday"},
    "win.rule": {
        "ja": "計画 {plan} ({own}): {rule}、{hours}。フェーズの順序: {order}",
        "en": "plan {plan} ({own}): {rule}, {hours}; phase order: {order}",
    },
    "win.extra": {"ja": "臨時: {reason}", "en": "extra: {reason}"},
    "win.blackout": {"ja": "作業禁止: {reason}", "en": "BLACKED OUT: {reason}"},
    "win.late": {"ja": "(作業枠の終了後)", "en": "(after the window closes)"},
    # a step's supervisor, refusing before it starts (cockpit.supervisor)
    "sup.step_running": {
        "ja": "{item} は実行中です: {holder}",
        "en": "{item} is running: {holder}",
    },
    "sup.rollback_running": {
        "ja": "{release} のロールバックが実行中です: {holder}",
        "en": "a rollback of {release} is running: {holder}",
    },
    "ver.choose": {
        "ja": "上げる部分 (major, minor, patch)、プレリリース、"
        "バージョンのいずれかを指定してください",
        "en": "choose a bump (major, minor, patch), a pre-release or a version",
    },
    "ver.collides": {
        "ja": "{version} は既存のバージョン {existing} と衝突します",
        "en": "{version} collides with existing version {existing}",
    },
    "ver.not_greater": {
        "ja": "{version} は既存のバージョン {existing} より大きくありません: "
        "より大きいバージョンを指定",
        "en": "{version} is not greater than existing version {existing}: choose a higher version",
    },
    "db.broken": {
        "ja": "監査ログが seq {seq} で壊れています ({code}: {message}): 追記を拒否します。"
        "cockpit audit verify を実行し、調査後に "
        'cockpit audit acknowledge --seq {seq} --reason "..." を実行してください',
        "en": "the audit log is broken at seq {seq} ({code}: {message}): refusing to append; "
        "run `cockpit audit verify`, and once investigated "
        '`cockpit audit acknowledge --seq {seq} --reason "..."`',
    },
}
