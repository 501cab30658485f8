"""The words of bad input, in Japanese and English: what the command line and the engine say
when an input is wrong (a file, a key, a value, an argument, a database URL), one line naming it
and what to do.

A ``{cause}`` is the words of a library or of the operating system, quoted as they are: Japanese
puts it in full-width parentheses ``（…）`` (tests/test_ja_words.py knows them by that)."""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    # the command line (cockpit.cli)
    "err.usage": {
        "ja": "{where}{problem} (使い方は {prog} --help)",
        "en": "{where}{problem} (see `{prog} --help`)",
    },
    "arg.choice": {
        "ja": "{arg}: {value} は指定できません (選択肢: {choices})",
        "en": "argument {arg}: invalid choice: {value} (choose from {choices})",
    },
    "arg.required": {
        "ja": "必須の引数がありません: {args}",
        "en": "the following arguments are required: {args}",
    },
    "arg.unknown": {"ja": "不明な引数: {args}", "en": "unrecognized arguments: {args}"},
    "arg.one": {
        "ja": "{arg}: 値を1つ指定してください",
        "en": "argument {arg}: expected one argument",
    },
    "arg.ambiguous": {
        "ja": "オプション {option} があいまいです (候補: {matches})",
        "en": "ambiguous option: {option} could match {matches}",
    },
    "arg.whole": {
        "ja": "{arg}: {value} は整数ではありません",
        "en": "argument {arg}: {value} is not a whole number",
    },
    "arg.range": {
        "ja": "{arg}: {value} は範囲外です (0 から {most} まで)",
        "en": "argument {arg}: {value} is out of range: give 0 to {most}",
    },
    "arg.other": {"ja": "{arg}: {problem}", "en": "argument {arg}: {problem}"},
    "err.readonly": {
        "ja": "--readonly: `{command}` はリリースやログを変更します。"
        "--readonly なしで実行してください",
        "en": "--readonly: `{command}` can change a release or the log; run it without --readonly",
    },
    "err.interrupted": {"ja": "中断しました", "en": "interrupted"},
    "err.internal": {
        "ja": "内部エラー {kind}（{first}）: COCKPIT_DEBUG=1 でトレースバックを表示",
        "en": "internal error: {kind}: {first} (set COCKPIT_DEBUG=1 to see the traceback)",
    },
    "err.database": {
        "ja": "データベースを使えません（{cause}）: データベース URL を確認してください "
        "(cockpit config check で表示)",
        "en": "the database cannot be used ({cause}): check the database URL "
        "(`cockpit config check` shows it)",
    },
    "err.which_release": {
        "ja": "どのリリースですか: RELEASE を指定してください ({which})",
        "en": "which release? give RELEASE ({which})",
    },
    "err.none_open": {"ja": "開いているリリースはありません", "en": "none is open"},
    "err.out_is_dir": {
        "ja": "{option} {value}: ディレクトリです。ファイル名を指定してください",
        "en": "{option} {value}: is a directory; give a file name",
    },
    "err.out_no_dir": {
        "ja": "{option} {value}: ディレクトリ {parent} がありません。先に作成してください",
        "en": "{option} {value}: no such directory {parent}; create it first",
    },
    "err.out_locked": {
        "ja": "{option} {value}: 書き込めません。別のファイルを指定してください",
        "en": "{option} {value}: not writable; choose another file",
    },
    "err.cannot_write": {
        "ja": "{option} {value}: 書き込めません（{cause}）",
        "en": "{option} {value}: cannot write it ({cause})",
    },
    "err.no_file": {
        "ja": "{option} {value}: ファイルがありません",
        "en": "{option} {value}: no such file",
    },
    "err.cannot_read": {
        "ja": "{option} {value}: 読めません（{cause}）",
        "en": "{option} {value}: cannot read it ({cause})",
    },
    "err.not_utf8": {
        "ja": "{file}: UTF-8 のテキストではありません ({byte} バイト目)",
        "en": "{file}: not UTF-8 text (byte {byte})",
    },
    "err.exists": {
        "ja": "{path}: すでにあります (上書きするには --force)",
        "en": "{path}: already exists (use --force to overwrite)",
    },
    "err.dir_is_file": {
        "ja": "--dir {value}: ファイルです。新しいディレクトリか空のディレクトリを指定してください",
        "en": "--dir {value}: is a file; give a new or empty directory",
    },
    "err.dir_not_empty": {
        "ja": "{root}: 空ではありません。"
        "--dir に新しいディレクトリか空のディレクトリを指定してください",
        "en": "{root}: not empty; give --dir a new or empty directory",
    },
    # releases, versions, times (cockpit.release, cockpit.versioning)
    "err.no_release": {
        "ja": "リリース {release!r} はありません (一覧は cockpit release list)",
        "en": "release {release!r}: no such release (see `cockpit release list`)",
    },
    "err.ambiguous_release": {
        "ja": "リリース {release!r} は複数に一致します: {matches}",
        "en": "release {release!r}: ambiguous, matches {matches}",
    },
    "err.version": {
        "ja": "バージョン {text!r} はセマンティックバージョンではありません "
        "(例: 1.4.0, 1.4.0-rc.1)",
        "en": "version {text!r}: not a semantic version (like 1.4.0 or 1.4.0-rc.1)",
    },
    "err.t0": {
        "ja": "T-0 {text!r}: ISO 8601 で指定してください (例: 2026-12-16T01:00, "
        "2026-12-16T01:00+09:00)",
        "en": "T-0 {text!r}: use ISO 8601, like 2026-12-16T01:00 or 2026-12-16T01:00+09:00",
    },
    "err.which_env": {
        "ja": "どの環境ですか: --release ID か --env NAME を指定してください (設定済み: {envs})",
        "en": "which environment? give --release ID or --env NAME (configured: {envs})",
    },
    "err.none": {"ja": "なし", "en": "none"},
    # cockpit.toml (cockpit.config)
    "err.env_unknown": {
        "ja": "{where}: 環境 {name!r} は設定されていません (設定済み: {known})",
        "en": "{where}: environment {name!r} is not configured (known: {known})",
    },
    "err.default_config": {"ja": "既定の設定", "en": "the default config"},
    "err.no_config": {
        "ja": "{path}: 設定ファイルがありません ({source} で指定)",
        "en": "{path}: no such config file (from {source})",
    },
    "err.read_denied": {
        "ja": "{file}: ファイルを読めません (権限がありません)",
        "en": "{file}: cannot read the file (permission denied)",
    },
    "err.read_failed": {
        "ja": "{file}: ファイルを読めません（{cause}）",
        "en": "{file}: cannot read the file ({cause})",
    },
    "err.toml": {
        "ja": "{where}: TOML として読めません（{cause}）",
        "en": "{where}: not valid TOML: {cause}",
    },
    "err.zone": {
        "ja": "{where}: {setting}: 不明なタイムゾーン {name!r} "
        "('Asia/Tokyo' や 'UTC' などの名前を指定)",
        "en": "{where}: {setting}: unknown time zone {name!r} "
        "(use a name such as 'Asia/Tokyo' or 'UTC')",
    },
    "err.nan": {
        "ja": "{where}: {setting}: {value} は設定値に使えない数です",
        "en": "{where}: {setting}: {value} is not a usable number",
    },
    # plans (cockpit.plan)
    "err.no_plan": {
        "ja": "計画 {name!r} はありません (同梱: {shipped})。.yaml ファイルのパスも指定できます",
        "en": "plan {name!r}: no such plan (shipped: {shipped}); or give the path of a .yaml file",
    },
    "err.no_plan_file": {
        "ja": "{file}: 計画ファイルがありません",
        "en": "{file}: no such plan file",
    },
    "err.plan_is_dir": {
        "ja": "{file}: ディレクトリです。計画ファイルではありません",
        "en": "{file}: is a directory, not a plan file",
    },
    "err.plan_too_large": {
        "ja": "{file}: 計画ファイルとして大きすぎます ({most} バイト超)",
        "en": "{file}: too large for a plan file (over {most} bytes)",
    },
    "err.plan_empty": {
        "ja": "{file}: ファイルが空です (最上位に {keys} のマッピングが必要)",
        "en": "{file}: the file is empty (expected a mapping: {keys})",
    },
    "err.plan_top": {
        "ja": "{where}: 最上位はマッピング ({keys}) にしてください。{got} になっています",
        "en": "{where}: expected a mapping at the top level ({keys}), got {got}",
    },
    "err.yaml": {
        "ja": "{where}: YAML として読めません（{cause}）",
        "en": "{where}: not valid YAML: {cause}",
    },
    # the audit log's database and checkpoint (cockpit.store, cockpit.dbsetup, cockpit.checkpoint)
    "err.db_url": {
        "ja": "データベース URL {url}: データベースの URL ではありません（{cause}）: "
        "sqlite:///cockpit.db や postgresql+psycopg://user@host/db の形で指定",
        "en": "database URL {url}: not a database URL ({cause}); use one like "
        "sqlite:///cockpit.db or postgresql+psycopg://user@host/db",
    },
    "err.db_cannot_use": {
        "ja": "{url}: このデータベース URL は使えません（{cause}）",
        "en": "{url}: cannot use this database URL ({cause})",
    },
    "err.db_unavailable": {
        "ja": "{url}: データベースに接続できません（{cause}）",
        "en": "{url}: database unavailable ({cause})",
    },
    "err.no_log": {
        "ja": "{path}: 監査ログがありません ([database] url を確認)",
        "en": "{path}: no audit log here (check [database] url)",
    },
    "err.no_log_empty": {
        "ja": "{url}: 監査ログがありません (データベースが空です)",
        "en": "{url}: no audit log here (the database is empty)",
    },
    "err.schema_version": {
        "ja": "{url}: スキーマのバージョンを読めません（{cause}）",
        "en": "{url}: cannot read the schema version ({cause})",
    },
    "err.no_checkpoint": {
        "ja": "{path}: チェックポイントファイルがありません",
        "en": "{path}: no such checkpoint file",
    },
    "err.bad_checkpoint": {
        "ja": "{path}: 有効なチェックポイントではありません（{cause}）",
        "en": "{path}: not a valid checkpoint: {cause}",
    },
    "err.checkpoint_says": {
        "ja": "{path}: 有効なチェックポイントではありません: {why}",
        "en": "{path}: not a valid checkpoint: {why}",
    },
    "err.checkpoint_object": {"ja": "JSON オブジェクトではありません", "en": "not a JSON object"},
    "err.checkpoint_seq": {
        "ja": "seq は正の整数にしてください ({seq} になっています)",
        "en": "seq must be a positive integer, not {seq}",
    },
    "err.checkpoint_hash": {
        "ja": "hash は小文字の16進数64桁にしてください ({hash} になっています)",
        "en": "hash must be 64 lowercase hex digits, not {hash}",
    },
    "err.checkpoint_empty": {
        "ja": "{path}: チェックポイントファイルが空です",
        "en": "{path}: the checkpoint file is empty",
    },
    # the commands' own refusals (cockpit.cli)
    "err.cannot_create": {
        "ja": "{option} {value}: 作成できません（{cause}）",
        "en": "{option} {value}: cannot create it ({cause})",
    },
    "err.ack_reason": {
        "ja": "--reason に、見つけたことと追記を続けてよい理由を書いてください",
        "en": "--reason must say what was found and why appends may go on",
    },
    "err.ack_intact": {
        "ja": "監査チェーンは正常です: 承認すべき破損はありません",
        "en": "the audit chain is intact: there is no break to acknowledge",
    },
    "err.ack_seq": {
        "ja": "seq {seq} はチェーンの破損箇所ではありません: {finding}",
        "en": "seq {seq} is not where the chain breaks: {finding}",
    },
    "err.cancel_reason": {
        "ja": "cancel: --reason で理由を書いてください",
        "en": "cancel: say why with --reason",
    },
    "err.notes_ref": {
        "ja": "release notes: {option} {ref}: {repo} にそのコミットもタグもありません",
        "en": "release notes: {option} {ref}: no such commit or tag in {repo}",
    },
    "err.shared_role": {
        "ja": "--role: 共有ロールは NAME そのものが名前です。--role は外してください",
        "en": "--role: a shared role is named by NAME itself; leave out --role",
    },
    "err.note_empty": {"ja": "note: 本文が空です", "en": "note: the text is empty"},
    "err.not_notify": {
        "ja": "{item}: {kind} 項目です。通知項目ではありません",
        "en": "{item}: a {kind} item, not a notify item",
    },
    "err.no_tty_rollback": {
        "ja": "端末ではありません: 確認なしでロールバックするには --yes を指定",
        "en": "not a terminal: give --yes to roll back without asking",
    },
    "err.no_tty_tag": {
        "ja": "端末ではありません: 確認なしでタグを付けるには --yes を指定",
        "en": "not a terminal: add --yes to tag without a question",
    },
    "err.ttl": {
        "ja": "{value}: 秒数 (1 から 3600) を指定してください",
        "en": "{value}: give seconds, 1 to 3600",
    },
    "err.signs_all": {
        "ja": "{env} の決定はすべて署名が必要です: {why}",
        "en": "{env} signs every decision: {why}",
    },
    "err.watch_speed": {
        "ja": "metrics.watch_speed: 監視時計を速めるのはリハーサルだけです",
        "en": "metrics.watch_speed: a faster watch clock is for rehearsals only",
    },
    "err.window_week": {
        "ja": "change_window.week: {week} は 1 から 5 の間ではありません",
        "en": "change_window.week: {week} is not between 1 and 5",
    },
    "db.no_tables": {
        "ja": "ここに cockpit のテーブルがありません: 先に所有者で `cockpit db upgrade` を実行",
        "en": "no cockpit tables here: run `cockpit db upgrade` as the owner first",
    },
    "db.no_role": {
        "ja": "ロール {role}: そのデータベースロールはありません (`cockpit db roles` を参照)",
        "en": "role {role}: no such database role (see `cockpit db roles`)",
    },
    "err.mkdir": {
        "ja": "{path}: ディレクトリを作れません（{cause}）",
        "en": "{path}: cannot create the directory ({cause})",
    },
}
