"""Check every config file before anything runs: `touchplan check-config`, `touchplan run`, the Dagster job and the
code location's load all call `validate_config`, so a typo costs seconds instead of a 2-minute run.

Each file is parsed by the same loader the stage uses (so the check cannot drift from what the stage accepts),
then the references between files are checked. Every problem is one line: file, key path, what was expected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.lib.config_loader import ConfigError, display_path

# The files of a config folder, in the order of the pipeline; optional ones fall back to defaults when absent.
CONFIG_FILES: dict[str, bool] = {
    "sources.yaml": False,
    "identity.yaml": False,
    "survivorship.yaml": False,
    "insight.yaml": True,
    "campaigns.yaml": True,
    "contact_rules.yaml": True,
    "delivery.yaml": True,
}


@dataclass
class ConfigCheck:
    config_dir: Path
    checked: list[str] = field(default_factory=list)  # file names found and parsed
    problems: list[str] = field(default_factory=list)  # one line each

    @property
    def ok(self) -> bool:
        return not self.problems

    def raise_if_failed(self) -> None:
        if self.problems:
            raise ConfigError(self.problems)

    def summary(self) -> str:
        return f"config OK: {len(self.checked)} files in {display_path(self.config_dir)} ({', '.join(self.checked)})"


def _loaders() -> dict[str, Callable[[Path], Any]]:
    # Imported here: each stage's config module pulls in its own dependencies (sqlglot, email-validator...).
    from pipelines.lib.config.survivorship import load_survivorship
    from pipelines.lib.delivery.config import load_delivery_config
    from pipelines.lib.identity.config import load_identity_config
    from pipelines.lib.ingest.sources import load_sources_config
    from pipelines.lib.insight.config import load_insight_settings
    from pipelines.lib.planning.config import load_campaigns, load_contact_rules

    return {
        "sources.yaml": lambda d: load_sources_config(d)[0],
        "identity.yaml": load_identity_config,
        "survivorship.yaml": load_survivorship,
        "insight.yaml": load_insight_settings,
        "campaigns.yaml": lambda d: load_campaigns(d / "campaigns.yaml"),
        "contact_rules.yaml": lambda d: load_contact_rules(d / "contact_rules.yaml"),
        "delivery.yaml": load_delivery_config,
    }


def validate_config(config_dir: Path, *, require_all: bool = True) -> ConfigCheck:
    """Parse every config file of `config_dir` and check their cross-references; never raises for bad config.

    `require_all=False` (a Dagster run, which may materialize only some stages): a missing file is left to the
    stage that needs it; the files present are still checked in full."""
    config_dir = Path(config_dir)
    check = ConfigCheck(config_dir)
    if not config_dir.is_dir():
        check.problems.append(f"{display_path(config_dir)}: config folder not found")
        return check
    parsed: dict[str, Any] = {}
    for name, loader in _loaders().items():
        if not (config_dir / name).exists():
            if CONFIG_FILES[name] and require_all:
                check.problems.append(f"{display_path(config_dir / name)}: file not found")
            continue
        try:
            parsed[name] = loader(config_dir)
        except ConfigError as exc:
            check.problems.extend(exc.lines)
            continue
        check.checked.append(name)
    check.problems.extend(_cross_file_problems(config_dir, parsed))
    return check


def _cross_file_problems(config_dir: Path, parsed: dict[str, Any]) -> list[str]:
    """References between files (and limits the stages enforce only when they run)."""
    problems: list[str] = []
    campaigns = parsed.get("campaigns.yaml")
    rules = parsed.get("contact_rules.yaml")
    campaigns_file = display_path(config_dir / "campaigns.yaml")
    if campaigns is not None and rules is not None:
        from pipelines.lib.planning.config import load_strategy

        try:  # exempt campaigns must exist; audience expressions must compile
            load_strategy(config_dir)
        except ConfigError as exc:
            problems.extend(exc.lines)
    if rules is not None:
        from pipelines.lib.planning.arbitration import MAX_CAPS

        if len(rules.caps) > MAX_CAPS:
            problems.append(
                f"{display_path(config_dir / 'contact_rules.yaml')}: caps: expected at most {MAX_CAPS} "
                f"frequency caps; got {len(rules.caps)}"
            )
    insight = parsed.get("insight.yaml")
    if campaigns is not None and insight is not None:
        moments = sorted(type(insight.moments).model_fields)
        for i, campaign in enumerate(campaigns.campaigns):
            moment = campaign.trigger.moment
            if moment is not None and moment.moment not in moments:
                problems.append(
                    f"{campaigns_file}: campaigns[{i}].trigger.moment.moment: expected one of "
                    f"{', '.join(moments)} (the moments of insight.yaml); got {moment.moment!r}"
                )
    delivery = parsed.get("delivery.yaml")
    if campaigns is not None and delivery is not None:
        known = set(campaigns.by_id())
        for campaign_id in delivery.templates.campaigns:
            if campaign_id not in known:
                problems.append(
                    f"{display_path(config_dir / 'delivery.yaml')}: templates.campaigns.{campaign_id}: "
                    f"unknown campaign {campaign_id!r} (not in campaigns.yaml)"
                )
        # one vocabulary of subscription groups: what a campaign checks in customer_consent is an asm_groups name
        groups = set(delivery.asm_groups)
        if groups:
            for i, campaign in enumerate(campaigns.campaigns):
                if campaign.subscription_group not in groups:
                    problems.append(
                        f"{campaigns_file}: campaigns[{i}].subscription_group: expected one of "
                        f"{', '.join(sorted(groups))} (asm_groups of delivery.yaml); got {campaign.subscription_group!r}"
                    )
            for campaign_id, template in delivery.templates.campaigns.items():
                if template.subscription_group is not None and template.subscription_group not in groups:
                    problems.append(
                        f"{display_path(config_dir / 'delivery.yaml')}: templates.campaigns.{campaign_id}."
                        f"subscription_group: expected one of {', '.join(sorted(groups))} (asm_groups); "
                        f"got {template.subscription_group!r}"
                    )
    return problems
