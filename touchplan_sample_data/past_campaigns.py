"""Past campaigns with a holdout and a known true effect, so a demo run shows real uplift (issue #16).

Each simulated campaign is one send of a campaign in config/campaigns.yaml to an audience of HubSpot marketing
contacts, some held out (a global holdout shared by every campaign, plus the campaign's own), and reaches the
warehouse the way a real user's past campaigns do:

- the sends: SendGrid webhook events (`sendgrid/past_campaigns.json`) carrying `campaign_id` and
  `touchplan_send_id` in custom_args, as Touchplan's own sends come back;
- who was eligible and who was held out, with the planned slot: `_history/contact_decisions.csv`, keyed by
  email (customer ids only exist after identity resolution); measurement loads it beside Touchplan's own
  contact_decisions;
- the conversions: HubSpot deals (won) of the converted contacts, within the objective's attribution window.

A customer converts with probability `control_rate` when held out and `control_rate + true_effect` when sent;
`_truth/campaign_effects.csv` states each campaign's true effect and the realised counts,
`_truth/campaign_assignments.csv` the group and conversion of every eligible person.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

GLOBAL_HOLDOUT_SHARE = 0.10


@dataclass(frozen=True)
class PastCampaign:
    campaign_id: str
    objective: str
    audience: tuple[str, ...]  # buyer profiles (crm.PROFILES names, "none": never bought)
    days_before_as_of: int  # the send (and the held-out slot) this many days before as-of, 10:00 UTC
    window_days: int  # the objective's attribution window (config/measurement.yaml)
    control_rate: float
    true_effect: float  # absolute: treated conversion probability minus the control's
    campaign_holdout_share: float


PAST_CAMPAIGNS = (
    PastCampaign("reactivation_lapsed", "reactivation", ("lapsing", "lapsed"), 75, 30, 0.05, 0.15, 0.15),
    PastCampaign("webinar_invite", "acquisition", ("none",), 110, 60, 0.02, 0.04, 0.10),
    # no effect: the interval should cover zero and the test find nothing
    PastCampaign(
        "cross_sell_active", "spend", ("new", "active", "repeat", "advocate"), 70, 30, 0.08, 0.0, 0.10
    ),
)


def assign_groups(
    rng: np.random.Generator, n: int, global_held: np.ndarray, campaign_share: float
) -> np.ndarray:
    """'held_out_global' | 'held_out_campaign' | 'treated' per eligible person (global holdout first)."""
    campaign_held = rng.random(n) < campaign_share
    return np.where(global_held, "held_out_global", np.where(campaign_held, "held_out_campaign", "treated"))


def simulate_conversions(
    rng: np.random.Generator, groups: np.ndarray, control_rate: float, true_effect: float
) -> np.ndarray:
    rate = np.where(groups == "treated", control_rate + true_effect, control_rate)
    return rng.random(len(groups)) < rate


@dataclass
class PastCampaignOutput:
    assignments: pd.DataFrame  # person_idx, email, hs_record_id, campaign_id, group, converted, slot_at, ...
    effects: pd.DataFrame


def simulate(
    contacts: pd.DataFrame, profile_names: np.ndarray, as_of: pd.Timestamp, rng: np.random.Generator
) -> PastCampaignOutput:
    """contacts: one HubSpot marketing contact per person (person_idx, email, hs_record_id);
    profile_names: every person's buyer profile name ('none' without)."""
    n_persons = len(profile_names)
    global_held = rng.random(n_persons) < GLOBAL_HOLDOUT_SHARE
    frames, effects = [], []
    for spec in PAST_CAMPAIGNS:
        who = contacts[np.isin(profile_names[contacts["person_idx"].to_numpy()], spec.audience)]
        slot = as_of.normalize() - pd.Timedelta(days=spec.days_before_as_of) + pd.Timedelta(hours=10)
        groups = assign_groups(
            rng, len(who), global_held[who["person_idx"].to_numpy()], spec.campaign_holdout_share
        )
        converted = simulate_conversions(rng, groups, spec.control_rate, spec.true_effect)
        sent_at = slot + pd.to_timedelta(rng.integers(0, 3600, size=len(who)), unit="s")
        # a conversion: a deal created 1 to window-3 days after the slot, won within two days
        created = slot + pd.to_timedelta(
            rng.integers(86_400, (spec.window_days - 3) * 86_400, size=len(who)), unit="s"
        )
        closed = (created + pd.to_timedelta(rng.integers(0, 2, size=len(who)), unit="D")).normalize()
        frames.append(
            who.assign(
                campaign_id=spec.campaign_id,
                objective=spec.objective,
                group=groups,
                converted=converted,
                slot_at=slot,
                sent_at=np.where(groups == "treated", sent_at, pd.NaT),
                deal_created_at=created,
                deal_closed_on=closed,
                opened=(groups == "treated")
                & (rng.random(len(who)) < 0.35)
                & (spec.objective != "reactivation"),
                amount=np.round(np.exp(rng.normal(8.8, 0.6, size=len(who))), -2).clip(500, 100_000),
            )
        )
        treated, control = groups == "treated", groups != "treated"
        effects.append(
            {
                "campaign_id": spec.campaign_id,
                "objective": spec.objective,
                "slot_at": slot,
                "window_days": spec.window_days,
                "control_rate": spec.control_rate,
                "treated_rate": spec.control_rate + spec.true_effect,
                "true_effect": spec.true_effect,
                "eligible": len(who),
                "treated_n": int(treated.sum()),
                "treated_conversions": int((converted & treated).sum()),
                "control_n": int(control.sum()),
                "control_conversions": int((converted & control).sum()),
                "held_out_global": int((groups == "held_out_global").sum()),
                "held_out_campaign": int((groups == "held_out_campaign").sum()),
            }
        )
    return PastCampaignOutput(pd.concat(frames, ignore_index=True), pd.DataFrame(effects))


