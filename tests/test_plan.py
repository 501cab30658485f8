"""Plans as data: the shipped checklists load and follow the seeds; a bad plan is one clear line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cockpit.plan import (
    ITEM_KINDS,
    PROBES,
    STEP_KINDS,
    CheckItem,
    GateItem,
    ManualItem,
    PlanError,
    StepItem,
    check_roles,
    list_plans,
    load_plan,
    plan_sha256,
    read_plan,
    validate_plan_file,
)
from cockpit.plan import (
    Probe as ProbeUnion,
)

REPO = Path(__file__).resolve().parent.parent
SHIPPED = ["hotfix", "migration", "release", "rollback"]


# --- the shipped plans -------------------------------------------------------------------------


def test_the_shipped_plans_are_listed() -> None:
    assert list_plans() == SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_plan_loads_and_validates(name: str) -> None:
    loaded = read_plan(name)
    assert loaded.plan.name == name
    assert loaded.source == f"checklists/{name}.yaml"
    assert loaded.sha256 == plan_sha256((REPO / "checklists" / f"{name}.yaml").read_bytes())
    # The same file through a path gives the same plan.
    assert validate_plan_file(REPO / "checklists" / f"{name}.yaml") == loaded.plan
    for phase, item in loaded.plan.items():
        assert phase.title_ja and phase.title_en
        assert item.title_ja and item.title_en
        assert item.kind in ITEM_KINDS
    check_roles(loaded, ["approver", "release_committee", "release_manager"])


def test_release_has_the_five_phases_of_the_seed_in_order() -> None:
    plan = load_plan("release")
    assert [(p.id, p.offset_days, p.title_ja) for p in plan.phases] == [
        ("t-14", -14, "リリース内容確定"),
        ("t-7", -7, "テスト完了"),
        ("t-3", -3, "リリース承認"),
        ("t-1", -1, "最終確認"),
        ("t-0", 0, "リリース実施"),
    ]
    titles = {item.title_ja for _, item in plan.items()}
    # The seed's checklists: requirements, technical, pre-deployment verification, documents.
    assert {
        "要件の充足確認",
        "テスト結果の確認",
        "ドキュメント更新",
        "依存関係の確認",
        "データベース変更の確認",
        "設定変更の確認",
        "コードレビュー完了",
        "セキュリティスキャン完了",
        "テスト完了",
        "カバレッジ90%以上",
        "静的解析クリア",
        "パフォーマンス基準達成",
        "リリースノート",
        "更新履歴",
        "技術文書",
        "関係者への通知",
    } <= titles
    gate = plan.item("t3.approval")
    assert isinstance(gate, GateItem) and gate.role == "approver" and gate.approvals >= 1


def test_release_t0_runs_in_the_seed_order() -> None:
    t0 = load_plan("release").phase("t-0")
    titles = [item.title_ja for item in t0.items]
    order = [
        "バックアップ取得",
        "メンテナンスモード切替",
        "コードデプロイ",
        "静的ファイルのアップロード",
        "CDNのキャッシュクリア",
        "データベース更新",
        "設定更新",
        "サービス再起動",
        "ログ確認",
        "メトリクス確認",
        "機能確認",
    ]
    assert [t for t in titles if t in order] == order
    assert titles[: len(order)] == order
    assert "24時間" in titles[-1]


KNOWN_KINDS = (
    "alembic, cloudfront_invalidation, ecs_update, http_checks, kubernetes, rds_snapshot, "
    "s3_sync, shell, tag"
)


def test_hotfix_needs_the_release_committee() -> None:
    plan = load_plan("hotfix")
    gates = [item for _, item in plan.items() if isinstance(item, GateItem)]
    assert [(g.title_ja, g.role) for g in gates] == [
        ("リリース委員会承認必須", "release_committee")
    ]
    criteria = [item.title_ja for item in plan.phase("criteria").items]
    assert criteria == ["重大なセキュリティ脆弱性", "システム障害", "法規制対応"]
    assert all(item.requires_reason for item in plan.phase("criteria").items)
    # The gate comes before anything is deployed.
    ids = [item.id for _, item in plan.items()]
    assert ids.index("approval.committee") < ids.index("t0.backup")


def test_migration_has_t30_to_t0_and_the_window_and_thresholds() -> None:
    plan = load_plan("migration")
    assert [(p.id, p.offset_days) for p in plan.phases] == [
        ("t-30", -30),
        ("t-21", -21),
        ("t-14", -14),
        ("t-7", -7),
        ("t-1", -1),
        ("t-0", 0),
    ]
    assert [p.title_ja for p in plan.phases] == [
        "移行計画の承認",
        "環境構築開始",
        "テスト環境移行",
        "本番相当環境移行",
        "最終確認",
        "本番移行",
    ]
    t0 = plan.phase("t-0")
    assert [(s.title_ja, s.start_hour, s.end_hour) for s in t0.stages] == [
        ("準備", 1, 2),
        ("データ移行", 2, 6),
        ("アプリケーション移行", 6, 8),
        ("検証", 8, 9),
    ]
    titles = {item.title_ja for _, item in plan.items()}
    assert {
        "CPU使用率（70%以下）",
        "メモリ使用率（80%以下）",
        "ディスクI/O（70%以下）",
        "ネットワークI/O（80%以下）",
        "レコード数",
        "データ整合性",
        "参照整合性",
    } <= titles
    validation = [i.stage for i in t0.items if i.id.endswith(("record_counts", "integrity"))]
    assert set(validation) == {"prep", "data"}
    assert plan.item("t0.referential_integrity").stage == "data"


def test_rollback_follows_the_seed() -> None:
    plan = load_plan("rollback")
    assert [i.title_ja for i in plan.phase("trigger").items] == [
        "重大な障害発生",
        "パフォーマンス劣化",
        "データ不整合",
    ]
    assert [i.title_ja for i in plan.phase("execution").items][:5] == [
        "サービス停止",
        "コードロールバック",
        "データベースロールバック",
        "設定ロールバック",
        "サービス再起動",
    ]
    assert "24時間" in plan.phase("watch").items[0].title_ja
    assert [i.title_ja for i in plan.phase("report").items] == [
        "ロールバック報告書",
        "原因分析",
        "再発防止策",
    ]


def test_item_kinds_and_registries() -> None:
    assert ITEM_KINDS == ("manual", "check", "gate", "step", "notify")
    assert sorted(PROBES) == [
        "alarms",
        "alembic",
        "backup",
        "command",
        "coverage",
        "credentials",
        "file_exists",
        "file_younger_than",
        "git_branch",
        "git_clean",
        "http",
        "kubernetes",
        "metric",
        "sql",
        "tls",
    ]
    assert len(PROBES) == len(ProbeUnion.__args__)
    assert list(STEP_KINDS) == [
        "shell",
        "tag",
        "kubernetes",
        "alembic",
        "rds_snapshot",
        "s3_sync",
        "cloudfront_invalidation",
        "ecs_update",
        "http_checks",
    ]
    item = load_plan("release").item("t1.git_clean")
    assert isinstance(item, CheckItem) and item.check.name == "git_clean"


def test_every_step_kind_of_the_schema_has_a_runner() -> None:
    # The run schema (cockpit.plan.runs) and the runners (cockpit.steps.base.KINDS) name the
    # same kinds; "tag" is run by cockpit.tagging, not by a step kind.
    from cockpit.steps.base import KINDS

    assert set(STEP_KINDS) == {*KINDS, "tag"}


def test_the_kinds_that_fill_runs_from_the_environment_are_the_ones_named() -> None:
    # cockpit.deploy.effective_run imports a runner only when its kind is in ENV_DEFAULTS: a
    # runner overriding StepKind.env_defaults must be named there.
    from cockpit.steps.base import ENV_DEFAULTS, KINDS, StepKind, kind_for

    overriding = {k for k in KINDS if type(kind_for(k)).env_defaults is not StepKind.env_defaults}
    assert overriding == ENV_DEFAULTS


def test_unknown_plan_name_lists_the_shipped_ones() -> None:
    with pytest.raises(PlanError) as err:
        load_plan("nosuch")
    assert str(err.value) == (
        "plan 'nosuch': no such plan (shipped: hotfix, migration, release, rollback); "
        "or give the path of a .yaml file"
    )


def test_shipped_plans_are_package_data(tmp_path: Path) -> None:
    """checklists/*.yaml is installed with the package (pyproject's package-data), so an
    installed cockpit has its plans. Built from a copy so the checkout is left alone."""
    import setuptools  # noqa: F401  (in every venv .ci/install makes; fail, never skip)

    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    for package in ("cockpit", "screens", "widgets", "checklists"):
        shutil.copytree(REPO / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path / "build"
    subprocess.run(
        [
            sys.executable,
            "-c",
            "from setuptools import setup; setup()",
            "-q",
            "build_py",
            "-d",
            out,
        ],
        cwd=src,
        capture_output=True,
        check=True,
    )
    shipped = sorted(p.name for p in (out / "checklists").glob("*.yaml"))
    assert shipped == [f"{name}.yaml" for name in SHIPPED]


def test_the_plan_module_is_light() -> None:
    code = "import sys, cockpit.plan; print('\\n'.join(sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    ).stdout.split()
    loaded = {name.split(".")[0] for name in out}
    assert not loaded & {"textual", "sqlalchemy", "boto3", "kubernetes", "alembic", "git"}


# --- a plan of one's own -----------------------------------------------------------------------

GOOD = """\
schema_version: 1
name: myplan
title_ja: テスト計画
title_en: Test plan
phases:
  - id: t-7
    offset_days: -7
    title_ja: テスト完了
    title_en: Testing complete
    items:
      - id: t7.review
        kind: manual
        title_ja: コードレビュー完了
        title_en: Code review complete
      - id: t7.clean
        kind: check
        title_ja: 作業ツリーの確認
        title_en: Working tree is clean
        check:
          probe: git_clean
  - id: t-0
    offset_days: 0
    title_ja: リリース実施
    title_en: Release
    items:
      - id: t0.approval
        kind: gate
        title_ja: リリース承認
        title_en: Release approved
        role: approver
        approvals: 1
      - id: t0.deploy
        kind: step
        title_ja: コードデプロイ
        title_en: Deploy the code
        run:
          kind: shell
          argv: [make, deploy]
          timeout: 600
"""


def _replace(old: str, new: str, text: str = GOOD) -> str:
    assert old in text, old
    return text.replace(old, new)


def _write(tmp_path: Path, text: str, name: str = "myplan.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_plan_of_ones_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = _write(tmp_path, GOOD)
    plan = load_plan(str(path))
    assert plan == validate_plan_file(path) == load_plan("./myplan.yaml")
    kinds = [type(item) for _, item in plan.items()]
    assert kinds == [ManualItem, CheckItem, GateItem, StepItem]
    step = plan.item("t0.deploy")
    assert isinstance(step, StepItem)
    assert step.run.kind == "shell" and step.run.argv == ["make", "deploy"]
    assert step.run.timeout == 600.0


def test_the_plan_hash_follows_the_bytes(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD)
    first = read_plan(path).sha256
    assert first == plan_sha256(GOOD.encode()) and len(first) == 64
    assert read_plan(path).sha256 == first
    # Even a change that leaves the plan the same (a comment) voids what was approved.
    _write(tmp_path, GOOD + "# reviewed\n")
    second = read_plan(path)
    assert second.sha256 != first
    assert second.plan == load_plan(path)
    _write(tmp_path, _replace("approvals: 1", "approvals: 2"))
    assert read_plan(path).sha256 not in {first, second.sha256}


BAD_PLANS = [
    (
        "unknown key",
        _replace(
            "        title_en: Code review complete\n",
            "        title_en: Code review complete\n        colour: red\n",
        ),
        "myplan.yaml:15: item t7.review: colour: unknown key (allowed: kind, id, title_ja, "
        "title_en, help_ja, help_en, requires_reason, stage)",
    ),
    (
        "unknown top-level key",
        "colour: red\n" + GOOD,
        "myplan.yaml:1: colour: unknown key (allowed: schema_version, name, title_ja, title_en, "
        "help_ja, help_en, phases)",
    ),
    (
        "wrong type",
        _replace("offset_days: -7", "offset_days: '-7'"),
        "myplan.yaml:7: phase t-7: offset_days: expected an integer",
    ),
    (
        "wrong type (YAML boolean)",
        _replace("title_en: Release\n", "title_en: yes\n"),
        "myplan.yaml:24: phase t-0: title_en: expected a string",
    ),
    (
        "unknown kind",
        _replace("kind: manual", "kind: task"),
        "myplan.yaml:12: item t7.review: kind: expected one of manual, check, gate, step, notify "
        "(got 'task')",
    ),
    (
        "unknown kind, item without an id",
        _replace("      - id: t7.review\n        kind: manual", "      - kind: task"),
        "myplan.yaml:11: phases[0].items[0].kind: expected one of manual, check, gate, step, "
        "notify (got 'task')",
    ),
    (
        "missing kind",
        _replace("        kind: manual\n", ""),
        "myplan.yaml:11: item t7.review: kind: missing; expected one of manual, check, gate, "
        "step, notify",
    ),
    (
        "unknown check",
        _replace("probe: git_clean", "probe: pip_audit"),
        "myplan.yaml:20: item t7.clean: check.probe: unknown check 'pip_audit' (known: alarms, "
        "alembic, backup, command, coverage, credentials, file_exists, file_younger_than, "
        "git_branch, git_clean, http, kubernetes, metric, sql, tls)",
    ),
    (
        "bad check argument",
        _replace("probe: git_clean", "probe: http\n          url: localhost:8080"),
        "myplan.yaml:21: item t7.clean: check.url: 'localhost:8080' has the wrong form "
        "(an http:// or https:// URL)",
    ),
    (
        "unknown check argument",
        _replace(
            "probe: git_clean", "probe: file_younger_than\n          path: a\n          days: 1"
        ),
        "myplan.yaml:22: item t7.clean: check.days: unknown key (allowed: probe, path, hours, "
        "timeout)",
    ),
    (
        "unknown step kind",
        _replace("kind: shell", "kind: helm"),
        "myplan.yaml:37: item t0.deploy: run.kind: unknown step kind 'helm' "
        f"(known: {KNOWN_KINDS})",
    ),
    (
        "duplicate item id",
        _replace("id: t0.deploy", "id: t7.review"),
        "myplan.yaml:32: item t7.review: id: duplicate item id 't7.review' "
        "(also phases[0].items[0], line 11)",
    ),
    (
        "duplicate phase id",
        _replace("id: t-0", "id: t-7"),
        "myplan.yaml:21: phase t-7: id: duplicate phase id 't-7' (also phases[0], line 6)",
    ),
    (
        "phases out of order",
        _replace(
            "offset_days: -7", "offset_days: -1", _replace("offset_days: 0", "offset_days: -3")
        ),
        "myplan.yaml:22: phase t-0: offset_days: -3 comes after -1 (phase t-7); list the phases "
        "from the earliest to T-0",
    ),
    (
        "last phase not T-0",
        _replace("offset_days: 0", "offset_days: -1"),
        "myplan.yaml:22: phase t-0: offset_days: the last phase must be T-0 (offset_days: 0), "
        "got -1",
    ),
    (
        "offset after T-0",
        _replace("offset_days: 0", "offset_days: 1"),
        "myplan.yaml:22: phase t-0: offset_days: expected an integer <= 0",
    ),
    (
        "empty argv",
        _replace("argv: [make, deploy]", "argv: []"),
        "myplan.yaml:38: item t0.deploy: run.argv: needs at least the program name (an argv list)",
    ),
    (
        "argv as one shell string",
        _replace("argv: [make, deploy]", "argv: ['make deploy']"),
        "myplan.yaml:38: item t0.deploy: run.argv: 'make deploy' looks like a whole command line; "
        "write each word as its own list entry: [make, deploy]",
    ),
    (
        "zero approvals",
        _replace("approvals: 1", "approvals: 0"),
        "myplan.yaml:31: item t0.approval: approvals: expected an integer >= 1",
    ),
    (
        "zero timeout",
        _replace("timeout: 600", "timeout: 0"),
        "myplan.yaml:39: item t0.deploy: run.timeout: expected a number > 0",
    ),
    (
        "missing title_ja",
        _replace("        title_ja: リリース承認\n", ""),
        "myplan.yaml:26: item t0.approval: title_ja: missing (required)",
    ),
    (
        "blank title",
        _replace("title_en: Release\n", "title_en: ' '\n"),
        "myplan.yaml:24: phase t-0: title_en: must not be blank",
    ),
    (
        "bad item id",
        _replace("id: t7.review", "id: T7.Review"),
        "myplan.yaml:11: phases[0].items[0].id: 'T7.Review' has the wrong form (lowercase "
        "letters, digits, '-' and '_', words joined by dots, starting with a letter, "
        "e.g. t14.requirements)",
    ),
    (
        "bad role name",
        _replace("role: approver", "role: Approver"),
        "myplan.yaml:30: item t0.approval: role: 'Approver' has the wrong form (a role name from "
        "[roles] in cockpit.toml, e.g. approver)",
    ),
    (
        "phase without items",
        GOOD.split("    items:\n      - id: t0.approval")[0] + "    items: []\n",
        "myplan.yaml:21: phase t-0: a phase needs at least one item",
    ),
    (
        "plan without phases",
        GOOD.split("phases:")[0],
        "myplan.yaml:1: phases: a plan needs at least one phase",
    ),
    (
        "name does not match the file",
        _replace("name: myplan", "name: other"),
        "myplan.yaml:2: name: 'other' does not match the file name (name the file other.yaml, "
        "or set name: myplan)",
    ),
    (
        "unsupported schema version",
        _replace("schema_version: 1", "schema_version: 2"),
        "myplan.yaml:1: schema_version: 2 is not supported (this cockpit reads 1)",
    ),
    (
        "duplicate YAML key",
        _replace(
            "        title_en: Release approved\n",
            "        title_en: Release approved\n        title_en: Again\n",
        ),
        "myplan.yaml:30: key 'title_en' appears twice in the same mapping (first at line 29)",
    ),
    (
        "not YAML",
        _replace("argv: [make, deploy]", "argv: [make, deploy"),
        "myplan.yaml:39: not valid YAML: did not find expected ',' or ']' "
        "(while parsing a flow sequence at line 38)",
    ),
    (
        "not a mapping",
        "- just\n- a list\n",
        "myplan.yaml:1: expected a mapping at the top level (schema_version, name, title_ja, "
        "title_en, phases), got a list",
    ),
    (
        "empty file",
        "",
        "myplan.yaml: the file is empty (expected a mapping: schema_version, name, title_ja, "
        "title_en, phases)",
    ),
    (
        "step without run",
        _replace(
            "        run:\n          kind: shell\n          argv: [make, deploy]\n", ""
        ).replace("          timeout: 600\n", ""),
        "myplan.yaml:32: item t0.deploy: run: missing; expected a mapping with kind: (one of "
        f"{KNOWN_KINDS}) and its arguments",
    ),
    (
        "key that is not a string",
        _replace("  - id: t-0\n", "  - id: t-0\n    2: y\n"),
        "myplan.yaml:21: phase t-0: every key must be a string (quote the key)",
    ),
    (
        "item not a mapping",
        _replace("      - id: t7.review\n", "      - 3\n      - id: t7.review\n"),
        "myplan.yaml:11: phases[0].items[0]: expected a mapping",
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"), [case[1:] for case in BAD_PLANS], ids=[case[0] for case in BAD_PLANS]
)
def test_a_bad_plan_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, expected: str
) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, text)
    with pytest.raises(PlanError) as err:
        validate_plan_file("myplan.yaml")
    assert str(err.value) == expected
    assert "\n" not in str(err.value)
    assert err.value.exit_code == 2


STAGED = _replace(
    "    items:\n      - id: t0.approval",
    "    stages:\n"
    "      - {id: prep, title_ja: 準備, title_en: Preparation, start_hour: 1, end_hour: 2}\n"
    "      - {id: data, title_ja: データ移行, title_en: Data migration, start_hour: 2, "
    "end_hour: 6}\n"
    "    items:\n"
    "      - id: t0.approval\n"
    "        stage: prep",
    _replace("        kind: step\n", "        kind: step\n        stage: data\n"),
)


def test_stages_are_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, STAGED)
    phase = validate_plan_file("myplan.yaml").phase("t-0")
    assert [(s.id, s.start_hour, s.end_hour) for s in phase.stages] == [
        ("prep", 1, 2),
        ("data", 2, 6),
    ]
    assert [i.stage for i in phase.items] == ["prep", "data"]
    for text, expected in [
        (
            _replace("stage: data", "stage: verify", STAGED),
            "myplan.yaml:38: item t0.deploy: stage: unknown stage 'verify' (known: prep, data)",
        ),
        (
            STAGED.replace("stage: prep", "stage: x")
            .replace("stage: data", "stage: prep")
            .replace("stage: x", "stage: data"),
            "myplan.yaml:38: item t0.deploy: stage: stage 'prep' comes after a later stage; keep "
            "each stage's items together, in the order of the stages",
        ),
        (
            _replace("start_hour: 2", "start_hour: 1", STAGED),
            "myplan.yaml:27: phase t-0: stages[1].start_hour: 1 is before the end of stage "
            "'prep' (2); list the stages in time order without overlap",
        ),
        (
            _replace("end_hour: 2}", "end_hour: 1}", STAGED),
            "myplan.yaml:26: phase t-0: stages[0].end_hour: 1 is not after start_hour 1 (a stage "
            "past midnight ends at 24 + the hour)",
        ),
    ]:
        _write(tmp_path, text)
        with pytest.raises(PlanError) as err:
            validate_plan_file("myplan.yaml")
        assert str(err.value) == expected


def test_gate_roles_are_checked_against_the_config(tmp_path: Path) -> None:
    loaded = read_plan("hotfix")
    check_roles(loaded, ["approver", "release_committee"])
    with pytest.raises(PlanError) as err:
        check_roles(loaded, ["approver"])
    line = next(
        n
        for n, text in enumerate(loaded.data.decode().splitlines(), 1)
        if "role: release_committee" in text
    )
    assert str(err.value) == (
        f"checklists/hotfix.yaml:{line}: item approval.committee: role: role 'release_committee' "
        "is not in [roles] of cockpit.toml (known: approver)"
    )


def test_file_problems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PlanError, match=r"^nosuch\.yaml: no such plan file$"):
        load_plan("nosuch.yaml")
    (tmp_path / "myplan.yaml").write_bytes(b"name: \xff\n")
    with pytest.raises(PlanError, match=r"^myplan\.yaml: not UTF-8 text \(byte 6\)$"):
        validate_plan_file("myplan.yaml")
    (tmp_path / "dir.yaml").mkdir()
    with pytest.raises(PlanError, match=r"^dir\.yaml: is a directory, not a plan file$"):
        validate_plan_file("dir.yaml")


def test_an_alias_bomb_is_refused_quickly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 9)]
    _write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(PlanError, match=r"^myplan\.yaml:6: too many values for a plan"):
        validate_plan_file("myplan.yaml")


# ------------------------------------------------------------ frozen data of the shipped plans


@pytest.mark.parametrize("name", list_plans())
def test_each_shipped_plan_is_frozen_from_its_current_yaml(name: str) -> None:
    from importlib import resources

    from cockpit.plan.frozen import frozen_bytes

    folder = resources.files("checklists")
    yaml_bytes = folder.joinpath(f"{name}.yaml").read_bytes()
    assert folder.joinpath(f"{name}.json").read_bytes() == frozen_bytes(yaml_bytes), (
        f"checklists/{name}.json is stale: run `python -m cockpit.plan.frozen`"
    )


@pytest.mark.parametrize("name", list_plans())
def test_a_shipped_plan_read_from_its_frozen_data_equals_its_parse(name: str) -> None:
    from importlib import resources

    from cockpit.plan.loader import parse_plan_bytes

    data = resources.files("checklists").joinpath(f"{name}.yaml").read_bytes()
    parsed = parse_plan_bytes(data, "parsed.yaml", expected_name=name)
    shipped = read_plan(name)
    assert shipped.plan == parsed.plan and shipped.sha256 == parsed.sha256 == plan_sha256(data)


def test_frozen_data_is_used_only_for_the_bytes_it_was_made_from(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from importlib import resources

    from cockpit.plan import frozen, loader

    data = resources.files("checklists").joinpath("release.yaml").read_bytes()
    assert frozen.read_frozen("release", data) is not None
    # One byte more (a plan edited in place): its YAML is read.
    assert frozen.read_frozen("release", data + b"\n") is None
    # Frozen data that would not validate is said again from the YAML: the plan as parsed.
    monkeypatch.setattr(frozen, "read_frozen", lambda _name, _data: {"name": "tampered"})
    loader._parse_plan_cached.cache_clear()
    try:
        assert read_plan("release").plan == loader.parse_plan_bytes(data, "x", "release").plan
    finally:
        loader._parse_plan_cached.cache_clear()


def test_reading_a_shipped_plan_does_not_import_pyyaml() -> None:
    code = (
        "import sys\nfrom cockpit.plan import read_plan\nread_plan('release')\n"
        "print('yaml' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_yaml_that_json_would_change_is_not_frozen() -> None:
    from cockpit.plan.frozen import frozen_bytes

    assert frozen_bytes(b"name: x\nwhen: 2026-12-16\n") is None  # a YAML date
    assert frozen_bytes(b"name: x\n1: one\n") is None  # an integer key
    assert frozen_bytes(b"name: x\nn: 1\n") is not None
