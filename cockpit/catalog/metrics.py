"""Why a metrics panel has no value, in Japanese and English: a source's failure
(:mod:`cockpit.metrics.sources`, the sampler's deadline), shown on the panel and the Health
line; the log keeps the English."""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "msrc.panel": {"ja": "パネル {panel}: {why}", "en": "panel {panel}: {why}"},
    "msrc.none": {
        "ja": "{source} の取得元が設定されていません",
        "en": "no {source} source configured",
    },
    "msrc.late_round": {
        "ja": "{source}: {seconds} 秒以内に応答がありません "
        "(metrics.timeout_seconds + {margin} 秒)",
        "en": "{source}: no answer within {seconds} s (metrics.timeout_seconds + {margin} s)",
    },
    "msrc.still_running": {
        "ja": "{late}。前回の呼び出しがまだ続いています",
        "en": "{late}; the last call still runs",
    },
    "msrc.prom_no_url": {
        "ja": "prometheus: URL が設定されていません (cockpit.toml の metrics.prometheus_url)",
        "en": "prometheus: no URL set (metrics.prometheus_url in cockpit.toml)",
    },
    "msrc.prom_no_token": {
        "ja": "prometheus {url}: トークンの環境変数 {env} が設定されていません "
        "(cockpit.toml の metrics.token_env)",
        "en": "prometheus {url}: the token variable {env} is not set "
        "(metrics.token_env in cockpit.toml)",
    },
    "msrc.prom_late": {
        "ja": "prometheus {url}: {seconds} 秒以内に応答がありません (metrics.timeout_seconds)",
        "en": "prometheus {url}: no answer within {seconds} s (metrics.timeout_seconds)",
    },
    "msrc.prom_connect": {
        "ja": "prometheus {url}: 接続できません（{cause}） (metrics.prometheus_url)",
        "en": "prometheus {url}: cannot connect ({cause}) (metrics.prometheus_url)",
    },
    "msrc.prom_auth": {
        "ja": "prometheus {url}: HTTP {status} ({hint} を確認してください)",
        "en": "prometheus {url}: HTTP {status} (check {hint})",
    },
    "msrc.token_in": {"ja": "{env} のトークン", "en": "the token in {env}"},
    "msrc.prom_not_api": {
        "ja": "prometheus {url}: HTTP {status}。Prometheus API の応答ではありません",
        "en": "prometheus {url}: HTTP {status}, not a Prometheus API answer",
    },
    "msrc.query_refused": {
        "ja": "クエリが拒否されました: {error}",
        "en": "the query was refused: {error}",
    },
    "msrc.query_series": {
        "ja": "クエリの結果が {n} 系列あります。sum() か max() で囲んでください (metrics.panels)",
        "en": "the query gives {n} series; wrap it in sum() or max() (metrics.panels)",
    },
    "msrc.query_range": {
        "ja": "クエリの結果が範囲ベクトルです。rate() などを使ってください",
        "en": "the query gives a range vector; use rate() or similar",
    },
    "msrc.query_kind": {
        "ja": "クエリの結果が数値ではありません ({kind})",
        "en": "the query gives a {kind} result, not a number",
    },
    "msrc.query_gives": {"ja": "クエリの結果が {raw} です", "en": "the query gives {raw}"},
    "msrc.host_iface": {
        "ja": "host: ネットワークインターフェース {iface!r} がありません",
        "en": "host: no network interface {iface!r}",
    },
    "msrc.cw_namespace": {
        "ja": "パネル {panel}: CloudWatch の名前空間がありません (metrics.cloudwatch.namespace)",
        "en": "panel {panel}: no CloudWatch namespace (metrics.cloudwatch.namespace)",
    },
    "msrc.cw_no_points": {
        "ja": "パネル {panel}: 直近 {periods} 期間に {query} のデータポイントがありません",
        "en": "panel {panel}: no datapoints for {query} in the last {periods} periods",
    },
    "msrc.kube_query": {
        "ja": "パネル {panel}: kubernetes のクエリ {query!r} は {queries} のいずれでもありません",
        "en": "panel {panel}: kubernetes query {query!r} is not one of {queries}",
    },
}