def _epoch(values) -> np.ndarray:
    return pd.DatetimeIndex(values).astype("datetime64[s]").astype(np.int64).to_numpy()


def write_events(out: PastCampaignOutput, path: Path, rng: np.random.Generator) -> int:
    """The sends as SendGrid Event Webhook JSON: processed, delivered, and some opens, with custom_args."""
    sent = out.assignments[out.assignments["group"] == "treated"].reset_index(drop=True)
    n = len(sent)
    t0 = _epoch(sent["sent_at"])
    send_ids = [rng.bytes(16).hex() for _ in range(n)]
    message_ids = [f"{rng.bytes(11).hex()}.filterdrecv-{rng.integers(100, 999)}" for _ in range(n)]
    events = []
    for i in range(n):
        base = {
            "email": sent.at[i, "email"],
            "smtp-id": f"<{message_ids[i][:22]}@touchplan.example>",
            "category": [sent.at[i, "campaign_id"]],
            "sg_message_id": message_ids[i],
            "campaign_id": sent.at[i, "campaign_id"],
            "touchplan_send_id": send_ids[i],
        }
        kinds = [("processed", 0), ("delivered", int(rng.integers(1, 30)))]
        if sent.at[i, "opened"]:
            kinds.append(("open", int(rng.integers(600, 2 * 86_400))))
        for event, offset in kinds:
            events.append(
                {
                    **base,
                    "timestamp": int(t0[i]) + offset,
                    "event": event,
                    "sg_event_id": rng.bytes(11).hex(),
                }
            )
    events.sort(key=lambda e: e["timestamp"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(events, indent=None).replace("}, {", "},\n{") + "\n", encoding="utf-8")
    return len(events)


def history_rows(out: PastCampaignOutput) -> pd.DataFrame:
    """Every eligible person's decision, keyed by email (_history/contact_decisions.csv)."""
    a = out.assignments
    treated = a["group"] == "treated"
    slot = pd.Series(pd.DatetimeIndex(a["slot_at"]).strftime("%Y-%m-%d %H:%M:%S"), index=a.index)
    return pd.DataFrame(
        {
            "email": a["email"],
            "campaign_id": a["campaign_id"],
            "outcome": np.where(treated, "planned", "held_out"),
            "reason_code": np.where(
                treated,
                "due",
                np.where(a["group"] == "held_out_global", "global_holdout", "campaign_holdout"),
            ),
            "due_at": slot,
            "scheduled_at": np.where(treated, slot, ""),
            "plan_run_id": "past-" + pd.DatetimeIndex(a["slot_at"]).strftime("%Y%m%d"),
        }
    )


def hubspot_deals(out: PastCampaignOutput, company: np.ndarray, first_id: int, owner: str) -> pd.DataFrame:
    """The conversions as HubSpot deal export rows (HS_DEAL_COLUMNS), won on their close day."""
    won = out.assignments[out.assignments["converted"]].reset_index(drop=True)
    return pd.DataFrame(
        {
            "Record ID": (first_id + np.arange(len(won))).astype(str),
            "Deal Name": company[won["person_idx"].to_numpy()] + " - Touchplan follow-up",
            "Deal Stage": "Closed Won",
            "Amount": won["amount"].map("{:.0f}".format).to_numpy(),
            "Close Date": pd.DatetimeIndex(won["deal_closed_on"]).strftime("%Y-%m-%d %H:%M").to_numpy(),
            "Create Date": pd.DatetimeIndex(won["deal_created_at"]).strftime("%Y-%m-%d %H:%M").to_numpy(),
            "Pipeline": "Sales Pipeline",
            "Deal owner": owner,
            "Associated Contact IDs": won["hs_record_id"].to_numpy(),
            "Associated Company": company[won["person_idx"].to_numpy()],
        }
    )
