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
    # cockpit.toml and plans: what msgspec found wrong (cockpit.schema_errors)
    "schema.line": {"ja": "{where}: {setting}: {problem}", "en": "{where}: {setting}: {problem}"},
    "schema.key_str": {
        "ja": "キーはすべて文字列にしてください (キーを引用符で囲む)",
        "en": "every key must be a string (quote the key)",
    },
    "schema.unknown": {"ja": "不明なキー", "en": "unknown key"},
    "schema.unknown_allowed": {
        "ja": "不明なキー (使えるキー: {allowed})",
        "en": "unknown key (allowed: {allowed})",
    },
    "schema.missing": {"ja": "ありません (必須)", "en": "missing (required)"},
    "schema.expected": {"ja": "{want}{rest} を指定してください", "en": "expected {want}{rest}"},
    "schema.wrong_form": {"ja": "形式が違います{hint}", "en": "has the wrong form{hint}"},
    "schema.not_allowed": {
        "ja": "{value} は指定できません{hint}",
        "en": "{value} is not allowed{hint}",
    },
    "schema.use_one": {"ja": " (選択肢: {choices})", "en": " (use one of: {choices})"},
    "schema.type.str": {"ja": "文字列", "en": "a string"},
    "schema.type.int": {"ja": "整数", "en": "an integer"},
    "schema.type.float": {"ja": "数値", "en": "a number"},
    "schema.type.bool": {"ja": "true か false", "en": "true or false"},
    "schema.type.array": {"ja": "リスト", "en": "a list"},
    "schema.type.null": {"ja": "値なし", "en": "nothing"},
    "schema.type.table": {"ja": "テーブル", "en": "a table"},
    "schema.type.mapping": {"ja": "マッピング", "en": "a mapping"},
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
    # cockpit.toml's rules a type cannot express (cockpit.config.rules)
    "cfg.empty_window": {"ja": "作業枠を空にはできません", "en": "the window cannot be empty"},
    "cfg.sign_all": {
        "ja": "identity.allowed_signers (署名を照合する鍵) が必要です",
        "en": "needs identity.allowed_signers (the keys signatures are checked against)",
    },
    "cfg.watch_speed": {
        "ja": "監視の時計を速めるのはリハーサル環境 (rehearsal = true) だけです",
        "en": "a faster watch clock is for rehearsal environments only (rehearsal = true)",
    },
    "cfg.warning": {
        "ja": "{warning} が {kind}_critical ({critical}) を超えています",
        "en": "{warning} is above {kind}_critical ({critical})",
    },
    "cfg.stale": {
        "ja": "no_data_after_seconds ({most}) より小さくしてください",
        "en": "must be below no_data_after_seconds ({most})",
    },
    "cfg.two_panels": {
        "ja": "{name!r} という名前のパネルが2つあります",
        "en": "two panels named {name!r}",
    },
    "cfg.argv": {
        "ja": "少なくともプログラム名が必要です (argv のリスト)",
        "en": "needs at least the program name (an argv list)",
    },
    "cfg.branches": {
        "ja": "ここからリリースしてよいブランチのパターンを1つ以上書いてください",
        "en": "list at least one branch pattern that may be released here",
    },
    "cfg.tag_format": {"ja": "{field} を含めてください", "en": "must contain {field}"},
    "cfg.date": {
        "ja": "{value!r} は日付ではありません (2026-12-28 や 2026-12-28T01:00 の形で指定)",
        "en": "{value!r} is not a date (use 2026-12-28 or 2026-12-28T01:00)",
    },
    "cfg.after": {
        "ja": "start ({start}) より後にしてください",
        "en": "must be after start ({start})",
    },
    "err.not_git": {
        "ja": "{path}: git リポジトリではありません",
        "en": "{path}: not a git repository",
    },
    # more of cockpit.toml, plans, the tag step and the log itself
    "cfg.no_file": {
        "ja": "{where}: {setting}: ファイル {path} がありません",
        "en": "{where}: {setting}: no such file {path}",
    },
    "cfg.name": {
        "ja": "{where}: {setting}: 名前は英小文字・数字・'-'・'_' で、英字で始めてください",
        "en": "{where}: {setting}: names are lowercase letters, digits, '-' and '_', "
        "starting with a letter",
    },
    "cfg.item_id": {
        "ja": '{where}: {setting}: 計画の項目 ID ではありません (例: "t0.deploy")',
        "en": '{where}: {setting}: not a plan item id (e.g. "t0.deploy")',
    },
    "cfg.kind": {
        "ja": "{where}: {setting}: {kind!r} は{what}ではありません (選択肢: {choices})",
        "en": "{where}: {setting}: {kind!r} is not {what} (use one of: {choices})",
    },
    "cfg.what_step": {"ja": "ステップの種類", "en": "a step kind"},
    "cfg.what_probe": {"ja": "プローブ", "en": "a probe"},
    "plan.twice": {
        "ja": "{where}: キー {name!r} が同じマッピングに2回あります (最初は {first} 行目)",
        "en": "{where}: key {name!r} appears twice in the same mapping (first at line {first})",
    },
    "plan.too_many": {
        "ja": "{where}: 計画としては値が多すぎます (エイリアスの展開で {most} 超)",
        "en": "{where}: too many values for a plan (aliases expand to over {most})",
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
        "ja": "{path}: ディレクトリを作れません ({cause})",
        "en": "{path}: cannot create the directory ({cause})",
    },
    "url.refused": {"ja": "{where}: {why}", "en": "{where}: {why}"},
    "url.holds": {
        "ja": "{what}が含まれています。削除して、{advice}",
        "en": "holds {what}; remove it and {advice}",
    },
    "url.holds_remove": {
        "ja": "{what}が含まれています。{advice}",
        "en": "holds {what}; {advice}",
    },
    "url.a_password": {"ja": "パスワード", "en": "a password"},
    "url.a_param": {"ja": "クエリパラメータ {name}", "en": "the query parameter {name}"},
    "url.put_database_password": {
        "ja": "代わりに環境変数 COCKPIT_DATABASE_PASSWORD を設定してください "
        "(または ~/.pgpass にパスワードを置く)",
        "en": "set COCKPIT_DATABASE_PASSWORD in the environment instead (or put the password "
        "in ~/.pgpass)",
    },
    "url.put_variable": {
        "ja": "パスワードはこの変数のユーザー部分 (postgresql+psycopg://USER:PASSWORD@HOST/DB)、"
        "COCKPIT_DATABASE_PASSWORD または ~/.pgpass に置いてください",
        "en": "put the password in the user part of this variable (postgresql+psycopg://USER:"
        "PASSWORD@HOST/DB), in COCKPIT_DATABASE_PASSWORD or in ~/.pgpass",
    },
    "url.put_url_env": {
        "ja": "変数に入れて、その名前を url_env に書いてください",
        "en": "put it in a variable and name that in url_env",
    },
    "url.put_alembic": {
        "ja": "パスワード付きの URL は alembic.database_url_env が指す変数に、"
        "またはパスワードを ~/.pgpass に置いてください",
        "en": "put the URL with its password in the variable named by alembic.database_url_env, "
        "or the password in ~/.pgpass",
    },
    "url.put_alembic_step": {
        "ja": "パスワードは URL のユーザー部分か ~/.pgpass に置いてください",
        "en": "put the password in the user part of the URL or in ~/.pgpass",
    },
    "url.remove_git": {
        "ja": "削除してください (認証情報は git に探させます: SSH 鍵か git の credential helper)",
        "en": "remove it (let git find the credential: an SSH key or git's credential helper)",
    },
    "url.remove_prometheus": {
        "ja": "削除してください (トークンは token_env が指す変数から読みます: そこに置く)",
        "en": "remove it (tokens come from the variable named by token_env: put the token there)",
    },
    "url.remove_aws": {
        "ja": "削除してください (AWS の認証情報は aws.profile のプロファイルか環境から読みます)",
        "en": "remove it (AWS credentials come from the profile in aws.profile or the environment)",
    },
    "url.remove_check": {
        "ja": "削除してください (HTTP チェックは認証情報を送りません: "
        "ヘルス URL など認証の要らないエンドポイントを確認)",
        "en": "remove it (HTTP checks send no credentials: check an endpoint that needs none, "
        "such as a health URL)",
    },
}
