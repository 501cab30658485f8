"""The words of a bad ``cockpit.toml`` or plan file, in Japanese and English: what the schema
check found wrong (:mod:`cockpit.schema_errors`), the config's and the plans' rules a type
cannot express, and a URL refused for the credential it holds (:func:`cockpit.urls.refusal`).
The file, line and key come first, from the caller; :mod:`cockpit.catalog.errors` has the
words of every other bad input."""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
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
    # a URL refused for the credential it holds (cockpit.urls.refusal)
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
