"""Every config file is checked before anything runs; every problem is one line: file, key path, what was expected."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.lib.config import ConfigError
from pipelines.lib.config.validate import CONFIG_FILES, validate_config

ROOT = Path(__file__).resolve().parents[3]
CHANNELS = "email, sales_task, webinar_invite, audience_file"


@pytest.fixture
def config(tmp_path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(ROOT / "config", target)
    return target


def _edit(path: Path, old: str, new: str, occurrence: int = 1) -> None:
    """Replace the `occurrence`-th `old` in the file (the files are the shipped ones: keys appear several times)."""
    text = path.read_text(encoding="utf-8")
    start = -1
    for _ in range(occurrence):
        start = text.index(old, start + 1)
    path.write_text(text[:start] + new + text[start + len(old) :], encoding="utf-8")


def test_shipped_config_is_valid():
    check = validate_config(ROOT / "config")
    assert check.problems == []
    assert sorted(check.checked) == sorted(CONFIG_FILES)


def test_campaign_channel_typo_is_one_line_with_file_key_and_choices(config):
    _edit(config / "campaigns.yaml", "channel: email", "channel: emial", occurrence=2)  # the third campaign
    problems = validate_config(config).problems
    assert problems == [
        f"{config / 'campaigns.yaml'}: campaigns[2].channel: expected one of {CHANNELS}; got 'emial'"
    ]


def test_unknown_key_in_contact_rules_suggests_the_right_one(config):
    _edit(
        config / "contact_rules.yaml", "    channels: [email]\n    max: 3", "    chanels: [email]\n    max: 3"
    )
    problems = validate_config(config).problems
    assert problems == [
        f"{config / 'contact_rules.yaml'}: caps[0].chanels: unknown key; did you mean 'channels'?"
    ]


def test_wrong_type_names_the_value(config):
    _edit(config / "contact_rules.yaml", "max: 3", "max: three")
    (line,) = validate_config(config).problems
    assert line.startswith(f"{config / 'contact_rules.yaml'}: caps[0].max: expected a valid integer")
    assert line.endswith("got 'three'")


def test_several_problems_in_several_files_are_all_reported_one_line_each(config):
    _edit(config / "campaigns.yaml", "channel: email", "channel: emial")
    _edit(config / "contact_rules.yaml", "horizon_days: 7", "horizon_days: 0")
    (config / "delivery.yaml").unlink()
    problems = validate_config(config).problems
    assert len(problems) == 3
    assert all("\n" not in p for p in problems)
    assert any(p.startswith(f"{config / 'campaigns.yaml'}: campaigns[0].channel:") for p in problems)
    assert any(
        p.startswith(f"{config / 'contact_rules.yaml'}: horizon_days: expected greater") for p in problems
    )
    assert f"{config / 'delivery.yaml'}: file not found" in problems


# One typo per file: each file is parsed by the check, not only when its stage runs.
TYPOS = {
    "sources.yaml": ("default_time_zone: UTC", "default_time_zone: Mars/Olympus"),
    "identity.yaml": None,  # appended below: an unknown top-level key
    "survivorship.yaml": ("rule: source_priority", "rule: source_priorty"),
    "insight.yaml": ("moments:", "momentz:"),
    "campaigns.yaml": ("priority: 100", "priority: high"),
    "contact_rules.yaml": ("share: 0.10", "share: 1.5"),
    "delivery.yaml": ("batch_size", "batch_sise"),
}


@pytest.mark.parametrize("name", sorted(TYPOS))
def test_every_config_file_is_checked(config, name):
    path = config / name
    typo = TYPOS[name]
    if typo is None or typo[0] not in path.read_text(encoding="utf-8"):
        path.write_text(path.read_text(encoding="utf-8") + "\nnot_a_setting: 1\n", encoding="utf-8")
    else:
        _edit(path, *typo)
    problems = validate_config(config).problems
    assert problems, f"a typo in {name} passed the check"
    assert all(p.startswith(f"{path}: ") for p in problems), problems


def test_yaml_syntax_error_is_one_line_with_line_number(config):
    (config / "campaigns.yaml").write_text("campaigns:\n  - id: [broken\n")
    (line,) = validate_config(config).problems
    assert re.match(
        rf"{re.escape(str(config / 'campaigns.yaml'))}: line \d+, column \d+ is not valid YAML", line
    )


def test_campaign_moment_must_be_one_insight_defines(config):
    _edit(config / "campaigns.yaml", "moment: {moment: first_purchase", "moment: {moment: first_purchse")
    (line,) = validate_config(config).problems
    assert line.startswith(
        f"{config / 'campaigns.yaml'}: campaigns[0].trigger.moment.moment: expected one of "
    )
    assert "first_purchase" in line and line.endswith("got 'first_purchse'")


def test_delivery_template_for_unknown_campaign(config):
    _edit(config / "delivery.yaml", "  campaigns: {}", "  campaigns:\n    welcom: {subject: Hello}")
    assert validate_config(config).problems == [
        f"{config / 'delivery.yaml'}: templates.campaigns.welcom: unknown campaign 'welcom' (not in campaigns.yaml)"
    ]


def test_bad_audience_expression_is_reported(config):
    _edit(config / "campaigns.yaml", 'audience: "not coalesce(is_customer, false)"', 'audience: "is_custmer"')
    (line,) = validate_config(config).problems
    assert line.startswith(
        f"{config / 'campaigns.yaml'}: campaigns[2].audience (webinar_follow_up): unknown column"
    )


def test_raise_if_failed_carries_every_line(config):
    _edit(config / "campaigns.yaml", "channel: email", "channel: emial")
    with pytest.raises(ConfigError) as exc:
        validate_config(config).raise_if_failed()
    assert exc.value.lines == validate_config(config).problems


# ------------------------------------------------------------------ touchplan check-config


def test_check_config_ok_is_one_short_line(config, capsys):
    assert main(["check-config", "--config", str(config)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("config OK: 7 files in ")


def test_check_config_prints_the_lines_and_exits_1(config, capsys):
    _edit(config / "campaigns.yaml", "channel: email", "channel: emial", occurrence=2)
    _edit(config / "contact_rules.yaml", "max: 3", "max: three")
    assert main(["check-config", "--config", str(config)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        err[0]
        == f"error: {config / 'campaigns.yaml'}: campaigns[2].channel: expected one of {CHANNELS}; got 'emial'"
    )
    assert err[1].startswith(f"error: {config / 'contact_rules.yaml'}: caps[0].max: expected a valid integer")
    assert len(err) == 2


# ------------------------------------------------------------------ touchplan run fails before any step


def _exports_with_a_file(tmp_path: Path) -> Path:
    exports = tmp_path / "exports"
    (exports / "salesforce").mkdir(parents=True)
    (exports / "salesforce" / "Contact.csv").write_text("Id,Email\n0038d000FYoQKxuAYG,a@example.com\n")
    return exports


def test_run_with_a_config_typo_fails_before_any_step(config, tmp_path, capsys):
    _edit(
        config / "contact_rules.yaml", "    channels: [email]\n    max: 3", "    chanels: [email]\n    max: 3"
    )
    warehouse = tmp_path / "w.duckdb"
    started = time.monotonic()
    code = main(
        ["run", "--exports", str(_exports_with_a_file(tmp_path)), "--warehouse", str(warehouse),
         "--config", str(config), "--output", str(tmp_path / "out")]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1
    assert (
        err.strip()
        == f"error: {config / 'contact_rules.yaml'}: caps[0].chanels: unknown key; did you mean 'channels'?"
    )
    assert not warehouse.exists(), "a step ran: the warehouse was created"
    assert (
        time.monotonic() - started < 60
    )  # not a timing assertion: it fails in seconds, not after a 2-minute run


def test_run_with_an_empty_exports_folder_fails_at_once(tmp_path, capsys):
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / ".DS_Store").write_text("x")  # skipped, like every name starting with . or _
    warehouse = tmp_path / "w.duckdb"
    code = main(["run", "--exports", str(exports), "--warehouse", str(warehouse), "--output", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert len(err) == 1
    assert err[0].startswith(f"error: exports folder {exports} has no export files")
    assert "touchplan sample-data --out" in err[0]
    assert not warehouse.exists()


def test_campaign_subscription_group_must_be_an_asm_groups_name(config):
    """One vocabulary (issue #15): a campaign checking a group that delivery.yaml does not name would find no
    consent row for it."""
    _edit(config / "campaigns.yaml", "  - id: ", "  - subscription_group: marketting\n    id: ")
    (line,) = validate_config(config).problems
    assert line == (
        f"{config / 'campaigns.yaml'}: campaigns[0].subscription_group: expected one of marketing, newsletter, "
        "webinars (asm_groups of delivery.yaml); got 'marketting'"
    )


def test_asm_groups_names_and_ids_are_one_to_one(config):
    _edit(config / "delivery.yaml", "newsletter: 10002", "newsletter: 10001")
    (line,) = validate_config(config).problems
    assert "'marketing' and 'newsletter' both map to ASM group 10001" in line
    assert line.startswith(f"{config / 'delivery.yaml'}: asm_groups")
